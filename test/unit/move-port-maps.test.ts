import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostMap } from '../../src/apache/host-map';
import { movePortMaps } from '../../src/state/migrations/move-port-maps';
import { HOST_MAP_FORMAT } from '../../src/state/host-map-format';
import { decodeStateText } from '../../src/state/state-format';

describe('port-maps-beside-sites', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-move-maps-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('moves each port map under the home beside the sites directory, leaves a symlink, and is safe to run twice', async () => {
    const legacy = path.join(dir, 'home', 'apache');
    const maps = path.join(dir, 'slipway-maps');
    await fs.mkdir(legacy, { recursive: true });
    await fs.writeFile(path.join(legacy, 'shop.map'), '# slipway port map, format 3\nupstream 127.0.0.1:8081\n');
    expect(await movePortMaps(legacy, maps)).toEqual([path.join(legacy, 'shop.map')]);
    expect(await fs.readlink(path.join(legacy, 'shop.map'))).toBe(path.join(maps, 'shop.map'));
    expect(await fs.readFile(path.join(legacy, 'shop.map'), 'utf8')).toBe('# slipway port map, format 3\nupstream 127.0.0.1:8081\n');
    expect(await movePortMaps(legacy, maps)).toEqual([]);
    expect(await movePortMaps(path.join(dir, 'nothing'), maps)).toEqual([]);
  });
});

describe('host map format 1', () => {
  it('reads its own lines (replica lists, maintenance) and refuses a newer format without touching it', async () => {
    const ok = '# slipway host map, format 1\n# comment\nshop.example 127.0.0.1:8081|127.0.0.1:8082 shop\nblog.example 127.0.0.1:7005/.slipway/maintenance/blog blog\n';
    expect(decodeStateText(HOST_MAP_FORMAT, ok, 'hosts.map')).toBe(ok);
    expect(() => decodeStateText(HOST_MAP_FORMAT, '# slipway host map, format 2\n', 'hosts.map')).toThrow(/newer slipway/);
    expect(() => decodeStateText(HOST_MAP_FORMAT, '# slipway host map, format 1\nshop.example nonsense\n', 'hosts.map')).toThrow(/host map/);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-host-map-'));
    try {
      await fs.writeFile(path.join(dir, 'hosts.map'), '# slipway host map, format 2\n');
      await expect(new HostMap(path.join(dir, 'hosts.map')).update((r) => r)).rejects.toThrow(/newer slipway/);
      expect(await fs.readFile(path.join(dir, 'hosts.map'), 'utf8')).toBe('# slipway host map, format 2\n');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
