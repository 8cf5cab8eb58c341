import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { DeployJobData, DeployJobResult } from '../queue/deploy-job';
import { ReleaseStore } from '../releases/release-store';
import { runDeploy } from '../deploy/run-deploy';
import { homePaths, type Settings } from '../settings';
import type { DeployDeps } from '../deploy/deploy-context';

/**
 * The BullMQ worker that runs deploys. Deploys of one app never overlap (a per-app chain in this
 * process); different apps run side by side up to `workerConcurrency`.
 */
export function startDeployWorker(settings: Settings, connection: Redis, deps: DeployDeps, log: Logger): Worker<DeployJobData, DeployJobResult> {
  const releases = new ReleaseStore(homePaths(settings.home).releases);
  const appChains = new Map<string, Promise<unknown>>();

  const processJob = async (job: Job<DeployJobData, DeployJobResult>): Promise<DeployJobResult> => {
    const { app } = job.data;
    const previous = appChains.get(app) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => deploy(job));
    appChains.set(app, run);
    try {
      return await run;
    } finally {
      if (appChains.get(app) === run) appChains.delete(app);
    }
  };

  const deploy = async (job: Job<DeployJobData, DeployJobResult>): Promise<DeployJobResult> => {
    // job.log is a Redis round trip; chaining keeps the lines in order without awaiting each one.
    let logged: Promise<unknown> = Promise.resolve();
    const say = (line: string) => {
      logged = logged.then(() => job.log(line)).catch((err: Error) => log.warn({ err }, 'could not write a deploy log line'));
    };
    const jobLog = log.child({ job: job.id, app: job.data.app, sha: job.data.sha });
    jobLog.info('deploy started');
    const result = await runDeploy(job.data, deps, { portRange: settings.portRange, stopGraceSeconds: settings.stopGraceSeconds }, releases, say);
    say(result.summary);
    await logged;
    jobLog.info({ ok: result.ok, summary: result.summary }, 'deploy finished');
    return result;
  };

  const worker = new Worker<DeployJobData, DeployJobResult>(settings.queueName, processJob, {
    connection,
    concurrency: settings.workerConcurrency,
    // A build can take many minutes; the lock is renewed while the job runs, and a dead worker's
    // job is requeued once this long after it died (every step is safe to run twice).
    lockDuration: 60_000,
  });
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  return worker;
}
