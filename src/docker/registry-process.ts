import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { fillFileAtomic, readFileIfExists, writeFileAtomic } from '../atomic-write';
import { registryStatus, type RegistryAccess } from './registry-api';
import { htpasswdArgs, registryConfigText, registryEndpoint, registryServeArgs, type RegistryConfigSpec, type RegistryFiles } from './registry-config';

/** Debian's docker-registry (the CNCF distribution registry 2.8). */
const REGISTRY_PROGRAM = 'docker-registry';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** A registry process slipway started (or found running with the same configuration). */
export interface RegistryProcess {
  pid: number;
  /** `address:port`. */
  endpoint: string;
}

/**
 * Makes sure a `docker-registry` with exactly `spec` and the one user `user`/`password` serves from
 * `files.dir`: one already running with the same configuration that lets the user in is kept (a
 * restart of slipway does not cut a push short); otherwise the old one (by its pid file) is stopped,
 * the configuration and htpasswd are written, and a new one is started, detached, its output in
 * `files.logFile`. Resolves when `/v2/` answers 401 without credentials and 200 with them.
 */
export async function startRegistryProcess(files: RegistryFiles, spec: RegistryConfigSpec, user: string, password: string, ca: string): Promise<RegistryProcess> {
  const endpoint = registryEndpoint(spec.address, spec.port);
  const access: RegistryAccess = { endpoint, ca, credentials: { user, password } };
  const config = registryConfigText(spec);
  const running = await runningRegistryPid(files.pidFile);
  if (running !== undefined && (await readFileIfExists(files.configFile)) === config && (await ready(access))) return { pid: running, endpoint };
  await stopRegistryProcess(files);

  await fs.mkdir(files.dir, { recursive: true, mode: 0o700 });
  await fs.mkdir(files.storageDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(files.configFile, config, 0o600);
  await fillFileAtomic(files.htpasswdFile, 0o600, (temp) => htpasswd(temp, user, password));

  const log = await fs.open(files.logFile, 'a', 0o600);
  const child = spawn(REGISTRY_PROGRAM, registryServeArgs(files.configFile), { detached: true, stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  const failedToStart = new Promise<Error>((resolve) => child.once('error', (err) => resolve(new Error(`cannot run ${REGISTRY_PROGRAM} (install Debian's docker-registry): ${err.message}`))));
  const ended: { code?: number } = {};
  child.once('exit', (code) => (ended.code = code ?? -1));
  child.unref();
  if (child.pid !== undefined) await writeFileAtomic(files.pidFile, `${child.pid}\n`, 0o600);

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const startError = await Promise.race([failedToStart, sleep(100).then(() => undefined)]);
      if (startError) throw startError;
      if (ended.code !== undefined) throw new Error(`${REGISTRY_PROGRAM} exited with ${ended.code} at start: ${await tail(files.logFile)}`);
      if (await ready(access)) return { pid: child.pid as number, endpoint };
      if (Date.now() > deadline) throw new Error(`${REGISTRY_PROGRAM} did not answer on https://${endpoint}/v2/ within ${START_TIMEOUT_MS / 1000} s: ${await tail(files.logFile)}`);
    }
  } catch (err) {
    // A registry that never became ready is not left running, nor named in the pid file.
    await stopRegistryProcess(files);
    throw err;
  }
}

/** Stops the registry named in `files.pidFile` (only if that pid still runs docker-registry): SIGTERM, then SIGKILL. */
export async function stopRegistryProcess(files: RegistryFiles): Promise<void> {
  const pid = await runningRegistryPid(files.pidFile);
  if (pid !== undefined) {
    signal(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while ((await runningRegistryPid(files.pidFile)) !== undefined && Date.now() < deadline) await sleep(50);
    if ((await runningRegistryPid(files.pidFile)) !== undefined) signal(pid, 'SIGKILL');
  }
  await fs.rm(files.pidFile, { force: true });
}

/** Ready = the API answers, refuses a request without credentials (401) and accepts the user (200). */
async function ready(access: RegistryAccess): Promise<boolean> {
  try {
    return (await registryStatus({ ...access, credentials: undefined })) === 401 && (await registryStatus(access)) === 200;
  } catch {
    return false;
  }
}

/** The pid in `pidFile` when that process is alive and is docker-registry (a stale pid file may name another program). */
async function runningRegistryPid(pidFile: string): Promise<number | undefined> {
  const pid = Number.parseInt((await readFileIfExists(pidFile)) ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // `pid (comm) S …`: a zombie (Z) has exited already.
  const match = /^\d+ \((.*)\) (\S)/.exec(stat);
  return match && match[1] === REGISTRY_PROGRAM && match[2] !== 'Z' ? pid : undefined;
}

/** Writes `file` with `user`'s bcrypt hash; the password goes to htpasswd on stdin. */
function htpasswd(file: string, user: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('htpasswd', htpasswdArgs(file, user), { encoding: 'utf8', timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error("htpasswd was not found: install Debian's apache2-utils"));
      reject(new Error(`htpasswd failed: ${stderr.trim() || err.message}`));
    });
    child.stdin?.end(password);
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function tail(file: string): Promise<string> {
  return ((await readFileIfExists(file)) ?? '(no log)').trimEnd().split('\n').slice(-5).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
