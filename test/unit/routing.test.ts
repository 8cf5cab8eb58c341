import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApacheSites, ROUTES_VHOST_FILE } from '../../src/apache/apache-sites';
import { configtestCulprit, configtestFailure } from '../../src/apache/configtest-output';
import { HostMap, hostMapContent, HostTakenError, parseHostMap, withAppRoutes } from '../../src/apache/host-map';
import { portDependentLines, portLineWarnings } from '../../src/apache/port-dependence';

describe('host map', () => {
  it('round-trips routes sorted by host, the app in a third column Apache ignores', () => {
    const text = hostMapContent([
      { host: 'b.example', upstream: '127.0.0.1:8082', app: 'b' },
      { host: 'a.example', upstream: '127.0.0.1:8081', app: 'a' },
    ]);
    expect(text.split('\n').slice(2)).toEqual(['a.example 127.0.0.1:8081 a', 'b.example 127.0.0.1:8082 b', '']);
    expect(parseHostMap(text).map((r) => r.app)).toEqual(['a', 'b']);
    expect(parseHostMap(undefined)).toEqual([]);
  });

  it("replaces one app's lines and refuses a host another app holds", () => {
    const routes = [{ host: 'a.example', upstream: '127.0.0.1:8081', app: 'a' }];
    expect(withAppRoutes(routes, 'a', ['a.example'], '127.0.0.1:8090')).toEqual([{ host: 'a.example', upstream: '127.0.0.1:8090', app: 'a' }]);
    expect(withAppRoutes(routes, 'a', [], undefined)).toEqual([]);
    expect(() => withAppRoutes(routes, 'b', ['a.example'], '127.0.0.1:8082')).toThrow(HostTakenError);
  });

  it('keeps every change when several writers update it at once (the lock)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-hostmap-'));
    const map = new HostMap(path.join(dir, 'hosts.map'));
    await Promise.all(Array.from({ length: 12 }, (_, i) => map.update((routes) => withAppRoutes(routes, `app${i}`, [`app${i}.localhost`], `127.0.0.1:${8000 + i}`))));
    expect((await map.read()).length).toBe(12);
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('configtest output', () => {
  const nested =
    "apache2: Syntax error on line 58 of /etc/apache2/apache2.conf: Syntax error on line 2 of /etc/apache2/sites-enabled/shop.conf: Invalid command 'NoSuchDirective', perhaps misspelled\n";
  it('names the innermost file and line', () => {
    expect(configtestCulprit(nested)).toMatchObject({ file: '/etc/apache2/sites-enabled/shop.conf', line: 2 });
    expect(configtestCulprit('AH00526: Syntax error on line 7 of /x/y.conf:\nRewriteMap: file for map slipway_zdd not found\n')).toEqual({
      file: '/x/y.conf',
      line: 7,
      complaint: 'RewriteMap: file for map slipway_zdd not found',
    });
    expect(configtestCulprit('Syntax OK')).toBeUndefined();
  });

  it("blames a file slipway did not write, and keeps slipway's own message for its own files", () => {
    expect(configtestFailure(nested, [], 'fallback')).toContain('because of /etc/apache2/sites-enabled/shop.conf (line 2');
    expect(configtestFailure(nested, ['/etc/apache2/sites-enabled/shop.conf'], 'fallback')).toBe('fallback');
  });
});

describe('port-dependent template lines', () => {
  it('names the lines that change with the port, numbered as in the template', () => {
    const template = '<VirtualHost *:80>\n  ServerName ${DOMAIN}\n  ProxyPass / http://127.0.0.1:$ADARA_PORT/\n</VirtualHost>\n';
    const vars = (port: number) => ({ DOMAIN: 'adara.example', ADARA_PORT: String(port) });
    expect(portDependentLines(template, vars(8080), vars(8081))).toEqual([{ line: 3, text: 'ProxyPass / http://127.0.0.1:$ADARA_PORT/' }]);
    expect(portLineWarnings([{ template: '/s/adara.conf.template', line: 3, text: 'ProxyPass /' }])[0]).toBe('       ! /s/adara.conf.template line 3 writes the port into the vhost: ProxyPass /');
    expect(portLineWarnings([])).toEqual([]);
  });
});

describe('ApacheSites with the routes vhost', () => {
  let dir: string;
  let sites: ApacheSites;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-routes-'));
    await fs.mkdir(path.join(dir, 'sites'));
    sites = new ApacheSites({
      sitesDir: path.join(dir, 'sites'),
      mapsDir: path.join(dir, 'slipway-maps'),
      legacyMapsDir: path.join(dir, 'home', 'apache'),
      // Nothing listens here: the routes vhost check says "down", so nothing reloads.
      httpPort: 1,
      ctl: { configtest: async () => ({ ok: true, output: '' }), graceful: async () => undefined },
    });
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('an app without a template gets host map lines, no vhost of its own; the pre-0.2 port map path links to the new one', async () => {
    const site = await sites.render('shop', 8081, 'Shop.Example', []);
    expect(site.files).toEqual([]);
    expect(site.shared.map((f) => path.basename(f.path))).toEqual([ROUTES_VHOST_FILE]);
    expect(site.shared[0].content).toContain(`RewriteMap slipway_hosts "rnd:${path.join(dir, 'slipway-maps', 'hosts.map')}"`);
    expect(site.hostRoute).toEqual({ hosts: ['shop.example'], upstream: '127.0.0.1:8081' });
    const snapshot = await sites.apply(site);
    expect(await sites.isApplied(site)).toBe(true);
    expect(await fs.readFile(path.join(dir, 'slipway-maps', 'hosts.map'), 'utf8')).toContain('shop.example 127.0.0.1:8081 shop\n');
    expect(await fs.readlink(path.join(dir, 'home', 'apache', 'shop.map'))).toBe(path.join(dir, 'slipway-maps', 'shop.map'));
    // Several web replicas: one host map value, spread by the routes vhost's rnd: map.
    await sites.apply(await sites.render('shop', [8082, 8083, 8084], 'shop.example', []));
    expect(await fs.readFile(path.join(dir, 'slipway-maps', 'hosts.map'), 'utf8')).toContain('shop.example 127.0.0.1:8082|127.0.0.1:8083|127.0.0.1:8084 shop\n');
    expect(await fs.readFile(path.join(dir, 'slipway-maps', 'shop.map'), 'utf8')).toContain('upstream 127.0.0.1:8082|127.0.0.1:8083|127.0.0.1:8084\n');
    await sites.restore(snapshot);
    expect(await sites.hostMap.routesOf('shop')).toEqual([]);
  });

  it('removes what slipway rendered for apps it no longer has, and legacy default vhosts of routed apps; never a foreign file', async () => {
    await sites.apply(await sites.render('kept', 8081, 'kept.localhost', []));
    await sites.apply(await sites.render('gone', 8082, 'gone.localhost', []));
    const header = (app: string) => `# Rendered by slipway for app "${app}" (from slipway's templates/default.conf.template).\n<VirtualHost *:80>\n</VirtualHost>\n`;
    await fs.writeFile(path.join(dir, 'sites', 'kept.conf'), header('kept'));
    await fs.writeFile(path.join(dir, 'sites', 'gone.conf'), header('gone'));
    await fs.writeFile(path.join(dir, 'sites', 'operator.conf'), '<VirtualHost *:80>\n</VirtualHost>\n');
    const said = await sites.removeStale(new Set(['kept']));
    expect(said.join('\n')).toContain('slipway has no app gone any more');
    expect((await fs.readdir(path.join(dir, 'sites'))).sort()).toEqual([ROUTES_VHOST_FILE, 'operator.conf']);
    expect((await sites.hostMap.read()).map((r) => r.app)).toEqual(['kept']);
    expect(await fs.readdir(path.join(dir, 'slipway-maps'))).not.toContain('gone.map');
  });
});
