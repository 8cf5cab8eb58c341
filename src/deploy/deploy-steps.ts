import { parseAppSettings } from '../app-settings';
import { LABEL } from '../docker/docker-engine';
import { shortSha } from '../names';
import { containerNames, imageTags, type DeployContext } from './deploy-context';
import { waitHealthy } from './health-check';
import { choosePort } from './port-choice';
import type { DeployStep } from './step-runner';

type Step = DeployStep<DeployContext>;

/** Reads and validates slipway.json at the pushed commit, before anything starts. */
export const readAppSettings: Step = {
  name: 'settings',
  async run(ctx) {
    const { app, sha } = ctx.job;
    ctx.state.appSettings = parseAppSettings(await ctx.deps.readRepoFile(app, sha, 'slipway.json'));
  },
};

/** Builds `<app>:<sha>` (and `<app>:latest`) from the commit, unless that image already exists. */
export const buildImage: Step = {
  name: 'build',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const tags = imageTags(app, sha);
    if (await ctx.deps.docker.imageExists(tags.commit)) {
      ctx.say(`image for ${shortSha(sha)} exists, not rebuilding`);
      return;
    }
    ctx.say(`-----> Building ${app} ${shortSha(sha)}`);
    const dir = await ctx.deps.checkout(app, sha);
    try {
      await ctx.deps.docker.build(dir, [tags.commit, tags.latest], { [LABEL.app]: app, [LABEL.sha]: sha }, (line) => ctx.say(`       ${line}`));
    } finally {
      await ctx.deps.discardCheckout(dir);
    }
  },
};

/** Starts `<app>-pending` on a free port; a stale pending container from an earlier run is replaced. */
export const startPending: Step = {
  name: 'start',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const names = containerNames(app);
    const settings = required(ctx.state.appSettings, 'settings');
    await ctx.deps.docker.removeContainer(names.pending);
    const live = await ctx.deps.docker.inspectContainer(names.live);
    ctx.state.previous = live?.running ? live : undefined;
    const held = new Set(
      (await ctx.deps.docker.listSlipwayContainers())
        .filter((c) => c.name !== names.pending)
        .map((c) => Number(c.labels[LABEL.port]))
        .filter((p) => Number.isInteger(p)),
    );
    const port = await choosePort(ctx.config.portRange, held, ctx.deps.isPortFree);
    ctx.state.port = port;
    const env: Record<string, string> = { ...settings.env, PORT: String(port) };
    if (settings.portEnv) env[settings.portEnv] = String(port);
    ctx.say(`-----> Starting ${names.pending} on :${port}`);
    await ctx.deps.docker.runContainer({
      name: names.pending,
      image: imageTags(app, sha).commit,
      env,
      labels: { [LABEL.app]: app, [LABEL.sha]: sha, [LABEL.port]: String(port) },
      volumes: settings.volumes,
    });
  },
  async undo(ctx) {
    await ctx.deps.docker.removeContainer(containerNames(ctx.job.app).pending);
  },
};

/** Waits for the pending container's health URL; fails at once if the container exits. */
export const waitForHealth: Step = {
  name: 'health',
  async run(ctx) {
    const settings = required(ctx.state.appSettings, 'settings');
    const port = required(ctx.state.port, 'port');
    const pending = containerNames(ctx.job.app).pending;
    const { elapsedMs } = await waitHealthy({
      port,
      path: settings.healthcheck.path,
      timeoutMs: settings.healthcheck.timeoutSeconds * 1000,
      checkAlive: async () => {
        const info = await ctx.deps.docker.inspectContainer(pending);
        // With restart policy unless-stopped a crashing app is restarted, so "ran once and died" counts.
        if (info?.running && !info.restarted) return undefined;
        const logs = (await ctx.deps.docker.logsTail(pending, 15)).trimEnd();
        const shown = logs ? `; its last log lines:\n${logs.split('\n').map((l) => `         ${l}`).join('\n')}` : '';
        return `the new container exited with code ${info?.exitCode ?? '?'} before it was healthy${shown}`;
      },
    });
    ctx.say(`-----> Health OK after ${(elapsedMs / 1000).toFixed(1)} s (GET ${settings.healthcheck.path})`);
  },
};

/** Points Apache at the new port (the app's port map; a reload only if a vhost's text changed). */
export const switchApache: Step = {
  name: 'switch',
  async run(ctx) {
    const { app } = ctx.job;
    const settings = required(ctx.state.appSettings, 'settings');
    const port = required(ctx.state.port, 'port');
    ctx.say('-----> Switching Apache');
    const site = await ctx.deps.apache.render(app, port, settings.domain ?? `${app}.localhost`, await ctx.deps.listApps());
    ctx.state.siteSnapshot = await ctx.deps.apache.apply(site);
    if (ctx.state.siteSnapshot.reloaded) ctx.say('       vhost changed: configtest passed, Apache reloaded gracefully');
  },
  async undo(ctx) {
    if (ctx.state.siteSnapshot) await ctx.deps.apache.restore(ctx.state.siteSnapshot);
  },
};

/** Stops the previous container (SIGTERM, then SIGKILL after the grace period) and removes it. */
export const retirePrevious: Step = {
  name: 'retire',
  pointOfNoReturn: true,
  async run(ctx) {
    const live = containerNames(ctx.job.app).live;
    const existing = await ctx.deps.docker.inspectContainer(live);
    if (!existing) return;
    ctx.say(`-----> Stopping previous container (${shortSha(existing.labels[LABEL.sha] ?? '')})`);
    await ctx.deps.docker.stopContainer(live, ctx.config.stopGraceSeconds);
    await ctx.deps.docker.removeContainer(live);
  },
};

/** Renames `<app>-pending` to `<app>`. */
export const promotePending: Step = {
  name: 'promote',
  async run(ctx) {
    const names = containerNames(ctx.job.app);
    await ctx.deps.docker.renameContainer(names.pending, names.live);
  },
};

/** The deploy: settings → build → pending → health → switch → retire old → rename. */
export const DEPLOY_STEPS: Step[] = [readAppSettings, buildImage, startPending, waitForHealth, switchApache, retirePrevious, promotePending];

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} missing (step order)`);
  return value;
}
