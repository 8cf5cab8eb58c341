import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';

/** Where a Docker Engine (dockerd, not the CLI) looks for the CA of a registry: `<certsDir>/<host:port>/ca.crt`. */
export const DOCKER_CERTS_DIR = '/etc/docker/certs.d';

/** `<certsDir>/<endpoint>/ca.crt`. */
export function registryCaFile(certsDir: string, endpoint: string): string {
  return path.join(certsDir, endpoint, 'ca.crt');
}

/**
 * Makes the Engines of this machine trust the registry at `endpoint` through the CA `caPem`: the
 * Engine's documented mechanism, read on every push and pull (no restart of dockerd). Idempotent.
 * Resolves true when it wrote the file, false when it was there already.
 */
export async function trustRegistryCa(certsDir: string, endpoint: string, caPem: string): Promise<boolean> {
  const file = registryCaFile(certsDir, endpoint);
  if ((await readFileIfExists(file)) === caPem) return false;
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  await writeFileAtomic(file, caPem, 0o644);
  return true;
}

/** Removes the `<certsDir>/<endpoint>/` directory {@link trustRegistryCa} wrote (only that one). */
export async function untrustRegistryCa(certsDir: string, endpoint: string): Promise<void> {
  await fs.rm(path.dirname(registryCaFile(certsDir, endpoint)), { recursive: true, force: true });
}
