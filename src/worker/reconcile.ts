import { LOCAL_HOST } from '../cluster/host-name';
import type { RenderedSite } from '../apache/apache-sites';
import { parseAppSettings, type AppSettings } from '../app-settings';
import type { AppConfig } from '../apps/app-config-store';
import { publicDomain, type DeployConfig, type DeployContext, type DeployDeps } from '../deploy/deploy-context';
import { DEPLOY_STEPS } from '../deploy/deploy-step-list';
import { waitHealthy } from '../deploy/health-check';
import { runSteps } from '../deploy/step-runner';
import { containerPort, listWebContainers, replicaNumber, webReplicas } from '../deploy/web-containers';
import { releaseContainerName } from '../deploy/release-phase';
import { isNextWorker, plannedWorkers, workerContainers } from '../deploy/worker-plan';
import { promoteWorkers, retireWorkers } from '../deploy/worker-steps';
import { scaleWorkers, workerChanges } from '../deploy/worker-scale';
import { hasWebProcess, parseProcfile } from '../deploy/procfile';
import { LABEL, type ContainerInfo } from '../docker/docker-engine';
import { shortSha } from '../names';
import { RECOVERED_PUSH_NOTE, type DeployJobData } from '../queue/deploy-job';
import type { ReleaseStore } from '../releases/release-store';
import { appTlsNamesIfValid } from '../tls/app-tls';

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
 * (a crash, a reboot, a lost Redis), before the worker takes new jobs. Per app: leftover pending
 * web containers are finished (if traffic already goes to all of them and they are healthy) by the
 * deploy's own last steps (drain and stop the old containers, rename the new ones), or removed;
 * Apache is pointed at every web container that actually serves; `deploying` records of dead deploys
 * are closed with a reason; the live release is brought back to the app's scale per process type
 * (`restoreCounts`); a pushed commit whose deploy was lost with the queue is queued again.
 * Returns one line per action taken.
 */
export async function reconcile(deps: ReconcileDeps): Promise<string[]> {
  const actions: string[] = [];
  const busy = await deps.busyApps();
  const apps = await deps.deploy.listApps();
  for (const app of apps) {
    try {
      actions.push(...(await reviveLive(deps, app)).map((a) => `${app}: ${a}`));
    } catch (err) {
      actions.push(`${app}: could not start its container again: ${(err as Error).message}`);
    }
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
  const containers = await deps.deploy.docker.listSlipwayContainers();
  // Apps slipway does not have whose web containers serve: every running live replica, by app label.
  const orphans = new Set(containers.filter((c) => c.running && c.labels[LABEL.app] !== undefined && !apps.has(c.labels[LABEL.app])).map((c) => c.labels[LABEL.app]));
  const serving = new Set<string>();
  for (const app of orphans) {
    const web = (await listWebContainers(deps.deploy.docker, app)).live.filter((c) => c.running && containerPort(c) !== undefined);
    if (web.length === 0) continue;
    serving.add(app);
    try {
      const known = await deps.deploy.apache.hostMap.routesOf(app);
      const domain = web[0].labels[LABEL.domain] ?? known[0]?.host ?? `${app}.localhost`;
      const ports = web.flatMap((c) => containerPort(c) ?? []);
      const site = await deps.deploy.apache.render(app, ports, domain, [...apps]);
      if (!(await deps.deploy.apache.isApplied(site))) await deps.deploy.apache.apply(site, { reload: 'own-vhosts' });
      const names = web.map((c) => c.name).join(', ');
      actions.push(
        `${app}: container${web.length > 1 ? 's' : ''} ${names} serve${web.length > 1 ? '' : 's'} ${domain} on ${ports.map((p) => `:${p}`).join(' ')} but slipway has no app ${app} (SLIPWAY_HOME lost?): kept routed; push to it to make it an app again`,
      );
    } catch (err) {
      actions.push(`${app}: could not route its serving containers: ${(err as Error).message}`);
    }
  }
  const keep = new Set([...apps, ...serving]);
  try {
    actions.push(...(await deps.deploy.apache.removeStale(keep)).map((a) => `apache: ${a}`));
  } catch (err) {
    actions.push(`apache: could not remove stale routes: ${(err as Error).message}`);
  }
  return actions;
}

/** What settling one app's interrupted deploy needs: a part of {@link ReconcileDeps}. */
export type SettleDeps = Pick<ReconcileDeps, 'deploy' | 'config' | 'releases'>;

/** How reconcile looks at one app: its config, its settings at a commit, the site for some web containers. */
interface AppView {
  config: AppConfig;
  settingsAt(sha: string): Promise<AppSettings>;
  /** The site that routes to `containers` (one release's web replicas, in replica order). */
  siteFor(containers: ContainerInfo[]): Promise<{ sha: string; settings: AppSettings; ports: number[]; site: RenderedSite }>;
}

async function viewApp(deps: SettleDeps, app: string): Promise<AppView> {
  const others = await deps.deploy.listApps();
  const config = await deps.deploy.readAppConfig(app);
  const settingsAt = async (sha: string) => parseAppSettings(await deps.deploy.readRepoFile(app, sha, 'slipway.json'));
  const siteFor = async (containers: ContainerInfo[]) => {
    const sha = containers[0].labels[LABEL.sha] ?? '';
    const settings = await settingsAt(sha);
    const ports = containers.flatMap((c) => containerPort(c) ?? []);
    return {
      sha,
      settings,
      ports,
      site: await deps.deploy.apache.render(app, ports, publicDomain(app, settings, config), others, config.maintenance === true, appTlsNamesIfValid(settings, config, deps.config.acme)),
    };
  };
  return { config, settingsAt, siteFor };
}

/**
 * Settles what an interrupted deploy left of the app's web containers: its pending ones are
 * finished by the deploy's own last steps when traffic already goes to all of them and they are
 * healthy (drain and stop the old containers, rename the new ones), else traffic goes back to
 * the containers that serve and the pending ones are removed. Then its workers (see
 * reconcileWorkers). Returns one line per action taken; none when nothing was left.
 */
async function settleInterruptedWeb(deps: SettleDeps, app: string, view: AppView): Promise<string[]> {
  const actions: string[] = [];
  const { siteFor } = view;
  // Patient: right after a restart the machine may be busy; a healthy container is worth keeping.
  const healthy = async (container: ContainerInfo, settings: AppSettings) =>
    container.running &&
    !container.restarted &&
    (await waitHealthy({ port: Number(container.labels[LABEL.port]), path: settings.healthcheck.path, timeoutMs: 10_000, intervalMs: 250, checkAlive: async () => undefined }).then(
      () => true,
      () => false,
    ));
  const inspectAll = async (list: ContainerInfo[]) => (await Promise.all(list.map((c) => deps.deploy.docker.inspectContainer(c.name)))).filter((c) => c !== undefined);

  const web = await listWebContainers(deps.deploy.docker, app);
  if (web.pending.length > 0) {
    const deployId = web.pending[0].labels[LABEL.deploy];
    // The interrupted deploy's web containers: its pending ones and any it promoted before it stopped.
    const ours = await inspectAll(
      [...web.live.map((c) => ({ c, n: replicaNumber(app, c.name, 'web') ?? 0 })), ...web.pending.map((c) => ({ c, n: replicaNumber(app, c.name, 'pending') ?? 0 }))]
        .filter((x) => x.c.labels[LABEL.deploy] === deployId)
        .sort((x, y) => x.n - y.n)
        .map((x) => x.c),
    );
    const { sha, settings, ports, site } = await siteFor(ours);
    if ((await deps.deploy.apache.isApplied(site)) && (await Promise.all(ours.map((c) => healthy(c, settings)))).every(Boolean)) {
      const said = await finishDeploy(deps, app, deployId ?? '', sha, ports, settings, view.config);
      await closeDeploying(deps, app, sha, 'live', 'finished by slipway after a restart');
      actions.push(`finished the interrupted deploy of ${shortSha(sha)} (traffic was already on it): ${said.join('; ')}`);
    } else {
      // Traffic first goes back to the containers that serve, then the pending ones go.
      const serving = web.live.filter((c) => c.running && c.labels[LABEL.deploy] !== deployId);
      if (serving.length > 0) actions.push(...(await routeTo(deps, serving, siteFor)));
      for (const pending of web.pending) {
        await deps.deploy.docker.removeContainer(pending.name);
        actions.push(`removed ${pending.name} of ${shortSha(pending.labels[LABEL.sha] ?? '')} left by an interrupted deploy`);
      }
    }
  }
  actions.push(...(await reconcileWorkers(deps, app, view.settingsAt, view.config)));
  return actions;
}

/**
 * Before a deploy job touches the app: when another deploy's pending web containers are still
 * there (that deploy was interrupted after its switch, and this job got the app first, e.g. a
 * newer push, or the same push queued again while slipway restarted), that deploy is settled the
 * way reconcile would, so this job never removes containers that serve. The interrupted deploy's
 * `deploying` record is closed as what now serves. Returns the actions taken (none in the usual case).
 */
export async function settleOtherDeploy(deps: SettleDeps, app: string, jobId: string): Promise<string[]> {
  const { pending } = await listWebContainers(deps.deploy.docker, app);
  const other = pending.map((c) => c.labels[LABEL.deploy]).find((id) => id !== undefined && id !== jobId);
  if (other === undefined) return [];
  const actions = await settleInterruptedWeb(deps, app, await viewApp(deps, app));
  // Finished deploys closed their record above; one that was rolled back ends failed here.
  for (const record of (await deps.releases.list(app)).filter((r) => r.result === 'deploying' && r.deployId === other)) {
    await deps.releases.record({ ...record, result: 'failed', reason: 'interrupted: slipway stopped mid-deploy, and the next deploy took over' });
    actions.push(`closed the interrupted deploy of ${shortSha(record.sha)} as failed`);
  }
  return actions;
}

async function reconcileApp(deps: ReconcileDeps, app: string): Promise<string[]> {
  const view = await viewApp(deps, app);
  const actions = await settleInterruptedWeb(deps, app, view);
  // A release command cut off with its deploy: the deploy is not coming back (its job is gone).
  if (await deps.deploy.docker.inspectContainer(releaseContainerName(app))) {
    await deps.deploy.docker.removeContainer(releaseContainerName(app));
    actions.push(`removed ${releaseContainerName(app)} left by an interrupted release command`);
  }
  const live = (await listWebContainers(deps.deploy.docker, app)).live.filter((c) => c.running);
  // A workers-only app has no web container: its running workers say which commit is live.
  const liveWorker = workerContainers(await deps.deploy.docker.listSlipwayContainers(), app).find((c) => c.running && !isNextWorker(c));
  const liveSha = live.length > 0 ? (live[0].labels[LABEL.sha] ?? '') : liveWorker?.labels[LABEL.sha];
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
  if (live.length > 0) actions.push(...(await routeTo(deps, live, view.siteFor)));
  actions.push(...(await restoreCounts(deps, app, view.config, view.settingsAt)));
  actions.push(...(await requeueLostPushes(deps, app, liveSha)));
  return actions;
}

/**
 * Starts the app's live container again when Docker, not a person, stopped it. A restart of the
 * Engine without live-restore stops every running container and counts that as a stop by hand, so
 * their `unless-stopped` policy never brings them back. A container `slipway stop` stopped stays
 * stopped. Done for an app with a deploy under way too: that deploy treats the container as the
 * old version whether it runs or not, and until it runs nothing serves the app.
 */
async function reviveLive(deps: ReconcileDeps, app: string): Promise<string[]> {
  const { live } = await listWebContainers(deps.deploy.docker, app);
  const stoppedByHand = new Set((await deps.deploy.readAppConfig(app)).stoppedContainers ?? []);
  const actions: string[] = [];
  for (const container of live) {
    if (container.running || stoppedByHand.has(container.id)) continue;
    await deps.deploy.docker.startContainer(container.name);
    actions.push(`started ${container.name} (${shortSha(container.labels[LABEL.sha] ?? '')}) again: Docker had stopped it (exit code ${container.exitCode}), not \`slipway stop\``);
  }
  return actions;
}

/** The steps that end every deploy once traffic is on the new version: from the point of no return on. */
const FINISH_STEPS = DEPLOY_STEPS.slice(DEPLOY_STEPS.findIndex((step) => step.pointOfNoReturn));

/**
 * Finishes a deploy whose switch happened before slipway stopped: runs the deploy's own last steps
 * (retire: drain, stop and remove the old web containers; promote: rename the pending ones)
 * through the step runner.
 * Returns what the steps said.
 */
async function finishDeploy(
  deps: SettleDeps,
  app: string,
  deployId: string,
  sha: string,
  ports: number[],
  settings: AppSettings,
  config: AppConfig,
  steps = FINISH_STEPS,
  state: Partial<DeployContext['state']> = {},
): Promise<string[]> {
  const record = (await deps.releases.list(app)).find((r) => r.result === 'deploying' && r.sha === sha);
  const said: string[] = [];
  const ctx: DeployContext = {
    job: { app, sha, ref: record?.ref ?? '', kind: record?.kind ?? 'push', pushedBy: record?.pushedBy ?? 'slipway', pushedAt: record?.startedAt ?? new Date().toISOString() },
    deployId: deployId || (record?.deployId ?? ''),
    deps: deps.deploy,
    config: deps.config,
    say: (line) => said.push(line.trim().replace(/^-----> /, '')),
    // An interrupted deploy that got past the switch was a web deploy that replaces its workers.
    state: { appSettings: settings, appConfig: config, ports, plan: { web: 'deploy', workers: 'replace', hosts: [LOCAL_HOST] }, ...state },
    // The finishing steps record nothing and keep every image; reconcile closes the release record itself afterwards.
    liveShas: () => Promise.resolve([]),
    recordRelease: () => Promise.reject(new Error('internal: the finishing steps do not record releases')),
  };
  const ignore = () => undefined;
  await runSteps(steps, ctx, { started: ignore, finished: ignore, failed: ignore, undone: ignore, undoFailed: ignore });
  return said;
}

/**
 * Worker containers after an interrupted deploy (the web side is settled first). `-next` workers of
 * the deploy whose web containers now serve are promoted (the old ones stopped and removed first);
 * any other `-next` worker is removed; and while the app's web containers run, an old worker that a
 * stop-first deploy had stopped is started again.
 */
async function reconcileWorkers(deps: SettleDeps, app: string, settingsAt: (sha: string) => Promise<AppSettings>, config: AppConfig): Promise<string[]> {
  const actions: string[] = [];
  const docker = deps.deploy.docker;
  const serving = (await listWebContainers(docker, app)).live.filter((c) => c.running);
  const workers = workerContainers(await docker.listSlipwayContainers(), app);
  const nexts = workers.filter(isNextWorker);
  // A workers-only app has no web container to tell which deploy is live: its deploy got past the
  // point of no return when none of the previous workers is left.
  const liveDeploy = serving.length > 0 ? serving[0].labels[LABEL.deploy] : workers.every(isNextWorker) ? nexts[0]?.labels[LABEL.deploy] : undefined;
  if (nexts.length > 0 && liveDeploy !== undefined && nexts.every((n) => n.labels[LABEL.deploy] === liveDeploy)) {
    const sha = (serving[0] ?? nexts[0]).labels[LABEL.sha] ?? '';
    const ports = serving.flatMap((c) => containerPort(c) ?? []);
    const said = await finishDeploy(deps, app, liveDeploy, sha, ports, await settingsAt(sha), config, [retireWorkers, promoteWorkers]);
    actions.push(`finished the interrupted deploy's workers (${nexts.map((n) => n.name).join(', ')})${said.length > 0 ? `: ${said.join('; ')}` : ''}`);
  } else {
    for (const next of nexts) {
      await docker.removeContainer(next.name);
      actions.push(`removed ${next.name} left by an interrupted deploy`);
    }
  }
  // Workers Docker stopped (an Engine restart), or an interrupted stop-first deploy stopped, run
  // again; not those of an app stopped with `slipway stop`.
  const containers = await docker.listSlipwayContainers();
  if (stoppedByHand(containers, app, config)) return actions;
  for (const old of workerContainers(containers, app).filter((c) => !isNextWorker(c) && !c.running)) {
    await docker.startContainer(old.name);
    actions.push(`started ${old.name} again: it was stopped (by Docker or an interrupted stop-first deploy), not by \`slipway stop\``);
  }
  return actions;
}

/** Whether the app was stopped with `slipway stop`: one of its containers is one that stop stopped and it has not started since. */
function stoppedByHand(containers: ContainerInfo[], app: string, config: AppConfig): boolean {
  const ids = new Set(config.stoppedContainers ?? []);
  return containers.some((c) => c.labels[LABEL.app] === app && !c.running && ids.has(c.id));
}

/**
 * Brings the app's live release back to its scale (app config `scale`; web 1 and 1 per other type
 * when unset) after slipway was down: missing workers of a type start from the live release's image
 * and surplus ones stop (worker-scale.ts, the same step a `scale` job runs); web containers are not
 * started here, since new ones must pass the health check and Apache must switch to all of them at
 * once: when the running web count differs from the scale, a `scale` job is queued, which does just
 * that through the zero-downtime deploy. An app stopped with `slipway stop` is left stopped.
 */
async function restoreCounts(deps: ReconcileDeps, app: string, config: AppConfig, settingsAt: (sha: string) => Promise<AppSettings>): Promise<string[]> {
  const live = await deps.releases.live(app);
  if (!live) return [];
  const docker = deps.deploy.docker;
  const containers = await docker.listSlipwayContainers();
  if (stoppedByHand(containers, app, config)) return [];
  const actions: string[] = [];
  const procfile = parseProcfile(await deps.deploy.readRepoFile(app, live.sha, 'Procfile'));
  const changes = workerChanges(workerContainers(containers, app), plannedWorkers(procfile, config.scale));
  if (changes.start.length > 0 || changes.remove.length > 0) {
    const said = await finishDeploy(deps, app, `reconcile-${Date.now()}`, live.sha, [], await settingsAt(live.sha), config, [scaleWorkers], { procfile });
    actions.push(`restored the worker counts of release ${live.number} (${shortSha(live.sha)}): ${said.join('; ')}`);
  }
  if (!hasWebProcess(procfile)) return actions;
  const running = (await listWebContainers(docker, app)).live.filter((c) => c.running).length;
  const wanted = webReplicas(config);
  if (running !== wanted) {
    await deps.enqueue({ app, sha: live.sha, ref: live.ref, kind: 'scale', pushedBy: 'slipway', note: `restore web=${wanted}: ${running} of ${wanted} web containers ran after a restart` });
    actions.push(`queued a scale job to bring web back to ${wanted} (${running} running): new web containers pass the health check before Apache switches to them`);
  }
  return actions;
}

/** Points Apache at every one of `containers` (the serving web replicas) unless it already is. */
async function routeTo(deps: SettleDeps, containers: ContainerInfo[], siteFor: (c: ContainerInfo[]) => Promise<{ site: RenderedSite; ports: number[] }>): Promise<string[]> {
  const { site, ports } = await siteFor(containers);
  if (await deps.deploy.apache.isApplied(site)) return [];
  // The containers serve already: whatever Apache has loaded keeps routing them (new files on disk
  // wait for Apache's next reload); only a changed vhost of the app's own needs one now.
  await deps.deploy.apache.apply(site, { reload: 'own-vhosts' });
  const what = containers.length > 1 ? `the ${containers.length} serving web containers` : 'the serving container';
  return [`pointed Apache at ${what} (${shortSha(containers[0].labels[LABEL.sha] ?? '')} on ${ports.map((p) => `:${p}`).join(' ')})`];
}

async function closeDeploying(deps: SettleDeps, app: string, sha: string, result: 'live' | 'failed', reason: string): Promise<void> {
  for (const record of (await deps.releases.list(app)).filter((r) => r.result === 'deploying' && r.sha === sha)) {
    await deps.releases.record({ ...record, result, reason });
  }
}

/** A deploy-branch tip that never got a release record was pushed but its deploy was lost (Redis wiped). */
async function requeueLostPushes(deps: ReconcileDeps, app: string, liveSha: string | undefined): Promise<string[]> {
  // Looked at again here, not only when reconcile began: a push may have arrived since (slipway
  // takes pushes while it reconciles), and its own job deploys the branch tip.
  if ((await deps.busyApps()).has(app)) return [];
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
    await deps.enqueue({ app, sha: tip.sha, ref: tip.ref, kind: 'push', pushedBy: 'slipway', note: RECOVERED_PUSH_NOTE });
    actions.push(`queued ${shortSha(tip.sha)} of ${branch} again: it was pushed but never deployed`);
  }
  return actions;
}
