import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { deployJobId, isRecoveredPushOf, storedJobData, type DeployJobData, type DeployJobResult } from './deploy-job';

export type DeployQueue = Queue<DeployJobData, DeployJobResult>;

export function openDeployQueue(name: string, connection: Redis): DeployQueue {
  return new Queue<DeployJobData, DeployJobResult>(name, { connection });
}

/**
 * Enqueues one deploy. A failed deploy is not retried by BullMQ: the pusher decides. A push's job
 * takes the place of reconcile's recovered job of the same commit (see {@link withdrawRecoveredDuplicate}).
 */
export async function enqueueDeploy(queue: DeployQueue, data: DeployJobData): Promise<Job<DeployJobData, DeployJobResult>> {
  const job = await queue.add('deploy', storedJobData(data), {
    jobId: deployJobId(data.app, data.sha, Date.now()),
    attempts: 1,
    // Kept (not removed on completion) so a follower can read the log and result after the end.
    removeOnComplete: { count: 500 },
    removeOnFail: { count: 500 },
  });
  if (data.kind === 'push') await withdrawRecoveredDuplicate(queue, data.app, data.sha);
  return job;
}

/**
 * Removes the job slipway's start-up repair (reconcile) queued for a push of `sha` to `app` when
 * that push's own job is queued too. A push that lands while slipway starts can be queued twice:
 * reconcile sees the ref moved with no job yet, and the push's hook queues it. Both call this after
 * their own add, so whichever adds second sees both jobs (a check before adding would leave a gap).
 * The push's job stays: it knows the pusher and the push options. A recovered job already running
 * is left (Redis refuses to remove a locked job): the push's job then finds its commit live.
 */
async function withdrawRecoveredDuplicate(queue: DeployQueue, app: string, sha: string): Promise<void> {
  const pushes = (await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active'])).filter(
    (job) => job.data !== undefined && job.data.app === app && job.data.sha === sha && job.data.kind === 'push',
  );
  const recovered = pushes.filter((job) => isRecoveredPushOf(job.data, app, sha));
  if (recovered.length === pushes.length) return;
  for (const job of recovered) await queue.remove(job.id as string);
}

/**
 * Prints a job's log lines as they are written and resolves with its result when it ends.
 * Polls: cheap (one LRANGE per tick) and immune to missed pub/sub messages. Aborting `signal`
 * stops the polling (the job itself goes on) and rejects with an AbortError.
 */
export async function followJob(
  queue: DeployQueue,
  jobId: string,
  print: (line: string) => void,
  options: { pollMs?: number; onWaiting?: (why: 'no-worker' | 'app-busy') => void; keepAliveMs?: number; signal?: AbortSignal } = {},
): Promise<DeployJobResult> {
  let printed = 0;
  const warned = new Set<string>();
  const started = Date.now();
  let lastLineAt = started;
  for (;;) {
    options.signal?.throwIfAborted();
    const { logs } = await queue.getJobLogs(jobId, printed, -1, true);
    for (const line of logs) print(line);
    printed += logs.length;
    // A silent connection is closed by proxies and by slipway's own idle timeout: say something.
    if (logs.length > 0) lastLineAt = Date.now();
    else if (options.keepAliveMs !== undefined && Date.now() - lastLineAt > options.keepAliveMs) {
      lastLineAt = Date.now();
      print(`       … still running (${Math.round((Date.now() - started) / 1000)} s)`);
    }
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') {
      const rest = await queue.getJobLogs(jobId, printed, -1, true);
      for (const line of rest.logs) print(line);
      const job = await queue.getJob(jobId);
      if (state === 'completed' && job?.returnvalue) return job.returnvalue;
      return { ok: false, summary: `✘ deploy stopped: ${job?.failedReason ?? 'the job is gone'}` };
    }
    if (state === 'unknown') return { ok: false, summary: '✘ the deploy job disappeared from the queue' };
    if (!warned.has('no-worker') && state === 'waiting' && Date.now() - started > 5000) {
      warned.add('no-worker');
      options.onWaiting?.('no-worker');
    }
    if (!warned.has('app-busy') && state === 'delayed') {
      warned.add('app-busy');
      options.onWaiting?.('app-busy');
    }
    await sleep(options.pollMs ?? 100, undefined, { signal: options.signal });
  }
}
