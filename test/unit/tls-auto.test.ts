import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderAcmeConf } from '../../src/apache/acme-conf';
import { ApacheSites } from '../../src/apache/apache-sites';
import { describeCertificate, parseMdStatus, type CertificateState } from '../../src/apache/md-status';
import { parseAppSettings } from '../../src/app-settings';
import { missingTlsModules, resolvesHere } from '../../src/doctor/tls';
import { readSettings } from '../../src/settings';
import { appTlsNames } from '../../src/tls/app-tls';
import { checkCertificates, type CertificateWatcherDeps } from '../../src/tls/certificate-watcher';

const AGREED = { SLIPWAY_ACME_AGREE_TOS: '1' };

describe('slipway.json: tls and aliases', () => {
  it('reads "tls": "auto" and aliases (lowercased, without duplicates or the domain itself)', () => {
    const s = parseAppSettings(JSON.stringify({ domain: 'Shop.Example.com', aliases: ['WWW.shop.example.com', 'shop.example.com', 'www.shop.example.com'], tls: 'auto' }));
    expect(s.tls).toBe('auto');
    expect(s.aliases).toEqual(['www.shop.example.com']);
    expect(parseAppSettings(undefined).tls).toBe('off');
  });
  it('refuses bad values naming the field', () => {
    expect(() => parseAppSettings('{"tls":"on"}')).toThrow('slipway.json: tls: expected "auto" or "off", got "on"');
    expect(() => parseAppSettings('{"aliases":"www.x.com"}')).toThrow('slipway.json: aliases: expected an array');
    expect(() => parseAppSettings('{"aliases":["ok.example","bad host"]}')).toThrow('slipway.json: aliases[1]: expected a host name, got "bad host"');
    expect(() => parseAppSettings('{"aliases":["x\\"; Include /etc/passwd"]}')).toThrow('expected a host name');
  });
});

describe('appTlsNames', () => {
  const acme = readSettings(AGREED).acme;
  const settings = (json: object) => parseAppSettings(JSON.stringify(json));
  it("is the domain then the aliases; the operator's override wins both ways", () => {
    expect(appTlsNames(settings({ domain: 'a.example', aliases: ['b.example'], tls: 'auto' }), {}, acme)).toEqual(['a.example', 'b.example']);
    expect(appTlsNames(settings({ domain: 'a.example', tls: 'auto' }), { tls: 'off' }, acme)).toBeUndefined();
    expect(appTlsNames(settings({ domain: 'a.example' }), { tls: 'auto', domain: 'c.example' }, acme)).toEqual(['c.example']);
  });
  it('refuses what cannot work, in plain words', () => {
    expect(() => appTlsNames(settings({ tls: 'auto' }), {}, acme)).toThrow('tls "auto" needs a domain');
    expect(() => appTlsNames(settings({ domain: '*.example.com', tls: 'auto' }), {}, acme)).toThrow('cannot get a certificate for the wildcard');
    expect(() => appTlsNames(settings({ domain: 'a.example', tls: 'auto' }), {}, readSettings({}).acme)).toThrow('set SLIPWAY_ACME_AGREE_TOS=1');
  });
});

describe('SLIPWAY_ACME_* settings', () => {
  it("defaults to Let's Encrypt production, terms not agreed", () => {
    const { acme } = readSettings({});
    expect(acme).toEqual({ ca: 'https://acme-v02.api.letsencrypt.org/directory', email: undefined, caTrust: undefined, termsAgreed: false, httpsPort: 443 });
  });
  it('refuses a CA that is not https, a bad email, a relative trust file, and anything that could break out of a directive', () => {
    expect(() => readSettings({ SLIPWAY_ACME_CA: 'http://ca.example/dir' })).toThrow('environment: SLIPWAY_ACME_CA: expected an https:// URL of an ACME directory, got "http://ca.example/dir"');
    expect(() => readSettings({ SLIPWAY_ACME_CA: 'https://ca.example/dir"\nInclude /x' })).toThrow('SLIPWAY_ACME_CA: expected an https:// URL');
    expect(() => readSettings({ SLIPWAY_ACME_EMAIL: 'not-an-email' })).toThrow('SLIPWAY_ACME_EMAIL: expected an email address');
    expect(() => readSettings({ SLIPWAY_ACME_CA_TRUST: 'ca.pem' })).toThrow('SLIPWAY_ACME_CA_TRUST: expected an absolute file path');
    expect(() => readSettings({ SLIPWAY_ACME_AGREE_TOS: 'yes' })).toThrow('SLIPWAY_ACME_AGREE_TOS: expected 1');
  });
});

describe('mod_md server-wide settings file', () => {
  it('agrees to the terms only when told; maps ports only when they are not 80/443', () => {
    const plain = renderAcmeConf(readSettings({}).acme, 80);
    expect(plain).toContain('MDCertificateAuthority https://acme-v02.api.letsencrypt.org/directory');
    expect(plain).not.toContain('MDCertificateAgreement');
    expect(plain).not.toContain('MDPortMap');
    const test = renderAcmeConf(readSettings({ ...AGREED, SLIPWAY_ACME_EMAIL: 'ops@example.com', SLIPWAY_ACME_CA_TRUST: '/tmp/ca.pem', SLIPWAY_APACHE_HTTPS_PORT: '8443' }).acme, 8080);
    expect(test).toContain('MDCertificateAgreement accepted');
    expect(test).toContain('MDContactEmail ops@example.com');
    expect(test).toContain('MDCACertificateFile "/tmp/ca.pem"');
    expect(test).toContain('MDPortMap http:8080 https:8443');
  });
});

/** md-status as mod_md 2.6 printed it in this machine's Apache, trimmed: a certificate in service and a renewed one staged. */
const STATUS = {
  version: '2.6.10',
  'managed-domains': [
    {
      name: 'app.example.test',
      domains: ['app.example.test', 'www.app.example.test'],
      state: 2,
      cert: { rsa: { 'issuer-name': '/CN=Pebble Intermediate CA 3be155', valid: { from: 'Thu, 03 Dec 2026 20:29:13 GMT', until: 'Thu, 03 Dec 2099 20:31:12 GMT' }, serial: '35F9DCBD58FFED98' } },
      'renew-at': 'Thu, 03 Dec 2026 20:30:33 GMT',
      renewal: {
        name: 'app.example.test',
        finished: true,
        errors: 0,
        last: { status: 0 },
        cert: { rsa: { 'issuer-name': '/CN=Pebble Intermediate CA 3be155', valid: { from: 'Thu, 03 Dec 2026 20:30:40 GMT', until: 'Thu, 03 Dec 2099 20:32:39 GMT' }, serial: '30F88DA651B480BE' } },
      },
    },
    {
      name: 'new.example.test',
      domains: ['new.example.test'],
      state: 1,
      cert: {},
      renewal: { finished: false, errors: 2, last: { status: 22, problem: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'not allowed' } },
    },
  ],
};

describe('md-status', () => {
  it('reads the certificate in service, the staged one, and the last error', () => {
    const [renewed, failing] = parseMdStatus(STATUS);
    expect(renewed).toMatchObject({ name: 'app.example.test', state: 'valid', active: { serial: '35F9DCBD58FFED98' }, staged: { serial: '30F88DA651B480BE' }, needsReload: true });
    expect(failing).toMatchObject({ name: 'new.example.test', state: 'error', needsReload: false, lastError: 'urn:ietf:params:acme:error:rejectedIdentifier: not allowed' });
    expect(describeCertificate(renewed)).toMatch(/^valid until Thu, 03 Dec 2099 20:31:12 GMT; renewal due .*; new certificate ready \(serial 30F88DA651B480BE\)/);
  });
  it('needs no reload once the staged certificate is the one in service', () => {
    const md = structuredClone(STATUS['managed-domains'][0]) as Record<string, unknown>;
    (md.renewal as Record<string, unknown>).cert = md.cert;
    expect(parseMdStatus({ 'managed-domains': [md] })[0].needsReload).toBe(false);
    expect(() => parseMdStatus({ nothing: true })).toThrow('no "managed-domains"');
  });
});

describe('the certificate watcher', () => {
  const ready: CertificateState = { name: 'a.example', domains: ['a.example'], state: 'valid', staged: { serial: '02' }, needsReload: true };
  const deps = (over: Partial<CertificateWatcherDeps> & { reloads: string[]; held: Set<string> }): CertificateWatcherDeps => ({
    apache: { tlsSites: async () => [{ app: 'a', domain: 'a.example' }], reload: async () => void over.reloads.push('reload') },
    readStatus: async () => [ready],
    listApps: async () => ['a', 'b'],
    tryLockApp: async (app) => {
      if (over.held.has(app)) return undefined;
      over.held.add(app);
      return { release: async () => void over.held.delete(app) };
    },
    log: pino({ level: 'silent' }),
    ...over,
  });
  it('does not reload while any app deploys, and releases the locks it took', async () => {
    const reloads: string[] = [];
    const held = new Set(['b']);
    expect(await checkCertificates(deps({ reloads, held }))).toEqual({ kind: 'waiting', certificates: ['a.example (serial 02)'], busyApp: 'b' });
    expect(reloads).toEqual([]);
    expect([...held]).toEqual(['b']);
  });
  it('reloads when a certificate is ready and nothing deploys; idle otherwise', async () => {
    const reloads: string[] = [];
    const held = new Set<string>();
    expect((await checkCertificates(deps({ reloads, held }))).kind).toBe('reloaded');
    expect(reloads).toEqual(['reload']);
    expect(held.size).toBe(0);
    expect((await checkCertificates(deps({ reloads, held, readStatus: async () => [{ ...ready, staged: undefined, needsReload: false }] }))).kind).toBe('idle');
    expect(reloads).toHaveLength(1);
  });
});

describe('rendering a tls auto app', () => {
  let dir: string;
  let apache: http.Server;
  let port: number;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-tls-'));
    await fs.mkdir(path.join(dir, 'sites'));
    apache = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => apache.listen(0, '127.0.0.1', () => r()));
    port = (apache.address() as { port: number }).port;
  });
  afterEach(async () => {
    apache.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const sites = (ssl: boolean) =>
    new ApacheSites({
      sitesDir: path.join(dir, 'sites'),
      mapsDir: path.join(dir, 'maps'),
      httpPort: port,
      ctl: { configtest: async () => ({ ok: true, output: '' }), graceful: async () => undefined },
      acme: readSettings({ ...AGREED, SLIPWAY_APACHE_HTTPS_PORT: '8443' }).acme,
      ...(ssl ? { ssl: { certFile: '/c.pem', keyFile: '/k.pem', httpsPort: 8443 } } : {}),
    });

  it('renders MDomain, the redirect and an HTTPS vhost without certificate files, and the shared mod_md settings', async () => {
    const site = await sites(false).render('shop', 8081, 'shop.example', [], false, ['shop.example', 'www.shop.example']);
    expect(site.files.map((f) => path.basename(f.path))).toEqual(['shop.conf']);
    const text = site.files[0].content;
    expect(text).toContain('MDomain shop.example www.shop.example');
    expect(text).toContain('<VirtualHost *:8443>');
    expect(text).toContain('SSLEngine on');
    expect(text).not.toContain('SSLCertificateFile "');
    expect(text).toContain('"https://%{SERVER_NAME}:8443%{REQUEST_URI}" [R=301,L]');
    expect(text).toContain('!^/\\.well-known/acme-challenge/');
    expect(text).toContain('# slipway-tls app=shop domain=shop.example');
    expect(site.shared.map((f) => path.basename(f.path))).toEqual(['000-slipway-acme.conf']);
  });

  it("moving from the static-certificate template removes slipway's own <app>-ssl.conf (and restore puts it back); a hand-written one stays, even when the app is removed", async () => {
    const withSsl = sites(true);
    await withSsl.apply(await withSsl.render('shop', 8081, 'shop.example', []));
    const sslFile = path.join(dir, 'sites', 'shop-ssl.conf');
    const before = await fs.readFile(sslFile, 'utf8');
    const snapshot = await withSsl.apply(await withSsl.render('shop', 8081, 'shop.example', [], false, ['shop.example']));
    await expect(fs.access(sslFile)).rejects.toThrow();
    expect(await withSsl.tlsSites()).toEqual([{ app: 'shop', domain: 'shop.example' }]);
    await withSsl.restore(snapshot);
    expect(await fs.readFile(sslFile, 'utf8')).toBe(before);

    await fs.writeFile(path.join(dir, 'sites', 'cart-ssl.conf'), "# the operator's own vhost\n");
    await withSsl.apply(await withSsl.render('cart', 8082, 'cart.example', [], false, ['cart.example']));
    expect(await fs.readFile(path.join(dir, 'sites', 'cart-ssl.conf'), 'utf8')).toBe("# the operator's own vhost\n");
    await sites(false).removeApp('cart', []);
    await expect(fs.access(path.join(dir, 'sites', 'cart.conf'))).rejects.toThrow();
    expect(await fs.readFile(path.join(dir, 'sites', 'cart-ssl.conf'), 'utf8')).toBe("# the operator's own vhost\n");
  });
});

describe('doctor: tls', () => {
  it('names the modules mod_md needs that are not loaded', () => {
    expect(missingTlsModules(new Set(['ssl_module', 'watchdog_module', 'socache_shmcb_module']))).toEqual(['md_module', 'authz_host_module']);
  });
  it("compares resolved addresses with this machine's", () => {
    expect(resolvesHere(['203.0.113.7'], ['127.0.0.1', '10.0.0.2'])).toBe(false);
    expect(resolvesHere(['10.0.0.2'], ['127.0.0.1', '10.0.0.2'])).toBe(true);
  });
});
