import { describe, expect, it } from 'vitest';
import { appPortVariable, appTemplateFiles, renderTemplate, templateVariables } from '../../src/apache/template-render';

describe('template rendering', () => {
  const vars = templateVariables({ app: 'adara', port: 8081, domain: 'adara.example', portMapFile: '/m/adara.map', httpPort: 80 });

  it('substitutes slipway variables in both forms and leaves Apache variables alone', () => {
    const template =
      'ProxyPass / http://127.0.0.1:$ADARA_PORT/\nProxyPassReverse / http://127.0.0.1:${ADARA_PORT}/\n' +
      'ServerName ${DOMAIN}\nErrorLog ${APACHE_LOG_DIR}/error.log\nCustomLog $APACHE_LOG_DIR/x combined\n# ${PORT} for ${APP}';
    expect(renderTemplate(template, vars)).toBe(
      'ProxyPass / http://127.0.0.1:8081/\nProxyPassReverse / http://127.0.0.1:8081/\n' +
        'ServerName adara.example\nErrorLog ${APACHE_LOG_DIR}/error.log\nCustomLog $APACHE_LOG_DIR/x combined\n# 8081 for adara',
    );
  });
  it('does not treat a longer name as a known one ($PORTS is not $PORT)', () => {
    expect(renderTemplate('$PORTS ${PORTX} $PORT', vars)).toBe('$PORTS ${PORTX} 8081');
  });
  it('leaves RewriteMap lookups for Apache', () => {
    expect(renderTemplate('${${MAP}:upstream}', { MAP: 'm' })).toBe('${m:upstream}');
  });
  it('names the seed variable after the app', () => {
    expect(appPortVariable('shop-api')).toBe('SHOP_API_PORT');
  });
  it("finds an app's templates but not a longer app's", () => {
    const files = ['shop.conf.template', 'shop-ssl.conf.template', 'shop-api.conf.template', 'shop-api-ssl.conf.template', 'shop.conf', 'other.conf.template', 'shopping.conf.template'];
    expect(appTemplateFiles(files, 'shop', ['shop', 'shop-api'])).toEqual(['shop-ssl.conf.template', 'shop.conf.template']);
    expect(appTemplateFiles(files, 'shop-api', ['shop', 'shop-api'])).toEqual(['shop-api-ssl.conf.template', 'shop-api.conf.template']);
  });
});
