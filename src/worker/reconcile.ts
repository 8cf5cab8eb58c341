import type { RenderedSite } from '../apache/apache-sites';
import { parseAppSettings, type AppSettings } from '../app-settings';
import type { AppConfig } from '../apps/app-config-store';
import { containerNames, publicDomain, type DeployConfig, type DeployContext, type DeployDeps } from '../deploy/deploy-context';
import { DEPLOY_STEPS } from '../deploy/deploy-steps';
import { waitHealthy } from '../deploy/health-check';
import { runSteps } from '../deploy/step-runner';
import { releaseContainerName } from '../deploy/release-phase';
import { LABEL, type ContainerInfo } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployJobData } from '../queue/deploy-job';
import type { ReleaseStore } from '../releases/release-store';

/** What reconciling needs; the worker passes real adapters, tests may pass fakes. */
export interface ReconcileDeps {
  /** The deploys' own machinery: an interrupted deploy is finished by the deploy's own steps. */
  deploy: DeployDeps;
  config: DeployConfig;
  releases: ReleaseStore;
  /** Apps with a deploy queued or running: those are left to their job (a stalled one re-runs). */
  busyApps(): Promise<Set<string>>;
  /** Branch tips of the app's repo. */
  branchTips(app: string): Promise<{ ref: string; sha: string }[]>;
  enqueue(data: Omit<DeployJobData, 'pushedAt'>): Promise<void>;
}

/**
 * Brings Docker, Apache and the release records back in line after slipway stopped mid-deploy
 * (a crash, a reboot, a lost Redis), before the worker takes new jobs. Per app: a leftover
 * `<app>-pending` is finished (if traffic already goes to it and it is healthy) by the deploy's own
 * last steps (drain and stop the old container, rename the new one), or removed;
 * Apache is pointed at the container that actually serves; `deploying` records of dead deploys
 * are closed with a reason; a pushed commit whose deploy was lost with the queue is queued again.
 * Returns one line per action taken.
 */
export async function reconcile(deps: ReconcileDeps): Promise<string[]> {
  const actions: string[] = [];
  const busy = await deps.busyApps();
  const apps = await deps.deploy.listApps();
  for (const app of apps) {
    if (busy.has(app)) continue;
    try {
      actions.push(...(await reconcileApp(deps, app)).map((a) => `${app}: ${a}`));
    } catch (err) {
      actions.push(`${app}: could not reconcile: ${(err as Error).message}`);
    }
  }
  actions.push(...(await reconcileRoutes(deps, new Set([...apps, ...busy]))));
  return actions;
}

/**
 * Apache's side of a lost SLIPWAY_HOME (deleted, a fresh install, an old backup restored): every
 * container that serves keeps being routed, from its own labels (port, domain), whether or not
 * slipway still has its app; then whatever slipway rendered for an app it has neither a repo nor
 * a serving container for is removed.
 */
async function reconcileRoutes(deps: ReconcileDeps, apps: Set<string>): Promise<string[]> {
  const actions: string[] = [];
  const serving = (await deps.deploy.docker.listSlipwayContainers()).filter((c) => c.running && c.name === c.labels[LABEL.app] && Number.isInteger(Number(c.labels[LABEL.port])));
  for (const container of serving.filter((c) => !apps.has(c.name))) {
    const app = container.name;
    try {
      const known = await deps.deploy.apache.hostMap.routesOf(app);
      const domain = container.labels[LABEL.domain] ?? known[0]?.host ?? `${app}.localhost`;
      const site = await deps.deploy.apache.render(app, Number(container.labels[LABEL.port]), domain, [...apps]);
      if (!(await deps.deploy.apache.isApplied(site))) await deps.deploy.apache.apply(site, { reload: 'own-vhosts' });
      actions.push(
        `${app}: container ${app} serves ${domain} on :${container.labels[LABEL.port]} but slipway has no app ${app} (SLIPWAY_HOME lost?): kept it routed; push to it to make it an app again`,
      );
    } catch (err) {
      actions.push(`${app}: could not route its serving container: ${(err as Error).message}`);
    }
  }
  const keep = new Set([...apps, ...serving.map((c) => c.name)]);
  try {
    actions.push(...(await deps.deploy.apache.removeStale(keep)).map((a) => `apache: ${a}`));
  } catch (err) {
    actions.push(`apache: could not remove stale routes: ${(err as Error).message}`);
  }
  return actions;
}

async function reconcileApp(deps: ReconcileDeps, app: string): Promise<string[]> {
  const actions: string[] = [];
  const names = containerNames(app);
  const others = await deps.deploy.listApps();
  const config = await deps.deploy.readAppConfig(app);
  const settingsAt = async (sha: string) => parseAppSettings(await deps.deploy.readRepoFile(app, sha, 'slipway.json'));
  const siteFor = async (container: ContainerInfo) => {
    const sha = container.labels[LABEL.sha] ?? '';
    const settings = await settingsAt(sha);
    return { sha, settings, site: await deps.deploy.apache.render(app, Number(container.labels[LABEL.port]), publicDomain(app, settings, config), others, config.maintenance === true) };
  };
  // Patient: right after a restart the machine may be busy; a healthy container is worth keeping.
  const healthy = async (container: ContainerInfo, settings: AppSettings) =>
    container.running &&
    !container.restarted &&
    (await waitHealthy({ port: Number(container.labels[LABEL.port]), path: settings.healthcheck.path, timeoutMs: 10_000, intervalMs: 250, checkAlive: async () => undefined }).then(
      () => true,
      () => false,
    ));

  let live = await deps.deploy.docker.inspectContainer(names.live);
  const pending = await deps.deploy.docker.inspectContainer(names.pending);
  if (pending) {
    const { sha, settings, site } = await siteFor(pending);
    if ((await deps.deploy.apache.isApplied(site)) && (await healthy(pending, settings))) {
      const said = await finishDeploy(deps, app, pending, settings, config);
      await closeDeploying(deps, app, sha, 'live', 'finished by slipway after a restart');
      actions.push(`finished the interrupted deploy of ${shortSha(sha)} (traffic was already on it): ${said.join('; ')}`);
      live = await deps.deploy.docker.inspectContainer(names.live);
    } else {
      // Traffic first goes back to the container that serves, then the pending one goes.
      if (live?.running) actions.push(...(await routeTo(deps, live, siteFor)));
      await deps.deploy.docker.removeContainer(names.pending);
      actions.push(`removed ${names.pending} of ${shortSha(sha)} left by an interrupted deploy`);
    }
  }
  // A release command cut off with its deploy: the deploy is not coming back (its job is gone).
  if (await deps.deploy.docker.inspectContainer(releaseContainerName(app))) {
    await deps.deploy.docker.removeContainer(releaseContainerName(app));
    actions.push(`removed ${releaseContainerName(app)} left by an interrupted release command`);
  }
  const liveSha = live?.running ? (live.labels[LABEL.sha] ?? '') : undefined;
  for (const record of (await deps.releases.list(app)).filter((r) => r.result === 'deploying')) {
    const result = record.sha === liveSha ? 'live' : 'failed';
    await closeDeploying(
      deps,
      app,
      record.sha,
      result,
      result === 'live' ? 'finished by slipway after a restart' : `interrupted: slipway stopped mid-deploy; ${liveSha ? shortSha(liveSha) : 'nothing'} kept serving`,
    );
    actions.push(`closed the interrupted deploy of ${shortSha(record.sha)} as ${result}`);
  }
  if (live?.running) actions.push(...(await routeTo(deps, live, siteFor)));
  actions.push(...(await requeueLostPushes(deps, app, liveSha)));
  return actions;
}

/** The steps that end every deploy once traffic is on the new version: from the point of no return on. */
const FINISH_STEPS = DEPLOY_STEPS.slice(DEPLOY_STEPS.findIndex((step) => step.pointOfNoReturn));

/**
 * Finishes a deploy whose switch happened before slipway stopped: runs the deploy's own last steps
 * (retire: drain, stop and remove the old container; promote: rename `<app>-pending`) through the
 * step runner.
 * Returns what the steps said.
 */
async function finishDeploy(deps: ReconcileDeps, app: string, pending: ContainerInfo, settings: AppSettings, config: AppConfig): Promise<string[]> {
  const sha = pending.labels[LABEL.sha] ?? '';
  const record = (await deps.releases.list(app)).find((r) => r.result === 'deploying' && r.sha === sha);
  const said: string[] = [];
  const ctx: DeployContext = {
    job: { app, sha, ref: record?.ref ?? '', kind: record?.kind ?? 'push', pushedBy: record?.pushedBy ?? 'slipway', pushedAt: record?.startedAt ?? new Date().toISOString() },
    deployId: pending.labels[LABEL.deploy] ?? record?.deployId ?? '',
    deps: deps.deploy,
    config: deps.config,
    say: (line) => said.push(line.trim().replace(/^-----> /, '')),
    state: { appSettings: settings, appConfig: config, port: Number(pending.labels[LABEL.port]) },
    // The finishing steps record nothing; reconcile closes the release record itself afterwards.
    recordRelease: () => Promise.reject(new Error('internal: the finishing steps do not record releases')),
  };
  const ignore = () => undefined;
  await runSteps(FINISH_STEPS, ctx, { started: ignore, finished: ignore, failed: ignore, undone: ignore, undoFailed: ignore });
  return said;
}

/** Points Apache at `container` unless it already is. */
async function routeTo(deps: ReconcileDeps, container: ContainerInfo, siteFor: (c: ContainerInfo) => Promise<{ site: RenderedSite }>): Promise<string[]> {
  const { site } = await siteFor(container);
  if (await deps.deploy.apache.isApplied(site)) return [];
  // The container serves already: whatever Apache has loaded keeps routing it (new files on disk
  // wait for Apache's next reload); only a changed vhost of the app's own needs one now.
  await deps.deploy.apache.apply(site, { reload: 'own-vhosts' });
  return [`pointed Apache at the serving container (${shortSha(container.labels[LABEL.sha] ?? '')} on :${container.labels[LABEL.port]})`];
}

async function closeDeploying(deps: ReconcileDeps, app: string, sha: string, result: 'live' | 'failed', reason: string): Promise<void> {
  for (const record of (await deps.releases.list(app)).filter((r) => r.result === 'deploying' && r.sha === sha)) {
    await deps.releases.record({ ...record, result, reason });
  }
}

/** A deploy-branch tip that never got a release record was pushed but its deploy was lost (Redis wiped). */
async function requeueLostPushes(deps: ReconcileDeps, app: string, liveSha: string | undefined): Promise<string[]> {
  const recorded = new Set((await deps.releases.list(app)).map((r) => r.sha));
  const actions: string[] = [];
  for (const tip of await deps.branchTips(app)) {
    if (tip.sha === liveSha || recorded.has(tip.sha)) continue;
    let branch: string;
    try {
      branch = parseAppSettings(await deps.deploy.readRepoFile(app, tip.sha, 'slipway.json')).branch;
    } catch {
      continue;
    }
    if (tip.ref !== `refs/heads/${branch}`) continue;
    await deps.enqueue({ app, sha: tip.sha, ref: tip.ref, kind: 'push', pushedBy: 'slipway', note: 'recovered: its deploy was lost while slipway was down' });
    actions.push(`queued ${shortSha(tip.sha)} of ${branch} again: it was pushed but never deployed`);
  }
  return actions;
}
