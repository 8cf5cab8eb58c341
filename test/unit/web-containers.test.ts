import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApacheSites, DEFAULT_TEMPLATES_DIR, replicaRoutingProblem } from '../../src/apache/apache-sites';
import { choosePorts } from '../../src/deploy/port-choice';
import { pendingWebName, replicaNumber, webContainerName, webReplicas } from '../../src/deploy/web-containers';

describe('web container names', () => {
  it('replica 1 keeps the name of the one web container every earlier slipway ran; others are <app>-web-<n>', () => {
    expect([1, 2, 3].map((n) => webContainerName('shop', n))).toEqual(['shop', 'shop-web-2', 'shop-web-3']);
    expect([1, 2, 3].map((n) => pendingWebName('shop', n))).toEqual(['shop-pending', 'shop-pending-2', 'shop-pending-3']);
  });
  it('reads the replica number back, and nothing else as a web container of the app', () => {
    expect(['shop', 'shop-web-2', 'shop-web-12'].map((n) => replicaNumber('shop', n, 'web'))).toEqual([1, 2, 12]);
    expect(['shop-pending', 'shop-pending-3'].map((n) => replicaNumber('shop', n, 'pending'))).toEqual([1, 3]);
    for (const name of ['shop-web-1', 'shop-web-02', 'shop-worker-1', 'shop-release', 'shop-pending', 'shopx', 'shop-web-']) expect(replicaNumber('shop', name, 'web')).toBeUndefined();
    expect(replicaNumber('shop', 'shop', 'pending')).toBeUndefined();
  });
  it('the count is scale.web of the app config, one when unset', () => {
    expect(webReplicas(undefined)).toBe(1);
    expect(webReplicas({ env: {} })).toBe(1);
    expect(webReplicas({ env: {}, scale: { web: 3, worker: 2 } })).toBe(3);
  });
});

describe('ports for several replicas', () => {
  it('picks the lowest free ports, skipping held and busy ones', async () => {
    expect(await choosePorts({ first: 8000, last: 8010 }, new Set([8001]), async (p) => p !== 8002, 3)).toEqual([8000, 8003, 8004]);
  });
  it('a range too small says how many ports it has and how many the scale needs', async () => {
    await expect(choosePorts({ first: 8000, last: 8002 }, new Set([8000]), async () => true, 3)).rejects.toThrow(
      'the port range 8000-8002 has 2 free port(s), and 3 web containers need 3: widen SLIPWAY_PORT_RANGE or scale web down',
    );
  });
});

describe('replica routing', () => {
  const site = (vhost: string) => ({ files: [{ path: '/sites/shop.conf', content: vhost }], portMap: { path: '/maps/shop.map', content: '' }, links: [], stale: [], shared: [] });
  it('a template that reads the map as txt: cannot spread over several replicas', () => {
    expect(replicaRoutingProblem(site('RewriteMap m "txt:/maps/shop.map"'), 2)).toMatch(/^shop\.conf reads the port map as "txt:", .* 2 web containers need "rnd:"/);
    expect(replicaRoutingProblem(site('RewriteMap m "txt:/maps/shop.map"'), 1)).toBeUndefined();
    expect(replicaRoutingProblem(site('RewriteMap m "rnd:/maps/shop.map"'), 3)).toBeUndefined();
  });
});

describe('the port map and a changed vhost', () => {
  it('a vhost rendered by an older slipway is reloaded before the map lists several ports; a first map goes before the configtest', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-replica-map-'));
    // Stands in for Apache: the after-reload check only needs something answering HTTP.
    const apache = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => apache.listen(0, '127.0.0.1', () => r()));
    const mapFile = path.join(dir, 'maps', 'shop.map');
    const mapAt: string[] = [];
    const readMap = () => fs.readFile(mapFile, 'utf8').catch(() => 'none');
    const sites = new ApacheSites({
      sitesDir: path.join(dir, 'sites'),
      mapsDir: path.join(dir, 'maps'),
      httpPort: (apache.address() as { port: number }).port,
      ctl: { configtest: async () => (mapAt.push(`configtest: ${await readMap()}`), { ok: true, output: '' }), graceful: async () => void mapAt.push(`graceful: ${await readMap()}`) },
    });
    try {
      await fs.mkdir(path.join(dir, 'sites'));
      // An app with its own template (a copy of slipway's starting point): apps without one have no vhost of their own.
      await fs.copyFile(path.join(DEFAULT_TEMPLATES_DIR, 'default.conf.template'), path.join(dir, 'sites', 'shop.conf.template'));
      await sites.apply(await sites.render('shop', 8081, 'shop.localhost', []));
      expect(mapAt).toEqual(['configtest: # slipway port map, format 3\nupstream 127.0.0.1:8081\n', 'graceful: # slipway port map, format 3\nupstream 127.0.0.1:8081\n']);
      // An older slipway's vhost (txt:): its text changes, so Apache reloads while the map still names one port.
      const vhost = path.join(dir, 'sites', 'shop.conf');
      await fs.writeFile(vhost, (await fs.readFile(vhost, 'utf8')).replace('rnd:', 'txt:'));
      // At one web container it stays txt: an upgrade alone changes no vhost (no reload).
      const single = await sites.render('shop', 8082, 'shop.localhost', []);
      expect(single.files[0].content).toContain(`"txt:${mapFile}"`);
      expect(single.files[0].content).toBe(await fs.readFile(vhost, 'utf8'));
      mapAt.length = 0;
      await sites.apply(await sites.render('shop', [8082, 8083], 'shop.localhost', []));
      expect(await fs.readFile(vhost, 'utf8')).toContain(`"rnd:${mapFile}"`);
      expect(mapAt).toEqual(['configtest: # slipway port map, format 3\nupstream 127.0.0.1:8081\n', 'graceful: # slipway port map, format 3\nupstream 127.0.0.1:8081\n']);
      expect(await readMap()).toBe('# slipway port map, format 3\nupstream 127.0.0.1:8082|127.0.0.1:8083\n');
    } finally {
      apache.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
