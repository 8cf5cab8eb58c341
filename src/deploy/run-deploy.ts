import { LABEL } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployJobData, DeployJobResult } from '../queue/deploy-job';
import type { ReleaseRecord, ReleaseStore } from '../releases/release-store';
import { releaseTagName } from '../releases/release-tags';
import { imagesToRemove } from './image-retention';
import { publicDomain, type DeployConfig, type DeployContext, type DeployDeps } from './deploy-context';
import { DEPLOY_STEPS } from './deploy-step-list';
import type { RunningProbe } from './deploy-probe';
import { probeLine, type ProbeReport } from './probe-stats';
import type { DeployEvent } from '../notify/deploy-event';
import { runSteps, StepFailedError, type DeployStep } from './step-runner';
import { listWebContainers } from './web-containers';
import { formatTypeCounts, processStatus } from '../apps/process-status';
import type { AppConfig } from '../apps/app-config-store';
import { processTypes, type Procfile } from './procfile';
import { onSeveralHosts } from './deploy-plan';
import { LOCAL_HOST } from '../cluster/host-name';
import { hostsProbeLine, rolloutHosts } from './rollout-steps';

/** Plain-words names of the steps, for failure lines. */
const STEP_FAILURE: Record<string, string> = {
  settings: 'invalid settings',
  procfile: 'invalid Procfile',
  plan: 'not deployed',
  'scale-workers': 'the worker counts did not change',
  build: 'build failed',
  start: 'could not start the new container',
  workers: 'the new workers did not start',
  record: 'could not write the release record (nothing was switched)',
  switch: 'Apache switch failed',
  retire: 'new version is live, but stopping the previous container failed',
  promote: 'new version is live, but renaming its container failed',
  'retire-workers': 'new version is live, but stopping the previous workers failed',
  'promote-workers': 'new version is live, but renaming its workers failed',
  publish: 'could not publish the image to the registry (nothing was started on any host)',
  'finish-hosts': 'new version is live on every host, but stopping the previous containers failed',
};

/** Steps after the point of no return: their failure leaves the new version live. */
const AFTER_SWITCH_FOR_GOOD = new Set(['retire', 'retire-workers', 'promote', 'promote-workers', 'finish-hosts']);
/** Steps that fail by reverting a switched release. */
const WATCH_STEPS = new Set(['watch', 'watch-workers', 'commit-hosts']);
/** Steps whose failure already reads as a sentence ("health check failed: …", "h3: reverted: …"). */
const SENTENCE_STEPS = new Set(['health', 'release', 'prepare-hosts', ...WATCH_STEPS]);

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
    liveShas: async () =>
      (await releases.list(job.app))
        .filter((r) => r.result === 'live')
        .reverse()
        .map((r) => r.sha),
    recordRelease: (patch) => releases.record({ ...base, durationMs: Date.now() - started, port: ctx.state.ports?.[0], ...hostsOfRelease(ctx), ...patch }),
  };
  // The probe watches the public route for the whole deploy when something already serves it,
  // else from the moment the switch gives the app a route.
  const wasServing = (await listWebContainers(deps.docker, job.app)).live.some((c) => c.running);
  const notify = (event: DeployEvent['event'], extra: Partial<DeployEvent> = {}) =>
    deps.notify({ event, app: job.app, sha: job.sha, ref: job.ref, kind: job.kind, pushedBy: job.pushedBy, at: new Date().toISOString(), ...extra });
  notify('deploy.started');
  let probe: RunningProbe | undefined;
  const startProbe = () => {
    const settings = ctx.state.appSettings;
    // A workers-only release has no route to probe; the probe asks this server's Apache, so an app on other hosts only has none here.
    if (probe || !settings || ctx.state.plan?.web === 'none' || ctx.state.plan?.hosts.includes(LOCAL_HOST) === false) return;
    probe = deps.startProbe({ host: publicDomain(job.app, settings, ctx.state.appConfig), path: settings.healthcheck.path, https: ctx.state.tlsNames !== undefined });
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
    const reason = SENTENCE_STEPS.has(step) ? firstLine(cause) : `${STEP_FAILURE[step] ?? `${step} failed`}: ${firstLine(cause)}`;
    const live = AFTER_SWITCH_FOR_GOOD.has(step);
    await ctx.recordRelease({ result: live ? 'live' : 'failed', reason }).catch((e: Error) => say(`       could not record the release: ${e.message}`));
    const serving = live ? `${shortSha(job.sha)} serving` : await stillServing(deps, job.app);
    const summary = `✘ ${reason}; ${serving}`;
    notify(WATCH_STEPS.has(step) ? 'deploy.reverted' : 'deploy.failed', { summary });
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
  if (release) await afterSuccess(release, ctx.state.replacedImageId, deps, config, ctx.liveShas, say);
  // "live in" is push → traffic on the new version (a workers-only release: its workers up); the
  // watch and drain that follow are not waiting time.
  const workersOnly = ctx.state.plan?.web === 'none';
  const liveAfterMs = ((workersOnly ? ctx.state.workersStartedAt : ctx.state.switchedAt) ?? Date.now()) - started;
  const url = ctx.state.appSettings && !workersOnly ? `${config.https || ctx.state.tlsNames ? 'https' : 'http'}://${publicDomain(job.app, ctx.state.appSettings, ctx.state.appConfig)}/` : undefined;
  const { hosts, skippedHosts } = hostsOfRelease(ctx);
  const skipped = skippedHosts ? ` (${skippedHosts.join(', ')} left out: not answering)` : '';
  const where = workersOnly ? 'workers only' : hosts ? `on ${hosts.length} host${hosts.length > 1 ? 's' : ''} (${hosts.join(', ')})${skipped}` : `on ${portsText(ctx.state.ports ?? [])}`;
  const counts = await runningCounts(deps, job.app, ctx.state.procfile, ctx.state.appConfig);
  const summary = [`✔ ${job.app} ${shortSha(job.sha)} live ${where} in ${(liveAfterMs / 1000).toFixed(1)} s`, url, counts, probeReport && probeLine(probeReport), hostsProbeLine(ctx)]
    .filter(Boolean)
    .join(' · ');
  notify('deploy.succeeded', { summary, release: release?.number, url });
  return { ok: true, summary };
}

/** Bookkeeping after a successful deploy; it never fails the deploy, it only says what went wrong. */
async function afterSuccess(
  release: ReleaseRecord,
  replacedImageId: string | undefined,
  deps: DeployDeps,
  config: DeployConfig,
  liveShas: () => Promise<string[]>,
  say: (line: string) => void,
): Promise<void> {
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
    const successful = await liveShas();
    const inUse = new Set((await deps.docker.listSlipwayContainers()).map((c) => c.imageId));
    const replaced = replacedImageId === undefined ? [] : [{ id: replacedImageId, sha: '', tags: [] }];
    const doomed = imagesToRemove([...(await deps.docker.listAppImages(release.app)), ...replaced], successful, release.sha, inUse, config.keepReleases);
    for (const image of doomed) await deps.docker.removeImage(image.id);
    if (doomed.length > 0) say(`       removed ${doomed.length} old image(s), keeping the last ${config.keepReleases} releases`);
  } catch (err) {
    say(`       could not remove old images: ${(err as Error).message}`);
  }
}

/** What serves after a failed deploy: the live web containers, as Docker says now. */
async function stillServing(deps: DeployDeps, app: string): Promise<string> {
  const live = (await listWebContainers(deps.docker, app).catch(() => undefined))?.live.find((c) => c.running);
  return live ? `${shortSha(live.labels[LABEL.sha] ?? '')} still serving` : 'nothing was serving before';
}

/**
 * "web 3/3, worker 2/2": what runs of each process type against its scale, as Docker says now.
 * Undefined for an app of one web container and nothing else (its line stays as it always was),
 * and when Docker cannot tell.
 */
async function runningCounts(deps: DeployDeps, app: string, procfile: Procfile | undefined, config: AppConfig | undefined): Promise<string | undefined> {
  if (!procfile) return undefined;
  const containers = await deps.docker.listSlipwayContainers().catch(() => undefined);
  if (!containers) return undefined;
  const { types } = processStatus(app, { containers, types: processTypes(procfile), scale: config?.scale, releaseOfSha: () => undefined, now: Date.now() });
  const plain = types.length === 1 && types[0].type === 'web' && types[0].scale === 1;
  return plain ? undefined : formatTypeCounts(types);
}

/** An app on several hosts: where its release went (and which hosts were left out); nothing for one host. */
function hostsOfRelease(ctx: DeployContext): Pick<ReleaseRecord, 'hosts' | 'skippedHosts'> {
  const plan = ctx.state.plan;
  if (!plan || !onSeveralHosts(plan.hosts)) return {};
  return { hosts: rolloutHosts(ctx), ...(ctx.state.skippedHosts ? { skippedHosts: ctx.state.skippedHosts } : {}) };
}

/** "port 8081", or "ports 8081, 8082, 8083" with several web containers. */
function portsText(ports: number[]): string {
  return ports.length > 1 ? `ports ${ports.join(', ')}` : `port ${ports[0]}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
