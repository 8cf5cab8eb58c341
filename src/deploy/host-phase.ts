import { LABEL } from '../docker/docker-engine';
import { publicDomain, type DeployConfig, type DeployContext, type DeployDeps } from './deploy-context';
import { probeLine, type ProbeReport } from './probe-stats';
import { promotePending, retirePrevious, startPending, switchApache, waitForHealth, watchAfterSwitch } from './deploy-steps';
import type { HostPhaseRequest, HostPhaseResult, HostWebContainer, ImageFetcher, RegistryImage } from './host-phase-request';
import { runReleaseCommand } from './release-phase';
import { imagesToRemove } from './image-retention';
import { runSteps, StepFailedError, type DeployStep } from './step-runner';
import { promoteWorkers, retireWorkers, startWorkers, watchWorkers } from './worker-steps';
import { containerPort, listWebContainers } from './web-containers';

type Step = DeployStep<DeployContext>;

function fetchStep(image: RegistryImage, fetcher: ImageFetcher): Step {
  return {
    name: 'image',
    async run(ctx) {
      ctx.say(`-----> ${await fetcher.fetch(image, ctx.job.app, ctx.job.sha)}`);
    },
    async undo(ctx) {
      await fetcher.remove(ctx.job.app, ctx.job.sha);
    },
  };
}

/** Points the app's route at its live web containers that run (the old version); their ports (none: nothing changed). */
async function routeToRunning(ctx: DeployContext): Promise<number[]> {
  const { app } = ctx.job;
  const live = (await listWebContainers(ctx.deps.docker, app)).live.filter((c) => c.running);
  const ports = live.flatMap((c) => containerPort(c) ?? []);
  if (ports.length > 0) await ctx.deps.apache.route(app, { port: ports, maintenance: ctx.state.appConfig?.maintenance === true });
  return ports;
}

/** Traffic back on this host's old web containers, which still run. */
const revertStep: Step = {
  name: 'revert',
  async run(ctx) {
    // The snapshot brings the vhost back as it was before the switch (when the server has it: not
    // when its agent died before reporting). Its port map is not trusted: a commit BullMQ handed
    // this host's agent a second time snapshots the site it had already switched. The old
    // containers still run, so the map goes to them whatever the snapshot said.
    if (ctx.state.siteSnapshot) await ctx.deps.apache.restore(ctx.state.siteSnapshot);
    const ports = await routeToRunning(ctx);
    if (ports.length > 0) ctx.say(`-----> Traffic back on the previous version (${ports.map((p) => `:${p}`).join(' ')})`);
  },
};

/**
 * This host's new workers removed and the previous release's running again: what `workers` undoes
 * after a failure in the same phase, run on its own when a later host's commit fails. Safe on a
 * host whose commit undid itself already, or never started a worker: nothing is left to take back.
 */
const revertWorkers: Step = {
  name: 'revert-workers',
  run: (ctx) => startWorkers.undo?.(ctx) ?? Promise.resolve(),
};

/**
 * Before a prepare replaces another deploy's pending containers on this host (that deploy was cut
 * off, e.g. the server restarted mid-rollout and a newer push got the app first), traffic goes to
 * the containers that still run the old version: the cut-off deploy may have switched this host.
 */
const settleStep: Step = {
  name: 'settle',
  async run(ctx) {
    const { pending } = await listWebContainers(ctx.deps.docker, ctx.job.app);
    if (!pending.some((c) => c.labels[LABEL.deploy] !== ctx.deployId)) return;
    const ports = await routeToRunning(ctx);
    if (ports.length > 0) ctx.say(`-----> Traffic on the running version (${ports.map((p) => `:${p}`).join(' ')}) before an interrupted deploy's pending containers go`);
  },
};

/** After a finish: the host keeps the images of the app's last releases (and any a container uses), like the server. */
const retainImages: Step = {
  name: 'retain-images',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const inUse = new Set((await ctx.deps.docker.listSlipwayContainers()).map((c) => c.imageId));
    const doomed = imagesToRemove(await ctx.deps.docker.listAppImages(app), await ctx.liveShas(), sha, inUse, ctx.config.keepReleases);
    for (const image of doomed) await ctx.deps.docker.removeImage(image.id);
    if (doomed.length > 0) ctx.say(`-----> Removed ${doomed.length} old image(s), keeping the last ${ctx.config.keepReleases} releases`);
  },
};

/**
 * The steps of each phase; `undefined` entries are left out. Workers (Procfile types other than
 * web and release) run on every host of the app, `scale.<type>` of each per host, as web replicas
 * do: they start in the host's commit, after its switch, in the single-host deploy's order
 * (switch → workers → watch → watch-workers), and the previous release's retire in its finish. A
 * commit that fails on this host undoes its own steps (the new workers removed, old stop-first ones
 * started again, the switch restored); `revert` does the same for a host whose commit had succeeded.
 */
function phaseSteps(request: HostPhaseRequest, fetcher: ImageFetcher | undefined): Step[] {
  switch (request.phase) {
    case 'prepare': {
      const steps: (Step | false | undefined)[] = [request.image && fetcher && fetchStep(request.image, fetcher), request.release && runReleaseCommand, settleStep, startPending, waitForHealth];
      return steps.filter((s): s is Step => s !== undefined && s !== false);
    }
    case 'commit':
      return [switchApache, startWorkers, watchAfterSwitch, watchWorkers];
    case 'finish': {
      const steps = [retirePrevious, retireWorkers, promotePending, promoteWorkers];
      // Another host keeps the images the server names; the server's own go by its release bookkeeping.
      return request.liveShas ? [...steps, retainImages] : steps;
    }
    case 'revert':
      return [revertStep, revertWorkers];
    case 'abort':
      return [{ name: 'abort', run: (ctx) => startPending.undo?.(ctx) ?? Promise.resolve() }];
  }
}

/**
 * Runs `request` on the machine `deps` reach: the server's own Docker Engine and Apache for
 * `local`, a host's agent's for the others. The steps and their undo are the single-host deploy's
 * (a failed prepare removes what it started; a failed watch switches back), run by the same runner.
 */
export async function runHostPhase(request: HostPhaseRequest, deps: DeployDeps, config: DeployConfig, say: (line: string) => void, fetcher?: ImageFetcher): Promise<HostPhaseResult> {
  const ctx: DeployContext = {
    job: request.job,
    deployId: request.deployId,
    deps,
    config,
    say,
    liveShas: () => Promise.resolve(request.liveShas ?? []),
    recordRelease: () => Promise.reject(new Error('internal: a host does not record releases (the server does)')),
    state: {
      appSettings: request.appSettings,
      appConfig: request.appConfig,
      procfile: request.procfile,
      plan: { web: 'deploy', workers: 'replace', hosts: ['local'] },
      ports: request.ports,
      siteSnapshot: request.snapshot,
    },
  };
  // The server's probe asks its own Apache only: another host's visitors go through that host's.
  const probe = request.probe ? deps.startProbe({ host: publicDomain(request.job.app, request.appSettings, request.appConfig), path: request.appSettings.healthcheck.path, https: false }) : undefined;
  let report: ProbeReport | undefined;
  const stopProbe = async () => {
    if (!probe || report) return;
    report = await probe.stop();
    say(`       ${probeLine(report)}`);
  };
  try {
    await runSteps(phaseSteps(request, fetcher), ctx, {
      started: () => undefined,
      finished: () => undefined,
      failed: () => undefined,
      undone: (step) => say(`       undone: ${step}`),
      undoFailed: (step, error) => say(`       undo of ${step} failed: ${error.message}`),
    });
  } catch (err) {
    throw err instanceof StepFailedError ? err.cause : err;
  } finally {
    await stopProbe();
  }
  return { ports: ctx.state.ports, switchedAt: ctx.state.switchedAt, snapshot: ctx.state.siteSnapshot, probe: report };
}

/** The app's web containers on the machine `docker` reaches, serving and pending (`slipway status` of a host). */
export async function inspectWeb(docker: DeployDeps['docker'], app: string): Promise<HostWebContainer[]> {
  const { live, pending } = await listWebContainers(docker, app);
  const web = [...live.map((c) => ({ c, pending: false })), ...pending.map((c) => ({ c, pending: true }))];
  return web.map(({ c, pending }) => ({ name: c.name, sha: c.labels[LABEL.sha], running: c.running, pending }));
}
