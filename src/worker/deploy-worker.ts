import { alreadyLiveSummary } from './duplicate-push';
import path from 'node:path';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AuditLog } from '../audit/audit-log';
import { resolveCommit } from '../git/bare-repo';
import type { Logger } from '../logger';
import { shortSha } from '../names';
import { tryLockApp } from '../queue/app-lock';
import { readJobData, type DeployJobData, type DeployJobResult } from '../queue/deploy-job';
import { DeployLogFiles } from '../releases/deploy-log-files';
import { ReleaseStore } from '../releases/release-store';
import { DEPLOY_STEPS } from '../deploy/deploy-step-list';
import { crashAfterStep, pauseAfterSteps, pauseUntilMarkerRemoved } from '../deploy/fault-injection';
import { assertAppStateUsable } from '../state/state-files';
import { StateError } from '../state/state-format';
import { runDeploy } from '../deploy/run-deploy';
import { settleOtherDeploy } from './reconcile';
import { homePaths, repoPath, type Settings } from '../settings';
import type { DeployDeps } from '../deploy/deploy-context';
import { deployConfig } from '../deploy/machine-deps';

/** How long a deploy waiting for its app's running deploy sleeps between looks. */
const APP_BUSY_RETRY_MS = 1000;

/**
 * The BullMQ worker that runs deploys. One deploy per app at a time (a Redis lock that expires if
 * its holder dies); a job whose app is busy goes back to the queue as delayed, so it holds no
 * worker slot and other apps deploy meanwhile. A branch push whose branch has moved on since is
 * superseded: the newest push wins, and an old job never overwrites a newer one.
 */
export function startDeployWorker(settings: Settings, connection: Redis, deps: DeployDeps, log: Logger): Worker<DeployJobData, DeployJobResult> {
  const releases = new ReleaseStore(homePaths(settings.home).releases);
  const logFiles = new DeployLogFiles(homePaths(settings.home).deployLogs);
  const audit = new AuditLog(homePaths(settings.home).auditLog);
  const config = deployConfig(settings);
  // Fault injection for the crash tests only: never set outside them (see deploy/fault-injection.ts).
  const crashing = settings.crashAfterStep === undefined ? DEPLOY_STEPS : crashAfterStep(DEPLOY_STEPS, settings.crashAfterStep);
  const pauses = settings.pauseAfterSteps;
  const pauseDir = path.join(settings.home, 'test-pauses');
  const steps = pauses === undefined ? crashing : pauseAfterSteps(crashing, pauses, (step) => pauseUntilMarkerRemoved(pauseDir, step));

  const processJob = async (job: Job<DeployJobData, DeployJobResult>, token?: string): Promise<DeployJobResult> => {
    let data: DeployJobData;
    try {
      // Data from Redis, possibly written by an older slipway before an upgrade: read through its format.
      data = readJobData(job.data, String(job.id));
      // An app whose config, releases or port map is damaged is not touched: the deploy fails here,
      // naming the file, and the other apps deploy as usual.
      await assertAppStateUsable(settings.home, data.app);
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      const summary = `✘ ${err.message}`;
      log.error({ job: job.id, file: err.source }, summary);
      await job.log(summary);
      return { ok: false, summary };
    }
    const { app, sha, ref, kind } = data;
    if (kind === 'push' && ref.startsWith('refs/heads/')) {
      const tip = await resolveCommit(repoPath(settings.home, app), ref);
      if (tip !== undefined && tip !== sha) {
        const summary = `⇢ superseded by ${shortSha(tip)}: a newer push of ${ref.slice('refs/heads/'.length)} deploys instead`;
        await job.log(summary);
        await audit.append({ actor: job.data.pushedBy, action: kind, app, outcome: 'superseded', detail: `${shortSha(sha)}: ${summary}` }).catch(() => undefined);
        return { ok: false, superseded: true, summary };
      }
    }
    // A deploy that finished just before a crash (BullMQ runs it again) is not done twice.
    const done = await releases.byDeployId(app, job.id as string);
    if (done?.result === 'live') return { ok: true, summary: `✔ ${app} ${shortSha(sha)} live on port ${done.port} (finished before a restart)` };
    const lock = await tryLockApp(connection, settings.queueName, app, settings.jobLockMs / 2);
    if (!lock) {
      await job.moveToDelayed(Date.now() + APP_BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    try {
      // Another deploy of this app was cut off after its switch and this job got the app first:
      // settle it (finish it, or put traffic back) before anything here removes what serves.
      for (const action of await settleOtherDeploy({ deploy: deps, config, releases }, app, job.id as string)) {
        log.warn({ job: job.id, app, action }, `before the deploy: ${action}`);
        await job.log(`-----> ${action}`);
      }
      const duplicate = kind === 'push' ? alreadyLiveSummary(app, sha, job.id as string, job.timestamp, await releases.live(app)) : undefined;
      if (duplicate !== undefined) {
        await job.log(duplicate);
        return { ok: true, summary: duplicate };
      }
      return await deploy(job, data);
    } finally {
      await lock.release();
    }
  };

  const deploy = async (job: Job<DeployJobData, DeployJobResult>, data: DeployJobData): Promise<DeployJobResult> => {
    // job.log is a Redis round trip; chaining keeps the lines in order without awaiting each one.
    let logged: Promise<unknown> = Promise.resolve();
    const file = await logFiles.open(data.app, job.id as string, (err) => log.warn({ err: err.message }, 'could not write the deploy log file; the pusher still gets every line'));
    const say = (line: string) => {
      file.write(line);
      logged = logged.then(() => job.log(line)).catch((err: Error) => log.warn({ err }, 'could not write a deploy log line'));
    };
    const jobLog = log.child({ job: job.id, app: data.app, sha: data.sha, kind: data.kind });
    jobLog.info('deploy started');
    const result = await runDeploy(data, job.id as string, deps, config, releases, say, steps);
    say(result.summary);
    await logged;
    await file.close();
    jobLog.info({ ok: result.ok, summary: result.summary }, 'deploy finished');
    const { app, sha, kind, note, pushedBy } = job.data;
    await audit
      .append({ actor: pushedBy, action: kind, app, outcome: result.ok ? 'ok' : result.superseded ? 'superseded' : 'failed', detail: `${note ?? shortSha(sha)}: ${result.summary}` })
      .catch((err: Error) => jobLog.warn({ err }, 'could not write the audit log'));
    return result;
  };

  const worker = new Worker<DeployJobData, DeployJobResult>(settings.queueName, processJob, {
    connection,
    concurrency: settings.workerConcurrency,
    // A build can take many minutes; the lock is renewed while the job runs, and a dead worker's
    // job is requeued once this long after it died (every step is safe to run twice).
    lockDuration: settings.jobLockMs,
    stalledInterval: Math.max(1000, Math.floor(settings.jobLockMs / 2)),
  });
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  return worker;
}
