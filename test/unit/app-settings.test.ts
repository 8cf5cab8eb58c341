import { describe, expect, it } from 'vitest';
import { AppSettingsError, DEFAULT_APP_SETTINGS, parseAppSettings } from '../../src/app-settings';

describe('slipway.json', () => {
  it('gives the defaults without a file', () => {
    expect(parseAppSettings(undefined)).toEqual(DEFAULT_APP_SETTINGS);
  });
  it('reads every field', () => {
    const settings = parseAppSettings(
      JSON.stringify({
        healthcheck: { path: '/actuator/health', timeout: 90 },
        port_env: 'server_port',
        env: { SPRING_PROFILES_ACTIVE: 'prod', WORKERS: 4 },
        volumes: ['/srv/data:/data', '/etc/app:/config:ro'],
        domain: 'Example.COM',
        branch: 'production',
        tags: 'release-*',
        watch: 0,
        drain_timeout: 5,
      }),
    );
    expect(settings).toEqual({
      healthcheck: { path: '/actuator/health', timeoutSeconds: 90 },
      portEnv: 'server_port',
      env: { SPRING_PROFILES_ACTIVE: 'prod', WORKERS: '4' },
      volumes: ['/srv/data:/data', '/etc/app:/config:ro'],
      domain: 'example.com',
      aliases: [],
      tls: 'off',
      branch: 'production',
      tagPattern: 'release-*',
      watchSeconds: 0,
      drainTimeoutSeconds: 5,
    });
  });
  it.each([
    ['{', /not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{"helthcheck":{}}', /unknown field "helthcheck"/],
    ['{"healthcheck":{"path":"health"}}', /healthcheck.path must start with "\/"/],
    ['{"healthcheck":{"timeout":-1}}', /healthcheck.timeout/],
    ['{"healthcheck":{"timeout":"60"}}', /healthcheck.timeout/],
    ['{"port_env":"server port"}', /port_env/],
    ['{"env":{"A B":"x"}}', /env key/],
    ['{"env":{"A":{}}}', /env.A must be/],
    ['{"volumes":"/a:/b"}', /volumes must be an array/],
    ['{"volumes":["relative:/b"]}', /volumes\[0\]/],
    ['{"domain":"exa mple.com"}', /domain/],
    ['{"branch":"a..b"}', /branch/],
    ['{"tags":"v$(x)"}', /tags must be a glob/],
    ['{"watch":-1}', /watch must be a number of seconds/],
    ['{"drain_timeout":"30"}', /drain_timeout/],
    ['{"healthcheck":{"timeout":0}}', /healthcheck.timeout/],
  ])('refuses %s naming the field', (text, message) => {
    expect(() => parseAppSettings(text)).toThrow(AppSettingsError);
    expect(() => parseAppSettings(text)).toThrow(message);
  });
});
