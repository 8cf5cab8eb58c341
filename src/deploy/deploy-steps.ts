import { portLineWarnings } from '../apache/port-dependence';
import { parseAppSettings } from '../app-settings';
import { LABEL } from '../docker/docker-engine';
import { shortSha } from '../names';
import { requireApacheAnswers } from './apache-check';
import { appEnv, containerNames, imageTags, publicDomain, type DeployContext } from './deploy-context';
import { probeHealth, waitHealthy } from './health-check';
import { choosePort, withPortAllocation } from './port-choice';
import { shellCommand } from './procfile';
import { readProcfile, runReleaseCommand } from './release-phase';
import type { DeployStep } from './step-runner';

type Step = DeployStep<DeployContext>;

/** Reads and validates slipway.json at the pushed commit, before anything starts. */
export const readAppSettings: Step = {
  name: 'settings',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const [slipwayJson, appConfig] = await Promise.all([ctx.deps.readRepoFile(app, sha, 'slipway.json'), ctx.deps.readAppConfig(app)]);
    ctx.state.appSettings = parseAppSettings(slipwayJson);
    ctx.state.appConfig = appConfig;
  },
};

/** Builds `<app>:<sha>` (and `<app>:latest`) from the commit, unless that image already exists. */
export const buildImage: Step = {
  name: 'build',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const tags = imageTags(app, sha);
    const existing = await ctx.deps.docker.imageId(tags.commit);
    if (existing !== undefined && !ctx.job.rebuild) {
      ctx.say(`-----> image for ${shortSha(sha)} exists, not rebuilding`);
      return;
    }
    if (ctx.job.kind !== 'push') {
      throw new Error(`the image of ${shortSha(sha)} is gone (removed by retention); push that commit again to rebuild it`);
    }
    ctx.say(`-----> Building ${app} ${shortSha(sha)}`);
    const dir = await ctx.deps.checkout(app, sha);
    await ctx.deps.docker.build(dir, [tags.commit, tags.latest], (line) => ctx.say(`       ${line}`));
    // A rebuild takes the tag off the old image, which retention (by tag) would never find again.
    if (existing !== undefined && (await ctx.deps.docker.imageId(tags.commit)) !== existing) ctx.state.replacedImageId = existing;
  },
};

/**
 * Starts `<app>-pending` on a free port. A pending container left running by an interrupted run
 * of this same deploy is adopted; any other stale one (another deploy's, maybe other env) is replaced.
 */
export const startPending: Step = {
  name: 'start',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const names = containerNames(app);
    const settings = required(ctx.state.appSettings, 'settings');
    const stale = await ctx.deps.docker.inspectContainer(names.pending);
    const stalePort = Number(stale?.labels[LABEL.port]);
    if (stale?.running && !stale.restarted && stale.labels[LABEL.deploy] === ctx.deployId && Number.isInteger(stalePort)) {
      ctx.state.port = stalePort;
      ctx.say(`-----> Adopting ${names.pending} on :${stalePort} from an interrupted run`);
      return;
    }
    if (stale) await ctx.deps.docker.removeContainer(names.pending);
    await withPortAllocation(async () => {
      const held = new Set(
        (await ctx.deps.docker.listSlipwayContainers())
          .filter((c) => c.name !== names.pending)
          .map((c) => Number(c.labels[LABEL.port]))
          .filter((p) => Number.isInteger(p)),
      );
      const port = await choosePort(ctx.config.portRange, held, ctx.deps.isPortFree);
      ctx.state.port = port;
      const env: Record<string, string> = { ...appEnv(settings, ctx.state.appConfig), PORT: String(port) };
      if (settings.portEnv) env[settings.portEnv] = String(port);
      ctx.say(`-----> Starting ${names.pending} on :${port}`);
      await ctx.deps.docker.runContainer({
        name: names.pending,
        image: imageTags(app, sha).commit,
        env,
        // The domain too: should SLIPWAY_HOME be lost, reconcile still knows which host the container serves.
        labels: { [LABEL.app]: app, [LABEL.sha]: sha, [LABEL.port]: String(port), [LABEL.deploy]: ctx.deployId, [LABEL.domain]: publicDomain(app, settings, ctx.state.appConfig) },
        volumes: settings.volumes,
        cmd: ctx.state.procfile?.web === undefined ? undefined : shellCommand(ctx.state.procfile.web),
      });
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
        const shown = logs
          ? `; its last log lines:\n${logs
              .split('\n')
              .map((l) => `         ${l}`)
              .join('\n')}`
          : '';
        return `the new container exited with code ${info?.exitCode ?? '?'} before it was healthy${shown}`;
      },
    });
    ctx.say(`-----> Health OK after ${(elapsedMs / 1000).toFixed(1)} s (GET ${settings.healthcheck.path})`);
  },
};

/** Writes the release record as `deploying` before traffic moves: a deploy that cannot record itself does not switch. */
export const recordIntent: Step = {
  name: 'record',
  async run(ctx) {
    await ctx.recordRelease({ result: 'deploying' });
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
    // Read again now: maintenance may have been turned on or off since the deploy started.
    const maintenance = (await ctx.deps.readAppConfig(app)).maintenance === true;
    const site = await ctx.deps.apache.render(app, port, publicDomain(app, settings, ctx.state.appConfig), await ctx.deps.listApps(), maintenance);
    if (maintenance) ctx.say('       maintenance is on: Apache keeps answering the maintenance page (slipway maintenance <app> off)');
    ctx.state.siteSnapshot = await ctx.deps.apache.apply(site);
    ctx.state.switchedAt = Date.now();
    ctx.say(ctx.state.siteSnapshot.reloaded ? '       vhost changed: configtest passed, Apache reloaded gracefully' : `       port map → :${port} (no reload)`);
    for (const line of portLineWarnings(site.portLines)) ctx.say(line);
    await requireApacheAnswers(ctx);
  },
  async undo(ctx) {
    if (ctx.state.siteSnapshot) await ctx.deps.apache.restore(ctx.state.siteSnapshot);
  },
};

/**
 * Keeps checking the new version for a while after the switch, with the old container still
 * running: if the new one fails twice in a row or dies, this step fails and the runner undoes the
 * switch, so traffic goes back to the old version.
 */
export const watchAfterSwitch: Step = {
  name: 'watch',
  async run(ctx) {
    const settings = required(ctx.state.appSettings, 'settings');
    const port = required(ctx.state.port, 'port');
    const switchedAt = required(ctx.state.switchedAt, 'switch time');
    if (settings.watchSeconds === 0) return requireApacheAnswers(ctx);
    ctx.say(`-----> Watching the new version for ${settings.watchSeconds} s`);
    const pending = containerNames(ctx.job.app).pending;
    let failures = 0;
    while (Date.now() - switchedAt < settings.watchSeconds * 1000) {
      await sleep(250);
      const info = await ctx.deps.docker.inspectContainer(pending);
      const verdict =
        info?.running && !info.restarted ? await probeHealth(port, settings.healthcheck.path, 2000) : { ok: false, reason: `the new container exited with code ${info?.exitCode ?? '?'}` };
      failures = verdict.ok ? 0 : failures + 1;
      if (failures >= 2 || !(info?.running && !info.restarted)) {
        const after = ((Date.now() - switchedAt) / 1000).toFixed(1);
        throw new Error(`reverted: the new version failed ${after} s after the switch (${verdict.reason})`);
      }
    }
    // Apache may have died since the switch: nothing is reported live while it does not answer.
    await requireApacheAnswers(ctx);
  },
};

/**
 * Drains, then stops the previous container: waits (up to the drain timeout) until the requests
 * Apache's old children already sent to it have finished, then SIGTERM, SIGKILL after the grace
 * period, and removes it.
 */
export const retirePrevious: Step = {
  name: 'retire',
  pointOfNoReturn: true,
  async run(ctx) {
    const settings = required(ctx.state.appSettings, 'settings');
    const live = containerNames(ctx.job.app).live;
    const existing = await ctx.deps.docker.inspectContainer(live);
    if (!existing) return;
    const oldPort = Number(existing.labels[LABEL.port]);
    if (existing.running && Number.isInteger(oldPort)) {
      const inFlight = await ctx.deps.connectionsOn(oldPort);
      ctx.say(`-----> Draining previous container (${inFlight} in flight)`);
      const drained = await waitUntil(async () => (await ctx.deps.connectionsOn(oldPort)) === 0, settings.drainTimeoutSeconds * 1000);
      if (!drained) ctx.say(`       still ${await ctx.deps.connectionsOn(oldPort)} open after ${settings.drainTimeoutSeconds} s: stopping anyway`);
    }
    ctx.say(`-----> Stopping previous container (${shortSha(existing.labels[LABEL.sha] ?? '')})`);
    const stopped = Date.now();
    await ctx.deps.docker.stopContainer(live, ctx.config.stopGraceSeconds);
    const after = await ctx.deps.docker.inspectContainer(live);
    const seconds = ((Date.now() - stopped) / 1000).toFixed(1);
    ctx.say(after?.exitCode === 137 ? `       it ignored SIGTERM: killed after the ${ctx.config.stopGraceSeconds} s grace period (${seconds} s)` : `       stopped in ${seconds} s`);
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

/**
 * The deploy: settings → Procfile → build → release command → pending → health → record → switch
 * → watch → drain and stop old → rename.
 */
export const DEPLOY_STEPS: Step[] = [
  readAppSettings,
  readProcfile,
  buildImage,
  runReleaseCommand,
  startPending,
  waitForHealth,
  recordIntent,
  switchApache,
  watchAfterSwitch,
  retirePrevious,
  promotePending,
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `condition` every 100 ms; false when `timeoutMs` passes first. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} missing (step order)`);
  return value;
}
