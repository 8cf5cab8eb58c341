import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApacheSites } from '../../src/apache/apache-sites';
import { DEFAULT_APP_SETTINGS } from '../../src/app-settings';
import { commandLine, runContainerSpec } from '../../src/cli/run-command';
import { parseDashboardRoute } from '../../src/dashboard/dashboard-routes';
import { maintenancePageApp } from '../../src/apps/maintenance-page';

describe('maintenance routing', () => {
  it("the port map points at the container, or at slipway's maintenance page for the app (the one key old vhosts read)", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-maint-'));
    const sites = new ApacheSites({
      sitesDir: dir,
      mapsDir: path.join(dir, 'maps'),
      httpPort: 80,
      ctl: { configtest: async () => ({ ok: true, output: '' }), graceful: async () => undefined },
      maintenanceUpstream: '127.0.0.1:7005',
    });
    await sites.route('shop', { port: 8081, maintenance: true });
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe('# slipway port map, format 3\nupstream 127.0.0.1:7005/.slipway/maintenance/shop\n');
    await sites.route('shop', { port: 8081, maintenance: false });
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe('# slipway port map, format 3\nupstream 127.0.0.1:8081\n');
    expect((await sites.render('shop', 8082, 'shop.localhost', [], true)).portMap.content).toBe('# slipway port map, format 3\nupstream 127.0.0.1:7005/.slipway/maintenance/shop\n');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('slipway answers maintenance paths of valid app names only', () => {
    expect(maintenancePageApp('/.slipway/maintenance/shop/')).toBe('shop');
    expect(maintenancePageApp('/.slipway/maintenance/shop/a/b?c=d')).toBe('shop');
    expect(maintenancePageApp('/.slipway/maintenance/shop')).toBe('shop');
    expect(maintenancePageApp('/.slipway/maintenance/..%2fetc/')).toBeUndefined();
    expect(maintenancePageApp('/.slipway/maintenance/Shop/')).toBeUndefined();
    expect(maintenancePageApp('/shop.git/info/refs')).toBeUndefined();
  });

  it('the dashboard routes control actions as POSTs only', () => {
    expect(parseDashboardRoute('POST', '/apps/shop/maintenance-on')).toEqual({ name: 'control', app: 'shop', action: 'maintenance-on' });
    expect(parseDashboardRoute('POST', '/apps/shop/restart')).toEqual({ name: 'control', app: 'shop', action: 'restart' });
    expect(parseDashboardRoute('GET', '/apps/shop/stop')).toEqual({ name: 'method-not-allowed', allow: 'POST' });
    expect(parseDashboardRoute('POST', '/apps/shop/destroy')).toEqual({ name: 'not-found' });
  });
});

describe('slipway run', () => {
  it('builds the container from the live image, the app env with --env on top, volumes, and the argv as given', () => {
    const settings = { ...DEFAULT_APP_SETTINGS, env: { A: '1', B: 'repo' }, volumes: ['/srv/x:/x'] };
    const spec = runContainerSpec({
      app: 'shop',
      sha: 'f'.repeat(40),
      settings,
      config: { env: { B: 'server', S: 'secret' } },
      extraEnv: { A: 'cli' },
      argv: ['sh', '-c', 'echo $A'],
      suffix: 'abc123',
    });
    expect(spec).toEqual({
      name: 'shop-run-abc123',
      image: `shop:${'f'.repeat(40)}`,
      cmd: ['sh', '-c', 'echo $A'],
      env: { A: 'cli', B: 'server', S: 'secret' },
      labels: { 'slipway.app': 'shop', 'slipway.sha': 'f'.repeat(40), 'slipway.one-off': 'run' },
      volumes: ['/srv/x:/x'],
    });
  });

  it('shows a command line for the audit log with the arguments that need it quoted', () => {
    expect(commandLine(['sh', '-c', 'echo "$VERSION"; exit 7'])).toBe('sh -c "echo \\"$VERSION\\"; exit 7"');
    expect(commandLine(['./manage.py', 'migrate', '--fake=1'])).toBe('./manage.py migrate --fake=1');
  });
});
