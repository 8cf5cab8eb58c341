import { LABEL } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployJobData, DeployJobResult } from '../queue/deploy-job';
import type { ReleaseRecord, ReleaseStore } from '../releases/release-store';
import { releaseTagName } from '../releases/release-tags';
import { imagesToRemove } from './image-retention';
import { containerNames, publicDomain, type DeployConfig, type DeployContext, type DeployDeps } from './deploy-context';
import { DEPLOY_STEPS } from './deploy-steps';
import type { RunningProbe } from './deploy-probe';
import { probeLine, type ProbeReport } from './probe-stats';
import type { DeployEvent } from '../notify/deploy-event';
import { runSteps, StepFailedError, type DeployStep } from './step-runner';

/** Plain-words names of the steps, for failure lines. */
const STEP_FAILURE: Record<string, string> = {
  settings: 'invalid settings',
  procfile: 'invalid Procfile',
  build: 'build failed',
  start: 'could not start the new container',
  record: 'could not write the release record (nothing was switched)',
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
  deployId: string,
  deps: DeployDeps,
  config: DeployConfig,
  releases: ReleaseStore,
  say: (line: string) => void,
  steps: DeployStep<DeployContext>[] = DEPLOY_STEPS,
): Promise<DeployJobResult> {
  const started = Date.now();
  const base = { app: job.app, sha: job.sha, ref: job.ref, kind: job.kind, note: job.note, deployId, pushedBy: job.pushedBy, startedAt: new Date(started).toISOString() };
  const ctx: DeployContext = {
    job,
    deployId,
    deps,
    config,
    say,
    state: {},
    recordRelease: (patch) => releases.record({ ...base, durationMs: Date.now() - started, port: ctx.state.port, ...patch }),
  };
  // The probe watches the public route for the whole deploy when something already serves it,
  // else from the moment the switch gives the app a route.
  const wasServing = (await deps.docker.inspectContainer(containerNames(job.app).live))?.running ?? false;
  const notify = (event: DeployEvent['event'], extra: Partial<DeployEvent> = {}) =>
    deps.notify({ event, app: job.app, sha: job.sha, ref: job.ref, kind: job.kind, pushedBy: job.pushedBy, at: new Date().toISOString(), ...extra });
  notify('deploy.started');
  let probe: RunningProbe | undefined;
  const startProbe = () => {
    const settings = ctx.state.appSettings;
    if (probe || !settings) return;
    probe = deps.startProbe({ host: publicDomain(job.app, settings, ctx.state.appConfig), path: settings.healthcheck.path });
  };
  let probeReport: ProbeReport | undefined;
  const reportProbe = async () => {
    if (!probe) return;
    probeReport = await probe.stop();
    probe = undefined;
    say(`       ${probeLine(probeReport)}`);
  };
  try {
    await runSteps(steps, ctx, {
      started: () => undefined,
      finished: (step, ms) => {
        // The release step times its command itself (and says nothing when there is none).
        if (ms >= 1000 && step !== 'release') say(`       ${step} took ${(ms / 1000).toFixed(1)} s`);
        if (step === 'settings' && wasServing) startProbe();
        if (step === 'switch') startProbe();
      },
      failed: (step, error) => say(`       ${step}: ${error.message}`),
      undone: (step) => say(`       undone: ${step}`),
      undoFailed: (step, error) => say(`       undo of ${step} failed: ${error.message}`),
    });
  } catch (err) {
    await reportProbe();
    const step = err instanceof StepFailedError ? err.step : 'deploy';
    const cause = err instanceof StepFailedError ? err.cause.message : (err as Error).message;
    // Health, release and watch failures already read as a sentence ("health check failed: …",
    // "release command failed (exit 3): …", "reverted: …").
    const reason = step === 'health' || step === 'watch' || step === 'release' ? firstLine(cause) : `${STEP_FAILURE[step] ?? `${step} failed`}: ${firstLine(cause)}`;
    const live = step === 'retire' || step === 'promote';
    await ctx.recordRelease({ result: live ? 'live' : 'failed', reason }).catch((e: Error) => say(`       could not record the release: ${e.message}`));
    const serving = live ? `${shortSha(job.sha)} serving` : await stillServing(deps, job.app);
    const summary = `✘ ${reason}; ${serving}`;
    notify(step === 'watch' ? 'deploy.reverted' : 'deploy.failed', { summary });
    return live ? { ok: false, live, summary } : { ok: false, summary };
  }
  await reportProbe();
  // Traffic is on the new version and the old one is gone: the deploy happened whether or not this
  // write works. The `deploying` record written before the switch keeps the fact; slipway's next
  // start (reconcile) closes it as live, since the container that serves is this commit's.
  const release = await ctx.recordRelease({ result: 'live' }).catch((err: Error) => {
    say(`       could not mark release as live: ${err.message}`);
    say(`       its record still says "deploying"; slipway closes it as live at its next start (slipway up), once there is room`);
    return undefined;
  });
  if (release) await afterSuccess(release, ctx.state.replacedImageId, deps, config, releases, say);
  // "live in" is push → traffic on the new version; the watch and drain that follow are not waiting time.
  const liveAfterMs = (ctx.state.switchedAt ?? Date.now()) - started;
  const url = ctx.state.appSettings ? `${config.https ? 'https' : 'http'}://${publicDomain(job.app, ctx.state.appSettings, ctx.state.appConfig)}/` : undefined;
  const summary = [`✔ ${job.app} ${shortSha(job.sha)} live on port ${ctx.state.port} in ${(liveAfterMs / 1000).toFixed(1)} s`, url, probeReport && probeLine(probeReport)].filter(Boolean).join(' · ');
  notify('deploy.succeeded', { summary, release: release?.number, url });
  return { ok: true, summary };
}

/** Bookkeeping after a successful deploy; it never fails the deploy, it only says what went wrong. */
async function afterSuccess(release: ReleaseRecord, replacedImageId: string | undefined, deps: DeployDeps, config: DeployConfig, releases: ReleaseStore, say: (line: string) => void): Promise<void> {
  // Here rather than right after the build: it needs the checkout to be a second old, and off
  // the push→live path it costs nobody anything.
  await deps.settleCheckout(release.app);
  try {
    await deps.tagRelease(release);
    say(`       release ${release.number} tagged ${releaseTagName(release)}`);
  } catch (err) {
    say(`       could not tag the release: ${(err as Error).message}`);
  }
  try {
    const successful = (await releases.list(release.app))
      .filter((r) => r.result === 'live')
      .reverse()
      .map((r) => r.sha);
    const inUse = new Set((await deps.docker.listSlipwayContainers()).map((c) => c.imageId));
    const replaced = replacedImageId === undefined ? [] : [{ id: replacedImageId, sha: '', tags: [] }];
    const doomed = imagesToRemove([...(await deps.docker.listAppImages(release.app)), ...replaced], successful, release.sha, inUse, config.keepReleases);
    for (const image of doomed) await deps.docker.removeImage(image.id);
    if (doomed.length > 0) say(`       removed ${doomed.length} old image(s), keeping the last ${config.keepReleases} releases`);
  } catch (err) {
    say(`       could not remove old images: ${(err as Error).message}`);
  }
}

/** What serves after a failed deploy: the live container, as Docker says now. */
async function stillServing(deps: DeployDeps, app: string): Promise<string> {
  const live = await deps.docker.inspectContainer(containerNames(app).live).catch(() => undefined);
  return live?.running ? `${shortSha(live.labels[LABEL.sha] ?? '')} still serving` : 'nothing was serving before';
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
