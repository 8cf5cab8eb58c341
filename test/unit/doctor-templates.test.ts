import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkTemplates } from '../../src/doctor/apache';
import { readSettings } from '../../src/settings';

describe('slipway doctor: templates', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-doctor-templates-'));
    await fs.mkdir(path.join(dir, 'home', 'repos', 'seed.git'), { recursive: true });
    await fs.mkdir(path.join(dir, 'home', 'repos', 'plain.git'), { recursive: true });
    await fs.mkdir(path.join(dir, 'sites'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lists a seed-style template with the line that writes the port; an app without one is on the routes vhost', async () => {
    await fs.writeFile(path.join(dir, 'sites', 'seed.conf.template'), '<VirtualHost *:80>\n  ServerName seed.example\n  ProxyPass / http://127.0.0.1:$SEED_PORT/\n</VirtualHost>\n');
    const settings = readSettings({ SLIPWAY_HOME: path.join(dir, 'home'), SLIPWAY_APACHE_SITES: path.join(dir, 'sites') });
    const results = await checkTemplates(settings);
    expect(results.find((r) => r.name === 'template seed')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('writes the port into the vhost at seed.conf.template line 3 (ProxyPass / http://127.0.0.1:$SEED_PORT/), so every deploy reloads Apache'),
    });
    expect(results.find((r) => r.name === 'template plain')).toMatchObject({ status: 'ok', detail: expect.stringContaining('routed by 00-slipway-routes.conf through the host map') });
  });
});
