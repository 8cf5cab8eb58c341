import Docker from 'dockerode';
import { describeBuildCli, type Builder } from '../docker/build-cli';
import { findBuildCli } from '../docker/build-cli-probe';
import { compareVersions, fail, ok, warn, type CheckResult } from './check';

/** The oldest Engine API slipway is tested with (Debian 12's docker.io 20.10). */
export const MIN_DOCKER_API = '1.41';

const INSTALL_FIX = 'install and start the Docker Engine: `apt-get install docker.io`, then `systemctl start docker` (without systemd: `dockerd > /var/log/dockerd.log 2>&1 &`)';

/** Where dockerode connects, for messages. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock';
}

/** Docker Engine answers (ping), its version, and an Engine API new enough for slipway. */
export async function checkDocker(docker: Docker = newDocker()): Promise<CheckResult[]> {
  const where = dockerEndpoint();
  try {
    await docker.ping();
  } catch (err) {
    return [fail('docker', `no Docker Engine answers at ${where}: ${reason(err)}`, dockerFix(err))];
  }
  const version = await docker.version();
  const api = String(version.ApiVersion ?? '');
  const detail = `Engine ${version.Version} (API ${api}) at ${where}`;
  if (!/^\d+\.\d+/.test(api) || compareVersions(api, MIN_DOCKER_API) < 0) {
    return [fail('docker', `${detail}: API ${MIN_DOCKER_API} or newer is needed`, 'upgrade the Docker Engine (Debian 12: `apt-get install docker.io` gives 20.10, API 1.41)')];
  }
  return [ok('docker', detail)];
}

/** Which docker CLI and builder a build will use, or what to install when none can build. */
export async function checkBuilder(builder: Builder, dockerCli: string | undefined, find = findBuildCli): Promise<CheckResult[]> {
  const choice = await find(builder, dockerCli);
  if ('problem' in choice) return [fail('builder', choice.problem, choice.fix)];
  const sent = choice.cli.mode === 'legacy' ? ': every build is sent the whole context' : ': BuildKit fetches only the files a push changed';
  return [ok('builder', `builds run ${describeBuildCli(choice.cli)}${sent}`)];
}

/**
 * Docker's `live-restore`: with it, containers keep running while the Engine restarts (an upgrade
 * of docker.io, a crash); without it, every app goes down with the Engine, until slipway, once the
 * Engine answers again, starts the containers again.
 */
export async function checkLiveRestore(docker: Pick<Docker, 'info'> = newDocker()): Promise<CheckResult[]> {
  const info = (await docker.info()) as { LiveRestoreEnabled?: boolean };
  if (info.LiveRestoreEnabled === true) return [ok('live-restore', 'on: the apps keep serving while the Docker Engine restarts')];
  return [
    warn(
      'live-restore',
      'off: a restart or crash of the Docker Engine (an upgrade of docker.io, the OOM killer) stops every app container; slipway starts them again once the Engine answers, but the apps are down until then',
      'add `"live-restore": true` to /etc/docker/daemon.json, then `systemctl reload docker` (a reload is enough; running containers are not touched)',
    ),
  ];
}

/** Docker's data directory (images, containers), when the engine answers and runs on this machine. */
export async function dockerRootDir(docker: Docker = newDocker()): Promise<string | undefined> {
  if (/^(tcp|https?|ssh):/.test(process.env.DOCKER_HOST ?? '')) return undefined;
  try {
    const info = (await docker.info()) as { DockerRootDir?: string };
    return info.DockerRootDir || undefined;
  } catch {
    return undefined;
  }
}

/** dockerode over DOCKER_HOST (or the local socket), giving up on a silent engine after 10 s. */
export function newDocker(): Docker {
  return new Docker({ timeout: 10_000 });
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; address?: string };
  if (e.code) return `${e.code}${e.address ? ` (${e.address})` : ''}`;
  return e.statusCode ? `HTTP ${e.statusCode}` : e.message;
}

function dockerFix(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES') return 'run slipway as root (it drives Docker), or give this user access to the Docker socket';
  const host = process.env.DOCKER_HOST?.trim();
  if (host) return `check DOCKER_HOST=${host}, or unset it to use the local socket; ${INSTALL_FIX}`;
  return INSTALL_FIX;
}
