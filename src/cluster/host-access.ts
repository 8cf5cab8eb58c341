import type { Redis } from 'ioredis';
import { HostUnreachableError, type HostBounds, type HostPhaseRequest, type HostPhaseResult, type HostsAccess, type HostWebContainer, type RegistryImage } from '../deploy/host-phase-request';
import { shortSha } from '../names';
import type { HostControl } from '../apps/app-control';
import type { HostControlRequest, MaintenanceOutcome, RemoveOutcome, StopOutcome } from '../apps/machine-control';
import type { ImageTransport } from '../settings';
import { callOffDeployOnHost, openHostQueue, readHeartbeat, type HostJobData, type HostQueue } from '../queue/host-queue';
import { ensureClusterCertificates } from './cluster-ca';
import { hostState } from './host-status';
import { ensureImageRegistry } from './image-registry';
import { formatBytes, loginToRegistry, publishImage, type EngineCli } from './image-transport';

/** How often the server looks at a host's job (its state and its new log lines). */
const POLL_MS = 100;

/** What the server needs to reach its hosts. */
export interface HostAccessOptions {
  /** slipway's own Redis connection (its user may touch every host's queue). */
  redis: Redis;
  home: string;
  /** The address the hosts reach the server at, and the registry's port there. */
  address: string;
  registryPort: number;
  /** The server's docker CLI and Engine (the build's), with the registry login's DOCKER_CONFIG set by publish. */
  server: Omit<EngineCli, 'dockerConfigDir'>;
  /** SLIPWAY_IMAGE_TRANSPORT: a rollout moves images through the registry only. */
  transport: ImageTransport;
}

/**
 * The server's side of an app on several hosts: a phase for host `h2` is a BullMQ job on
 * `slipway-host-h2`, which only that host's agent consumes; the server follows it (its state and
 * the lines the agent logs to it) and ends when it does. A host that does not take the job within
 * its bound, or stops heartbeating while it runs it, fails the phase naming why; the deploy is then
 * called off on that host (a job of it the agent has not started yet is skipped when it comes back).
 */
export function createHostAccess(options: HostAccessOptions): HostsAccess {
  const queues = new Map<string, HostQueue>();
  const queueOf = (host: string) => {
    let queue = queues.get(host);
    if (!queue) {
      queue = openHostQueue(host, options.redis);
      queues.set(host, queue);
    }
    return queue;
  };
  let loggedIn: string | undefined;

  return {
    async run(host, request, say, bounds) {
      return runOnHost(options.redis, queueOf(host), host, request, say, bounds);
    },
    async publish(app, sha) {
      if (options.transport !== 'registry') {
        throw new Error(
          "SLIPWAY_IMAGE_TRANSPORT is save-load, but an app on several hosts gets its image through the registry only (save | load needs the server to reach each host's Docker Engine, which the agents do not give it): set SLIPWAY_IMAGE_TRANSPORT=registry",
        );
      }
      const certificates = await ensureClusterCertificates(options.home, options.address);
      const registry = await ensureImageRegistry({ home: options.home, address: options.address, port: options.registryPort, certificates });
      const server: EngineCli = { ...options.server, dockerConfigDir: registry.dockerConfigDir };
      if (loggedIn !== registry.password) {
        await loginToRegistry(server, registry);
        loggedIn = registry.password;
      }
      const pushed = await publishImage(server, registry, app, sha);
      const image: RegistryImage = { endpoint: registry.endpoint, user: registry.user, password: registry.password, ca: registry.ca };
      const line = pushed.skipped
        ? `Image ${shortSha(sha)} already in the registry at ${registry.endpoint}`
        : `Image ${shortSha(sha)} pushed to the registry at ${registry.endpoint}: ${formatBytes(pushed.bytes)} in ${(pushed.ms / 1000).toFixed(1)} s`;
      return { image, line };
    },
  };
}

async function runOnHost(redis: Redis, queue: HostQueue, host: string, request: HostPhaseRequest, say: (line: string) => void, bounds: HostBounds): Promise<HostPhaseResult> {
  const { phase } = request;
  // A revert or abort must happen some time: for a host already known down it waits in the queue
  // for the agent's return, and the deploy does not wait for it.
  if (bounds.keepQueued && (await hostDown(redis, host))) {
    await queue.add(phase, { kind: 'phase', request } satisfies HostJobData, KEEP);
    say(`host ${host} is down: its ${phase} runs when its agent is back`);
    return {};
  }
  const startBy = Date.now() + bounds.startWithinMs;
  const data: HostJobData = { kind: 'phase', request, startBy: bounds.keepQueued ? undefined : startBy };
  const outcome = await followHostJob(redis, queue, host, phase, data, say, startBy, !bounds.keepQueued);
  if (outcome.state === 'done') return outcome.result as HostPhaseResult;
  if (bounds.keepQueued) {
    say(`host ${host} has not taken its ${phase} yet: it runs when its agent is back`);
    return {};
  }
  await callOffDeployOnHost(redis, host, request.deployId);
  throw new HostUnreachableError(
    outcome.state === 'not taken'
      ? `did not answer: its agent did not take the ${phase} within ${bounds.startWithinMs / 1000} s (${await lastContact(redis, host)})`
      : `stopped answering during its ${phase} (${await lastContact(redis, host)})`,
  );
}

/** How a host job ended for the server: its result, or why the server stopped waiting for it. */
type HostJobOutcome = { state: 'done'; result: unknown } | { state: 'not taken' } | { state: 'host down' };

/**
 * Adds a job to a host's queue and follows it: passes its log lines on as they come, resolves with
 * its result, throws its failure. Stops waiting when the agent has not taken it by `startBy`
 * (withdrawing it when `withdraw`, unless the agent took it that very moment) or when the host
 * stops heartbeating while it runs.
 */
async function followHostJob(redis: Redis, queue: HostQueue, host: string, name: string, data: HostJobData, say: (line: string) => void, startBy: number, withdraw: boolean): Promise<HostJobOutcome> {
  const job = await queue.add(name, data, KEEP);
  const id = String(job.id);
  let seen = 0;
  const flushLogs = async () => {
    const { logs } = await queue.getJobLogs(id, seen, -1);
    seen += logs.length;
    for (const line of logs) say(line);
  };
  let lastHeartbeatCheck = Date.now();
  for (;;) {
    await flushLogs();
    const state = await queue.getJobState(id);
    if (state === 'completed' || state === 'failed') {
      const done = await queue.getJob(id);
      await flushLogs();
      if (state === 'completed') return { state: 'done', result: done?.returnvalue ?? {} };
      throw new Error(done?.failedReason ?? `its ${name} failed`);
    }
    if (state === 'active') {
      if (Date.now() - lastHeartbeatCheck >= 1000) {
        lastHeartbeatCheck = Date.now();
        if (await hostDown(redis, host)) return { state: 'host down' };
      }
    } else if (state === 'unknown') {
      throw new Error(`its ${name} job is gone from the queue (removed by hand?)`);
    } else if (Date.now() > startBy) {
      if (!withdraw) return { state: 'not taken' };
      // Withdrawn, unless the agent took it this very moment (then it is locked: follow it).
      const withdrawn = await job.remove().then(
        () => true,
        () => false,
      );
      if (withdrawn) return { state: 'not taken' };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * What host `host` runs of `app` now, asked of its agent (`slipway status`): undefined when the
 * agent does not answer within `timeoutMs`.
 */
export async function inspectHost(redis: Redis, host: string, app: string, timeoutMs: number): Promise<HostWebContainer[] | undefined> {
  const queue = openHostQueue(host, redis);
  try {
    const outcome = await followHostJob(redis, queue, host, 'inspect', { kind: 'inspect', app }, () => undefined, Date.now() + timeoutMs, true);
    return outcome.state === 'done' ? (outcome.result as HostWebContainer[]) : undefined;
  } catch {
    return undefined;
  } finally {
    await queue.close();
  }
}

/** How long a host's agent gets to take a stop or a maintenance toggle. */
const CONTROL_START_MS = 15_000;

/**
 * Stops and maintenance toggles on an app's other hosts (apps/app-control.ts): a `control` job on
 * the host's queue, followed like a phase; a host that does not take it in time fails it by name.
 */
export function createHostControl(redis: Redis): HostControl {
  return {
    async notAnswering(host) {
      return (await hostDown(redis, host)) ? `is not answering (${await lastContact(redis, host)})` : undefined;
    },
    maintenance: (host, app, on) => controlOnHost(redis, host, { app, action: 'maintenance', on }) as Promise<MaintenanceOutcome>,
    stop: (host, app, settings) => controlOnHost(redis, host, { app, action: 'stop', settings }) as Promise<StopOutcome>,
    remove: (host, app, otherApps) => controlOnHost(redis, host, { app, action: 'remove', otherApps }) as Promise<RemoveOutcome>,
  };
}

async function controlOnHost(redis: Redis, host: string, request: HostControlRequest): Promise<unknown> {
  const queue = openHostQueue(host, redis);
  try {
    const outcome = await followHostJob(redis, queue, host, request.action, { kind: 'control', request }, () => undefined, Date.now() + CONTROL_START_MS, true);
    if (outcome.state === 'done') return outcome.result;
    throw new Error(
      outcome.state === 'not taken'
        ? `its agent did not take the ${request.action} within ${CONTROL_START_MS / 1000} s (${await lastContact(redis, host)}); nothing changed there`
        : `stopped answering during the ${request.action} (${await lastContact(redis, host)})`,
    );
  } finally {
    await queue.close();
  }
}

/** Finished host jobs are kept a while for `slipway` to show and for debugging, not forever. */
const KEEP = { removeOnComplete: { age: 86_400, count: 200 }, removeOnFail: { age: 86_400, count: 200 } };

async function hostDown(redis: Redis, host: string): Promise<boolean> {
  return hostState(await readHeartbeat(redis, host), Date.now()) !== 'up';
}

async function lastContact(redis: Redis, host: string): Promise<string> {
  const { lastContact: at } = await readHeartbeat(redis, host);
  return at === undefined ? 'its agent never connected' : `last contact ${Math.round((Date.now() - at) / 1000)} s ago`;
}
