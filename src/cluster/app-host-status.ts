import { LOCAL_HOST } from './host-name';
import { inspectHost } from './host-access';
import { hostState } from './host-status';
import type { HostWebContainer } from '../deploy/host-phase-request';
import { LABEL, type ContainerInfo } from '../docker/docker-engine';
import { shortSha } from '../names';
import { readHeartbeat } from '../queue/host-queue';
import type { Redis } from 'ioredis';

/** How long `slipway status` waits for a host's agent to say what runs there. */
const INSPECT_TIMEOUT_MS = 3000;

/** One host of an app in `slipway status`: whether it answered, and the release its web containers run. */
export interface AppHostStatus {
  host: string;
  /** `up` (its agent answered), or the host's state when it did not (`down`, `new`). */
  state: string;
  /** The commit of its serving web containers (several when a deploy left it mixed). */
  sha?: string;
  /** Running web containers (not pending) and all web containers. */
  web?: { running: number; total: number };
  /** Pending web containers (a deploy under way, or one that left them behind). */
  pending?: number;
}

function fromContainers(host: string, web: HostWebContainer[]): AppHostStatus {
  const serving = web.filter((c) => !c.pending);
  const running = serving.filter((c) => c.running);
  const shas = [...new Set(running.map((c) => c.sha ?? '?'))];
  return { host, state: 'up', sha: shas.join(','), web: { running: running.length, total: serving.length }, pending: web.length - serving.length };
}

/**
 * Each host of an app on several hosts (`hosts`, from its config), asked now: `localContainers`
 * (the server's own Docker) for `local`, the agent of each other host (an `inspect` job).
 */
export async function appHostStatus(redis: Redis, hosts: string[], app: string, localContainers: ContainerInfo[]): Promise<AppHostStatus[]> {
  const local = localContainers
    .filter((c) => c.labels[LABEL.app] === app && c.labels[LABEL.port] !== undefined)
    .map((c) => ({ name: c.name, sha: c.labels[LABEL.sha], running: c.running, pending: c.name.startsWith(`${app}-pending`) }));
  return Promise.all(
    hosts.map(async (host) => {
      if (host === LOCAL_HOST) return fromContainers(host, local);
      const web = await inspectHost(redis, host, app, INSPECT_TIMEOUT_MS);
      return web ? fromContainers(host, web) : { host, state: hostState(await readHeartbeat(redis, host), Date.now()) === 'up' ? 'no answer' : 'down' };
    }),
  );
}

/** Whether a host that answered runs a web container of the app (a host that did not answer may run it or not: not counted). */
export function runsOnSomeHost(hosts: AppHostStatus[]): boolean {
  return hosts.some((h) => h.state === 'up' && (h.web?.running ?? 0) > 0);
}

/** `local abc1234 1/1, h2 abc1234 1/1, h3 down` */
export function formatAppHosts(hosts: AppHostStatus[]): string {
  return hosts
    .map((h) =>
      h.state !== 'up'
        ? `${h.host} ${h.state}`
        : `${h.host} ${h.sha ? h.sha.split(',').map(shortSha).join('+') : '-'} ${h.web?.running ?? 0}/${h.web?.total ?? 0}${h.pending ? ` (+${h.pending} pending)` : ''}`,
    )
    .join(', ');
}
