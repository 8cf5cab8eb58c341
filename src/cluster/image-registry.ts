import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';
import { registryStatus } from '../docker/registry-api';
import { registryFiles, type RegistryFiles } from '../docker/registry-config';
import { startRegistryProcess, stopRegistryProcess } from '../docker/registry-process';
import { DOCKER_CERTS_DIR, registryCaFile, trustRegistryCa } from '../docker/registry-trust';

/** The one registry user: the server pushes as it, hosts pull as it (htpasswd auth has no per-user rights). */
export const REGISTRY_USER = 'slipway';

/** What a docker CLI and slipway's own requests need to use the cluster's registry. */
export interface ImageRegistry {
  /** `address:port`, as image references and certs.d name it. */
  endpoint: string;
  /** PEM of the CA the registry's certificate chains to (the cluster CA). */
  ca: string;
  user: string;
  password: string;
  /** The registry's blob storage (on the server): what a push added is measured there. */
  storageDir: string;
  /** The server's private DOCKER_CONFIG (its config.json holds the registry login). */
  dockerConfigDir: string;
}

/** The cluster's TLS files (src/cluster/cluster-ca.ts makes them): the CA, and the server's certificate for its address. */
export interface RegistryCertificates {
  caCertPath: string;
  certPath: string;
  keyPath: string;
}

/** Where the registry lives under SLIPWAY_HOME. */
export function imageRegistryFiles(home: string): RegistryFiles {
  return registryFiles(path.join(home, 'registry'));
}

/**
 * Makes sure the cluster's image registry runs on the server: Debian's docker-registry bound to
 * `address:port` only (the address the hosts reach the server at), TLS with the cluster's server
 * certificate, one bcrypt user whose random password is kept in `registry/password` (mode 600,
 * made once), storage under `$SLIPWAY_HOME/registry/storage`. The server's own Engine is made to
 * trust it (`<certsDir>/<address:port>/ca.crt`). Idempotent: a registry already running with the
 * same configuration is kept.
 */
export async function ensureImageRegistry(options: {
  home: string;
  address: string;
  port: number;
  certificates: RegistryCertificates;
  /** The Engine's certs.d directory (default /etc/docker/certs.d). */
  certsDir?: string;
}): Promise<ImageRegistry> {
  const files = imageRegistryFiles(options.home);
  await fs.mkdir(files.dir, { recursive: true, mode: 0o700 });
  await fs.mkdir(files.dockerConfigDir, { recursive: true, mode: 0o700 });
  const password = await registryPassword(files.passwordFile);
  const ca = await fs.readFile(options.certificates.caCertPath, 'utf8');
  const { endpoint } = await startRegistryProcess(
    files,
    { address: options.address, port: options.port, certPath: options.certificates.certPath, keyPath: options.certificates.keyPath, storageDir: files.storageDir, htpasswdFile: files.htpasswdFile },
    REGISTRY_USER,
    password,
    ca,
  );
  await trustRegistryCa(options.certsDir ?? DOCKER_CERTS_DIR, endpoint, ca);
  return { endpoint, ca, user: REGISTRY_USER, password, storageDir: files.storageDir, dockerConfigDir: files.dockerConfigDir };
}

/** Stops the registry of `home` (by its pid file). Its storage and password stay. */
export async function stopImageRegistry(home: string): Promise<void> {
  await stopRegistryProcess(imageRegistryFiles(home));
}

/** The password in `file`, made (32 random bytes, base64url) the first time. */
async function registryPassword(file: string): Promise<string> {
  const kept = (await readFileIfExists(file))?.trim();
  if (kept) return kept;
  const password = randomBytes(32).toString('base64url');
  await writeFileAtomic(file, `${password}\n`, 0o600);
  return password;
}

/** What `slipway doctor` found about the registry of a home. */
export type RegistryHealth = { state: 'none' } | { state: 'ok'; endpoint: string } | { state: 'untrusted'; endpoint: string; caFile: string } | { state: 'down'; endpoint: string; problem: string };

/**
 * Checks the registry slipway set up under `home` (none when it never ran there), as the Engine and
 * a host would see it: the CA the Engine trusts it by (`<certsDir>/<endpoint>/ca.crt`) verifies its
 * certificate, `/v2/` refuses a request without credentials (401) and lets the kept user in (200).
 */
export async function checkImageRegistry(home: string, certsDir: string = DOCKER_CERTS_DIR): Promise<RegistryHealth> {
  const files = imageRegistryFiles(home);
  const config = await readFileIfExists(files.configFile);
  if (config === undefined) return { state: 'none' };
  const endpoint = (JSON.parse(config) as { http: { addr: string } }).http.addr;
  const caFile = registryCaFile(certsDir, endpoint);
  const ca = await readFileIfExists(caFile);
  if (ca === undefined) return { state: 'untrusted', endpoint, caFile };
  const password = (await readFileIfExists(files.passwordFile))?.trim() ?? '';
  try {
    const anonymous = await registryStatus({ endpoint, ca });
    const user = await registryStatus({ endpoint, ca, credentials: { user: REGISTRY_USER, password } });
    if (anonymous === 401 && user === 200) return { state: 'ok', endpoint };
    return { state: 'down', endpoint, problem: `/v2/ answered ${anonymous} without credentials and ${user} with slipway's (expected 401 and 200)` };
  } catch (err) {
    return { state: 'down', endpoint, problem: (err as Error).message };
  }
}
