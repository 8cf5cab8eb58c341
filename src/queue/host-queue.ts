import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { hostCalledOffKey, hostHeartbeatKey, hostQueueName } from './redis-acl';

/**
 * The jobs a host's agent runs. `probe`: report the host's Docker Engine and Apache versions.
 * `inspect`: the app's web containers there (`slipway status`). `phase`: its share of a deploy
 * (deploy/host-phase.ts; the request is opaque to the queue), to be
 * started by `startBy` (ms since the epoch) if set, else whenever the agent takes it. `control`: a
 * stop or a maintenance toggle of an app there (apps/machine-control.ts).
 */
export type HostJobData<Request = unknown, Control = unknown> =
  { kind: 'probe' } | { kind: 'inspect'; app: string } | { kind: 'phase'; request: Request; startBy?: number } | { kind: 'control'; request: Control };

/** What a probe found on the host. */
export interface ProbeResult {
  docker: string;
  apache: string;
}

export type HostQueue = Queue<HostJobData, unknown>;

/** The queue of host `name`, as the server adds to it. */
export function openHostQueue(name: string, connection: Redis): HostQueue {
  return new Queue<HostJobData, unknown>(hostQueueName(name), { connection });
}

/** Tells host `name` that deploy `deployId` was called off (kept a day): its jobs of that deploy not yet started are skipped. */
export async function callOffDeployOnHost(redis: Redis, name: string, deployId: string): Promise<void> {
  await redis.set(hostCalledOffKey(name, deployId), '1', 'EX', 86_400);
}

/** Whether the server called off deploy `deployId` (asked by the host's agent before it starts a job of it). */
export async function isDeployCalledOff(redis: Redis, name: string, deployId: string): Promise<boolean> {
  return (await redis.exists(hostCalledOffKey(name, deployId))) === 1;
}

/** Queues a probe for the host's agent (it runs when the agent is connected). */
export async function enqueueProbe(queue: HostQueue): Promise<void> {
  await queue.add('probe', { kind: 'probe' }, { removeOnComplete: { count: 10 }, removeOnFail: { count: 10 } });
}

/** What a host's agent last told the server: every field optional (an agent that never connected told nothing). */
export interface HostHeartbeat {
  /** slipway's version on the host. */
  version?: string;
  /** Milliseconds since the epoch of the agent's last heartbeat. */
  lastContact?: number;
  docker?: string;
  apache?: string;
}

/** Records an agent's heartbeat (and, after a probe, what it found). */
export async function writeHeartbeat(redis: Redis, name: string, heartbeat: HostHeartbeat): Promise<void> {
  const fields = Object.entries(heartbeat).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
  await redis.hset(hostHeartbeatKey(name), ...fields);
}

export async function readHeartbeat(redis: Redis, name: string): Promise<HostHeartbeat> {
  const raw = await redis.hgetall(hostHeartbeatKey(name));
  const lastContact = Number(raw.lastContact);
  return { version: raw.version, lastContact: Number.isFinite(lastContact) && lastContact > 0 ? lastContact : undefined, docker: raw.docker, apache: raw.apache };
}

/** Forgets a removed host: its heartbeat and its queue's jobs. */
export async function forgetHost(redis: Redis, name: string): Promise<void> {
  await redis.del(hostHeartbeatKey(name));
  const queue = openHostQueue(name, redis);
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}
