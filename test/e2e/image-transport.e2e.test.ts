/**
 * Issue 19, item 2: an image built on the server's Engine reaches another host's Engine through the
 * server's own registry (docker-registry with TLS + htpasswd; the Engines trust it through
 * certs.d), or by `docker save | docker load`, and runs there. One stack for the file: a registry
 * on an address of `lo`, the machine's Engine as the server's, a private dockerd as the host's.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageRegistry, imageRegistryFiles, stopImageRegistry } from '../../src/cluster/image-registry';
import { fetchImage, imageIdOn, loginToRegistry, moveImage, publishImage, removeFetchedImage, streamImage } from '../../src/cluster/image-transport';
import { buildImage } from '../../src/docker/image-build';
import { registryStatus } from '../../src/docker/registry-api';
import { checkRegistry } from '../../src/doctor/registry';
import { readSettings } from '../../src/settings';
import { DOCKER_CERTS_DIR, trustRegistryCa, untrustRegistryCa } from '../../src/docker/registry-trust';
import { run } from '../support/daemon-process';
import { freePort } from '../support/free-port';
import { httpGet } from '../support/http-get';
import { startTransportStack, type TransportStack } from '../support/image-transport-stack';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree } from '../support/test-app';
import { waitUntil } from '../support/wait-until';

let stack: TransportStack;
let app: AppWorktree;
const shas: string[] = [];
/** Bytes the first version's push moved (every layer). */
let firstPushBytes = 0;

/** Builds the busybox app at `version` on the machine's Engine as `<app>:<sha>`, as a deploy's build step does. */
async function buildVersion(version: string): Promise<string> {
  await writeBusyboxApp(app.dir, { version });
  const sha = await commit(app.dir, version);
  await buildImage({ builder: 'buildkit', timeoutSeconds: 300 }, app.dir, [`${app.name}:${sha}`], () => undefined);
  shas.push(sha);
  return sha;
}

/** Runs `<app>:<sha>` on the host's Engine and returns what `/` answers. */
async function runOnHost(sha: string): Promise<string> {
  const port = await freePort();
  const name = `${app.name}-${sha.slice(0, 7)}`;
  const started = await stack.hostDockerd.docker(['run', '-d', '--name', name, '--net=host', '-e', `PORT=${port}`, `${app.name}:${sha}`]);
  expect(started.code, started.output).toBe(0);
  try {
    return await waitUntil(
      'the app on the host',
      async () => (await httpGet(port, '/').catch(() => undefined))?.body.trim(),
      20_000,
      () => '',
    );
  } finally {
    await stack.hostDockerd.docker(['rm', '-f', name]);
  }
}

beforeAll(async () => {
  stack = await startTransportStack();
  app = await createAppWorktree();
});

afterAll(async () => {
  await stack?.stop();
  for (const sha of shas) await run('docker', ['rmi', `${app.name}:${sha}`]);
  await app?.remove();
});

describe('the image registry', () => {
  it('refuses a request without credentials, takes the user, is kept when ensured again, and slipway doctor sees it that way', async () => {
    const { registry } = stack;
    expect(await registryStatus({ endpoint: registry.endpoint, ca: registry.ca })).toBe(401);
    expect(await registryStatus({ endpoint: registry.endpoint, ca: registry.ca, credentials: { user: registry.user, password: 'wrong' } })).toBe(401);
    // Ensured again (a restart of slipway), the running registry is kept: same pid, same password.
    const pidFile = imageRegistryFiles(stack.home).pidFile;
    const pid = await fs.readFile(pidFile, 'utf8');
    expect(await ensureImageRegistry(stack.registryOptions)).toEqual(registry);
    expect(await fs.readFile(pidFile, 'utf8')).toBe(pid);
    const [doctor] = await checkRegistry(readSettings({ ...process.env, SLIPWAY_HOME: stack.home }));
    expect(doctor).toMatchObject({ status: 'ok', detail: expect.stringContaining(`https://${registry.endpoint}/v2/ answers 401`) as unknown });
  });

  it('a second registry on a port already in use fails in plain words and leaves no process', async () => {
    const other = await fs.mkdtemp(path.join(os.tmpdir(), 'swreg-other-'));
    try {
      await expect(ensureImageRegistry({ ...stack.registryOptions, home: other })).rejects.toThrow(/docker-registry exited with \d+ at start: .*address already in use/s);
      expect(await fs.readFile(imageRegistryFiles(other).pidFile, 'utf8').catch(() => 'none')).toBe('none');
    } finally {
      await stopImageRegistry(other);
      await fs.rm(other, { recursive: true, force: true });
    }
  });

  it('a wrong password is refused with the registry named, and a host that never logged in cannot pull', async () => {
    const sha = await buildVersion('v1');
    await loginToRegistry(stack.server, stack.registry);
    firstPushBytes = (await publishImage(stack.server, stack.registry, app.name, sha)).bytes;
    await expect(loginToRegistry(stack.host, { ...stack.registry, password: 'wrong' })).rejects.toThrow(
      new RegExp(`the image registry at ${stack.registry.endpoint.replace(/\./g, '\\.')} as slipway failed: .*401 Unauthorized`),
    );
    await expect(fetchImage(stack.host, stack.registry, app.name, sha)).rejects.toThrow(
      `pulling ${stack.registry.endpoint}/${app.name}:${sha} from the image registry at ${stack.registry.endpoint} failed`,
    );
    expect(await imageIdOn(stack.host, `${app.name}:${sha}`)).toBeUndefined();
    // The Engine trusts the registry through certs.d and nothing else (its address is outside 127/8,
    // where Docker would skip verification): without the CA file even the right password fails.
    await untrustRegistryCa(DOCKER_CERTS_DIR, stack.registry.endpoint);
    try {
      await expect(loginToRegistry(stack.host, stack.registry)).rejects.toThrow(/certificate signed by unknown authority/);
      const [doctor] = await checkRegistry(readSettings({ ...process.env, SLIPWAY_HOME: stack.home }));
      expect(doctor).toMatchObject({ status: 'fail', detail: expect.stringContaining('the Engine has no CA for it') as unknown });
    } finally {
      await trustRegistryCa(DOCKER_CERTS_DIR, stack.registry.endpoint, stack.registry.ca);
    }
  });

  it('publishes once, fetches on the host, runs there; again is a no-op; a new top layer moves only what changed; undo removes it', async () => {
    const [v1] = shas;
    await loginToRegistry(stack.host, stack.registry);
    const serverId = await imageIdOn(stack.server, `${app.name}:${v1}`);

    const published = await publishImage(stack.server, stack.registry, app.name, v1);
    expect(published.skipped).toBe(true);
    const fetched = await fetchImage(stack.host, stack.registry, app.name, v1, serverId);
    expect(fetched.skipped).toBe(false);
    expect(fetched.bytes).toBeGreaterThan(500_000);
    expect(await imageIdOn(stack.host, `${app.name}:${v1}`)).toBe(serverId);
    // The registry name was only a moment's tag: the host and the server keep `<app>:<sha>` alone.
    expect(await imageIdOn(stack.host, `${stack.registry.endpoint}/${app.name}:${v1}`)).toBeUndefined();
    expect(await imageIdOn(stack.server, `${stack.registry.endpoint}/${app.name}:${v1}`)).toBeUndefined();
    expect(await runOnHost(v1)).toBe('version=v1');
    expect((await fetchImage(stack.host, stack.registry, app.name, v1, serverId)).skipped).toBe(true);

    const v2 = await buildVersion('v2');
    const moved = await moveImage('registry', stack.server, stack.host, stack.registry, app.name, v2);
    expect(moved.publish?.skipped).toBe(false);
    expect(moved.fetch.skipped).toBe(false);
    // The test app's busybox is in the image twice: its own bottom layer, which neither the push
    // nor the pull moves again, and the top layer (`COPY . /ctx/`), which changed: about half.
    expect(moved.publish?.bytes).toBeLessThan(firstPushBytes * 0.6);
    expect(moved.fetch.bytes).toBeLessThan(fetched.bytes * 0.6);
    expect(moved.fetch.bytes).toBeGreaterThan(0);
    expect(await runOnHost(v2)).toBe('version=v2');

    await removeFetchedImage(stack.host, app.name, v2);
    expect(await imageIdOn(stack.host, `${app.name}:${v2}`)).toBeUndefined();
    expect(await imageIdOn(stack.host, `${app.name}:${v1}`)).toBe(serverId);
  });
});

describe('save | load', () => {
  it('streams the whole image into the host Engine, where it runs; a second time is a no-op', async () => {
    const [v1, v2] = shas;
    await removeFetchedImage(stack.host, app.name, v1);
    const streamed = await streamImage(stack.server, stack.host, app.name, v2);
    expect(streamed.skipped).toBe(false);
    // The whole image every time, busybox included.
    expect(streamed.bytes).toBeGreaterThan(1_000_000);
    expect(await imageIdOn(stack.host, `${app.name}:${v2}`)).toBe(await imageIdOn(stack.server, `${app.name}:${v2}`));
    expect(await runOnHost(v2)).toBe('version=v2');
    expect((await moveImage('save-load', stack.server, stack.host, stack.registry, app.name, v2)).fetch.skipped).toBe(true);
  });
});
