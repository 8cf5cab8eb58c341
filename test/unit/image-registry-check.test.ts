import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkImageRegistry, imageRegistryFiles } from '../../src/cluster/image-registry';
import { registryConfigText } from '../../src/docker/registry-config';
import { checkRegistry } from '../../src/doctor/registry';
import { readSettings } from '../../src/settings';
import { freePort } from '../support/free-port';

let home: string;
let certsDir: string;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'swreg-check-'));
  certsDir = path.join(home, 'certs.d');
});

afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

/** Leaves the files of a registry that once ran on 127.0.0.1:`port` under `home`. */
async function registryRanOn(port: number): Promise<string> {
  const files = imageRegistryFiles(home);
  await fs.mkdir(files.dir, { recursive: true });
  const config = registryConfigText({ address: '127.0.0.1', port, certPath: '/c.crt', keyPath: '/c.key', storageDir: files.storageDir, htpasswdFile: files.htpasswdFile });
  await fs.writeFile(files.configFile, config);
  await fs.writeFile(files.passwordFile, 'secret\n');
  return `127.0.0.1:${port}`;
}

describe("slipway doctor's registry check", () => {
  it('finds no registry in a home where none ran, and needs none for save-load', async () => {
    expect(await checkImageRegistry(home, certsDir)).toEqual({ state: 'none' });
    const [none] = await checkRegistry(readSettings({ SLIPWAY_HOME: home }));
    expect(none).toMatchObject({ status: 'ok', detail: expect.stringContaining('a single host needs none') as unknown });
    const [saveLoad] = await checkRegistry(readSettings({ SLIPWAY_HOME: home, SLIPWAY_IMAGE_TRANSPORT: 'save-load' }));
    expect(saveLoad).toMatchObject({ status: 'ok', detail: expect.stringContaining('docker save | docker load') as unknown });
  });

  it('says when the Engine has no CA for the registry', async () => {
    const endpoint = await registryRanOn(await freePort());
    expect(await checkImageRegistry(home, certsDir)).toEqual({ state: 'untrusted', endpoint, caFile: path.join(certsDir, endpoint, 'ca.crt') });
  });

  it('says when the registry does not answer', async () => {
    const endpoint = await registryRanOn(await freePort());
    await fs.mkdir(path.join(certsDir, endpoint), { recursive: true });
    await fs.writeFile(path.join(certsDir, endpoint, 'ca.crt'), 'not a certificate');
    const health = await checkImageRegistry(home, certsDir);
    expect(health).toMatchObject({ state: 'down', endpoint });
    expect(health.state === 'down' && health.problem).toContain(`the image registry at ${endpoint} cannot be reached`);
  });

  it('refuses a bad SLIPWAY_IMAGE_TRANSPORT', () => {
    expect(() => readSettings({ SLIPWAY_IMAGE_TRANSPORT: 'rsync' })).toThrow(/SLIPWAY_IMAGE_TRANSPORT/);
  });
});
