import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { deployJobId, isRecoveredPushOf, storedJobData, type DeployJobData, type DeployJobResult } from './deploy-job';

export type DeployQueue = Queue<DeployJobData, DeployJobResult>;

export function openDeployQueue(name: string, connection: Redis): DeployQueue {
  return new Queue<DeployJobData, DeployJobResult>(name, { connection });
}

/** Enqueues one deploy. A failed deploy is not retried by BullMQ: the pusher decides. */
export async function enqueueDeploy(queue: DeployQueue, data: DeployJobData): Promise<Job<DeployJobData, DeployJobResult>> {
  return queue.add('deploy', storedJobData(data), {
    jobId: deployJobId(data.app, data.sha, Date.now()),
    attempts: 1,
    // Kept (not removed on completion) so a follower can read the log and result after the end.
    removeOnComplete: { count: 500 },
    removeOnFail: { count: 500 },
  });
}

/**
 * The unfinished job that slipway's start-up repair (reconcile) queued for a push of `sha` to
 * `app`, if there is one. A push that lands while slipway starts can be seen by reconcile (the ref
 * moved, no job yet) a moment before the push's own hook queues it: the push then follows that job
 * instead of queuing the same commit twice.
 */
export async function findRecoveredPush(queue: DeployQueue, app: string, sha: string): Promise<Job<DeployJobData, DeployJobResult> | undefined> {
  const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active']);
  return jobs.find((job) => job.data !== undefined && isRecoveredPushOf(job.data, app, sha));
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
