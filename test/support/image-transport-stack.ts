/**
 * What image transport tests and the transport benchmark run against: the cluster's registry as
 * slipway runs it (docker-registry with TLS from the cluster CA and htpasswd auth, on an address of
 * `lo` outside 127/8 so that the Engine really verifies its certificate through certs.d), the
 * machine's Docker Engine as the server's, and a private dockerd as another host's Engine.
 *
 * Cleans up only what it made: the registry process (by pid), the host dockerd, its own
 * `/etc/docker/certs.d/<address:port>/` directory, the address, its temp homes.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureClusterCertificates } from '../../src/cluster/cluster-ca';
import { ensureImageRegistry, stopImageRegistry, type ImageRegistry } from '../../src/cluster/image-registry';
import type { EngineCli } from '../../src/cluster/image-transport';
import { DOCKER_CERTS_DIR, untrustRegistryCa } from '../../src/docker/registry-trust';
import { startDockerd, type DockerdInstance } from './dockerd-instance';
import { freePort } from './free-port';
import { addLoopbackAddress } from './loopback-address';

export interface TransportStack {
  /** The server's SLIPWAY_HOME (the registry's files are under `registry/`). */
  home: string;
  registry: ImageRegistry;
  /** What the registry was ensured with (ensuring it again must keep the running one). */
  registryOptions: Parameters<typeof ensureImageRegistry>[0];
  /** The machine's Engine, with the server's private DOCKER_CONFIG. */
  server: EngineCli;
  /** The private dockerd, with the host's own DOCKER_CONFIG (not logged in yet). */
  host: EngineCli;
  hostDockerd: DockerdInstance;
  stop(): Promise<void>;
}

export async function startTransportStack(): Promise<TransportStack> {
  const undo: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    const loopback = await addLoopbackAddress();
    undo.push(() => loopback.remove());
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'swreg-'));
    undo.push(() => fs.rm(home, { recursive: true, force: true }));
    const certificates = await ensureClusterCertificates(home, loopback.address);
    const port = await freePort();
    // Pushed first so that it runs last: the certs.d entry goes whatever else failed.
    undo.push(() => untrustRegistryCa(DOCKER_CERTS_DIR, `${loopback.address}:${port}`));
    undo.push(() => stopImageRegistry(home));
    const registryOptions = { home, address: loopback.address, port, certificates };
    const registry = await ensureImageRegistry(registryOptions);
    const hostDockerd = await startDockerd();
    undo.push(() => hostDockerd.stop());
    const cli = process.env.SLIPWAY_DOCKER_CLI ?? 'docker';
    return {
      home,
      registry,
      registryOptions,
      server: { cli, dockerHost: process.env.DOCKER_HOST, dockerConfigDir: registry.dockerConfigDir, parentEnv: process.env },
      host: { cli, dockerHost: hostDockerd.host, dockerConfigDir: path.join(home, 'host-docker-config'), parentEnv: process.env },
      hostDockerd,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
