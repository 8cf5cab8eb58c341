import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { hostHeartbeatKey, hostQueueName } from './redis-acl';

/** The jobs a host's agent runs. `probe`: report the host's Docker Engine and Apache versions. */
export type HostJobData = { kind: 'probe' };

/** What a probe found on the host. */
export interface ProbeResult {
  docker: string;
  apache: string;
}

export type HostQueue = Queue<HostJobData, ProbeResult>;

/** The queue of host `name`, as the server adds to it. */
export function openHostQueue(name: string, connection: Redis): HostQueue {
  return new Queue<HostJobData, ProbeResult>(hostQueueName(name), { connection });
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
