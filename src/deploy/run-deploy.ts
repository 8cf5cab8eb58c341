import { LABEL } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployJobData, DeployJobResult } from '../queue/deploy-job';
import type { ReleaseStore } from '../releases/release-store';
import { containerNames, type DeployConfig, type DeployContext, type DeployDeps } from './deploy-context';
import { DEPLOY_STEPS } from './deploy-steps';
import type { RunningProbe } from './deploy-probe';
import { probeLine } from './probe-stats';
import { runSteps, StepFailedError, type DeployStep } from './step-runner';

/** Plain-words names of the steps, for failure lines. */
const STEP_FAILURE: Record<string, string> = {
  settings: 'invalid slipway.json',
  build: 'build failed',
  start: 'could not start the new container',
  switch: 'Apache switch failed',
  retire: 'new version is live, but stopping the previous container failed',
  promote: 'new version is live, but renaming its container failed',
};

/**
 * Runs one deploy end to end, records the release, and returns the pusher's last line.
 * Never throws for a deploy failure: a failure is a result.
 */
export async function runDeploy(
  job: DeployJobData,
  deps: DeployDeps,
  config: DeployConfig,
  releases: ReleaseStore,
  say: (line: string) => void,
  steps: DeployStep<DeployContext>[] = DEPLOY_STEPS,
): Promise<DeployJobResult> {
  const started = Date.now();
  const ctx: DeployContext = { job, deps, config, say, state: {} };
  const record = { app: job.app, sha: job.sha, ref: job.ref, pushedBy: job.pushedBy, startedAt: new Date(started).toISOString() };
  // The probe watches the public route for the whole deploy when something already serves it,
  // else from the moment the switch gives the app a route.
  const wasServing = (await deps.docker.inspectContainer(containerNames(job.app).live))?.running ?? false;
  let probe: RunningProbe | undefined;
  const startProbe = () => {
    const settings = ctx.state.appSettings;
    if (probe || !settings) return;
    probe = deps.startProbe({ host: settings.domain ?? `${job.app}.localhost`, path: settings.healthcheck.path });
  };
  const reportProbe = async () => {
    if (probe) say(`       ${probeLine(await probe.stop())}`);
  };
  try {
    await runSteps(steps, ctx, {
      started: () => undefined,
      finished: (step) => {
        if (step === 'settings' && wasServing) startProbe();
        if (step === 'switch') startProbe();
      },
      failed: (step, error) => say(`       ${step}: ${error.message}`),
      undone: (step) => say(`       undone: ${step}`),
      undoFailed: (step, error) => say(`       undo of ${step} failed: ${error.message}`),
    });
  } catch (err) {
    await reportProbe();
    const durationMs = Date.now() - started;
    const step = err instanceof StepFailedError ? err.step : 'deploy';
    const cause = err instanceof StepFailedError ? err.cause.message : (err as Error).message;
    // Health and watch failures already read as a sentence ("health check failed: …", "reverted: …").
    const reason = step === 'health' || step === 'watch' ? firstLine(cause) : `${STEP_FAILURE[step] ?? `${step} failed`}: ${firstLine(cause)}`;
    const live = step === 'retire' || step === 'promote';
    await releases.append({ ...record, durationMs, result: live ? 'live' : 'failed', reason, port: ctx.state.port });
    const serving = live ? `${shortSha(job.sha)} serving` : await stillServing(deps, job.app);
    return { ok: false, summary: `✘ ${reason}; ${serving}` };
  }
  await reportProbe();
  const durationMs = Date.now() - started;
  await releases.append({ ...record, durationMs, result: 'live', port: ctx.state.port });
  // "live in" is push → traffic on the new version; the watch and drain that follow are not waiting time.
  const liveAfterMs = (ctx.state.switchedAt ?? Date.now()) - started;
  return { ok: true, summary: `✔ ${job.app} ${shortSha(job.sha)} live on port ${ctx.state.port} in ${(liveAfterMs / 1000).toFixed(1)} s` };
}

/** What serves after a failed deploy: the live container, as Docker says now. */
async function stillServing(deps: DeployDeps, app: string): Promise<string> {
  const live = await deps.docker.inspectContainer(containerNames(app).live).catch(() => undefined);
  return live?.running ? `${shortSha(live.labels[LABEL.sha] ?? '')} still serving` : 'nothing was serving before';
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
