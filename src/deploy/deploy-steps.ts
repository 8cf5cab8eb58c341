import { portLineWarnings } from '../apache/port-dependence';
import { parseAppSettings } from '../app-settings';
import { LABEL } from '../docker/docker-engine';
import { shortSha } from '../names';
import { replicaRoutingProblem } from '../apache/apache-sites';
import { appTlsNames } from '../tls/app-tls';
import { requireApacheAnswers } from './apache-check';
import { appEnv, imageTags, publicDomain, type DeployContext } from './deploy-context';
import { probeHealth, waitHealthy } from './health-check';
import { choosePorts, withPortAllocation } from './port-choice';
import { shellCommand } from './procfile';
import { required, sleep } from './step-helpers';
import type { DeployStep } from './step-runner';
import { containerPort, listWebContainers, pendingWebName, replicaNumber, webContainerName, webReplicas } from './web-containers';

type Step = DeployStep<DeployContext>;

/** Reads and validates slipway.json at the pushed commit, before anything starts. */
export const readAppSettings: Step = {
  name: 'settings',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const [slipwayJson, appConfig] = await Promise.all([ctx.deps.readRepoFile(app, sha, 'slipway.json'), ctx.deps.readAppConfig(app)]);
    ctx.state.appSettings = parseAppSettings(slipwayJson);
    ctx.state.appConfig = appConfig;
    ctx.state.tlsNames = appTlsNames(ctx.state.appSettings, appConfig, ctx.config.acme);
    // Only the TLS-auto template names the aliases: say so rather than leave them silently unserved.
    if (!ctx.state.tlsNames && ctx.state.appSettings.aliases.length > 0) {
      ctx.say(`       note: aliases (${ctx.state.appSettings.aliases.join(', ')}) are served only with "tls": "auto"; slipway's HTTP template answers the domain only`);
    }
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
 * Starts the app's web containers, one per `scale.web` (`<app>-pending`, `<app>-pending-2`, …),
 * each on its own free port; the ports are all chosen before any container starts, so a range too
 * small for the scale fails here with nothing started. Pending containers left running by an
 * interrupted run of this same deploy are adopted; any other stale one (another deploy's, maybe
 * other env, or a replica above the scale) is replaced.
 */
export const startPending: Step = {
  name: 'start',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const settings = required(ctx.state.appSettings, 'settings');
    const count = webReplicas(ctx.state.appConfig);
    if (count < 1) throw new Error(`web is scaled to 0, so there is no web container to start (\`slipway ps:scale ${app} web=1\` serves it again)`);
    const ports = new Map<number, number>();
    for (const stale of (await listWebContainers(ctx.deps.docker, app)).pending) {
      const replica = replicaNumber(app, stale.name, 'pending') ?? 0;
      const info = await ctx.deps.docker.inspectContainer(stale.name);
      const port = info && containerPort(info);
      if (replica <= count && info?.running && !info.restarted && info.labels[LABEL.deploy] === ctx.deployId && port !== undefined) {
        ports.set(replica, port);
        ctx.say(`-----> Adopting ${stale.name} on :${port} from an interrupted run`);
      } else {
        await ctx.deps.docker.removeContainer(stale.name);
      }
    }
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((replica) => !ports.has(replica));
    if (missing.length > 0) {
      await withPortAllocation(async () => {
        const held = new Set((await ctx.deps.docker.listSlipwayContainers()).map(containerPort).filter((p) => p !== undefined));
        const fresh = await choosePorts(ctx.config.portRange, held, ctx.deps.isPortFree, missing.length);
        const env: Record<string, string> = appEnv(settings, ctx.state.appConfig);
        await Promise.all(
          missing.map(async (replica, i) => {
            const port = fresh[i];
            const name = pendingWebName(app, replica);
            ports.set(replica, port);
            ctx.say(`-----> Starting ${name} on :${port}`);
            await ctx.deps.docker.runContainer({
              name,
              image: imageTags(app, sha).commit,
              env: { ...env, PORT: String(port), ...(settings.portEnv ? { [settings.portEnv]: String(port) } : {}) },
              // The domain too: should SLIPWAY_HOME be lost, reconcile still knows which host the container serves.
              labels: { [LABEL.app]: app, [LABEL.sha]: sha, [LABEL.port]: String(port), [LABEL.deploy]: ctx.deployId, [LABEL.domain]: publicDomain(app, settings, ctx.state.appConfig) },
              volumes: settings.volumes,
              cmd: ctx.state.procfile?.web === undefined ? undefined : shellCommand(ctx.state.procfile.web),
            });
          }),
        );
      });
    }
    ctx.state.ports = Array.from({ length: count }, (_, i) => required(ports.get(i + 1), `port of replica ${i + 1}`));
  },
  async undo(ctx) {
    const { pending } = await listWebContainers(ctx.deps.docker, ctx.job.app);
    // Undone after a switch (a failed watch, a revert): Apache's children may still be in requests
    // they sent to these before the port map went back. Those finish first (none: no wait).
    const ports = pending.filter((c) => c.running).flatMap((c) => containerPort(c) ?? []);
    const open = await inFlightOn(ctx, ports);
    if (open > 0) await drain(ctx, ports, pending.length > 1 ? `the ${pending.length} new containers` : 'the new container', open);
    for (const container of pending) await ctx.deps.docker.removeContainer(container.name);
  },
};

/** Waits for every new web container's health URL, all at once; fails at once if one exits. */
export const waitForHealth: Step = {
  name: 'health',
  async run(ctx) {
    const settings = required(ctx.state.appSettings, 'settings');
    const ports = required(ctx.state.ports, 'ports');
    const elapsed = await Promise.all(
      ports.map(async (port, i) => {
        const pending = pendingWebName(ctx.job.app, i + 1);
        try {
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
          return elapsedMs;
        } catch (err) {
          // With several replicas, say which one failed (the first one's message reads as before).
          if (ports.length > 1) (err as Error).message = `${(err as Error).message} (${pending}, replica ${i + 1} of ${ports.length})`;
          throw err;
        }
      }),
    );
    const all = ports.length > 1 ? ` (all ${ports.length} web containers)` : '';
    ctx.say(`-----> Health OK after ${(Math.max(...elapsed) / 1000).toFixed(1)} s (GET ${settings.healthcheck.path})${all}`);
  },
};

/** Writes the release record as `deploying` before traffic moves: a deploy that cannot record itself does not switch. */
export const recordIntent: Step = {
  name: 'record',
  async run(ctx) {
    await ctx.recordRelease({ result: 'deploying' });
  },
};

/** Points Apache at the new ports, all at once (the app's port map; a reload only if a vhost's text changed). */
export const switchApache: Step = {
  name: 'switch',
  async run(ctx) {
    const { app } = ctx.job;
    const settings = required(ctx.state.appSettings, 'settings');
    const ports = required(ctx.state.ports, 'ports');
    ctx.say('-----> Switching Apache');
    // Read again now: maintenance may have been turned on or off since the deploy started.
    const maintenance = (await ctx.deps.readAppConfig(app)).maintenance === true;
    const domain = publicDomain(app, settings, ctx.state.appConfig);
    const site = await ctx.deps.apache.render(app, ports, domain, await ctx.deps.listApps(), maintenance, ctx.state.tlsNames);
    const replicaProblem = replicaRoutingProblem(site, ports.length);
    if (replicaProblem) throw new Error(replicaProblem);
    if (maintenance) ctx.say('       maintenance is on: Apache keeps answering the maintenance page (slipway maintenance <app> off)');
    ctx.state.siteSnapshot = await ctx.deps.apache.apply(site);
    ctx.state.switchedAt = Date.now();
    ctx.say(ctx.state.siteSnapshot.reloaded ? '       vhost changed: configtest passed, Apache reloaded gracefully' : `       port map → ${ports.map((p) => `:${p}`).join(' ')} (no reload)`);
    for (const line of portLineWarnings(site.portLines)) ctx.say(line);
    await requireApacheAnswers(ctx);
    if (ctx.state.tlsNames) {
      ctx.say(`       tls auto: mod_md manages the certificate for ${ctx.state.tlsNames.join(', ')}: ${await ctx.deps.describeCertificate(domain)}`);
    }
  },
  async undo(ctx) {
    if (ctx.state.siteSnapshot) await ctx.deps.apache.restore(ctx.state.siteSnapshot);
  },
};

/**
 * Keeps checking every new web container for a while after the switch, with the old ones still
 * running: if one fails twice in a row or dies, this step fails and the runner undoes the switch,
 * so traffic goes back to the old version (the whole release, not just that replica).
 */
export const watchAfterSwitch: Step = {
  name: 'watch',
  async run(ctx) {
    const settings = required(ctx.state.appSettings, 'settings');
    const ports = required(ctx.state.ports, 'ports');
    const switchedAt = required(ctx.state.switchedAt, 'switch time');
    if (settings.watchSeconds === 0) return requireApacheAnswers(ctx);
    ctx.say(`-----> Watching the new version for ${settings.watchSeconds} s`);
    const failures = ports.map(() => 0);
    while (Date.now() - switchedAt < settings.watchSeconds * 1000) {
      await sleep(250);
      const verdicts = await Promise.all(
        ports.map(async (port, i) => {
          const info = await ctx.deps.docker.inspectContainer(pendingWebName(ctx.job.app, i + 1));
          const alive = info?.running === true && !info.restarted;
          const verdict = alive ? await probeHealth(port, settings.healthcheck.path, 2000) : { ok: false, reason: `the new container exited with code ${info?.exitCode ?? '?'}` };
          return { alive, verdict };
        }),
      );
      for (const [i, { alive, verdict }] of verdicts.entries()) {
        failures[i] = verdict.ok ? 0 : failures[i] + 1;
        if (failures[i] >= 2 || !alive) {
          const after = ((Date.now() - switchedAt) / 1000).toFixed(1);
          const which = ports.length > 1 ? `web container ${i + 1} of ${ports.length}: ` : '';
          throw new Error(`reverted: the new version failed ${after} s after the switch (${which}${verdict.reason})`);
        }
      }
    }
    // Apache may have died since the switch: nothing is reported live while it does not answer.
    await requireApacheAnswers(ctx);
  },
};

/**
 * Drains, then stops the previous web containers (every live one that is not on this deploy's
 * ports, also replicas above a lowered scale): waits (up to the drain timeout) until the requests Apache's old
 * children already sent to them have finished, then SIGTERM, SIGKILL after the grace period, and
 * removes them. The replicas drain and stop side by side.
 */
export const retirePrevious: Step = {
  name: 'retire',
  pointOfNoReturn: true,
  async run(ctx) {
    // A workers-only release has no ports: every web container of an earlier release goes, with the app's Apache site.
    const workersOnly = ctx.state.plan?.web === 'none';
    const ports = workersOnly ? [] : required(ctx.state.ports, 'ports');
    if (workersOnly) await removeWebSite(ctx);
    // By port, not by deploy id: a re-run of this same deploy (after a crash past the rename) must
    // retire what the first run promoted, and reconcile's finish keeps what this deploy already renamed.
    const previous = (await listWebContainers(ctx.deps.docker, ctx.job.app)).live.filter((c) => !ports.includes(containerPort(c) ?? -1));
    if (previous.length === 0) return;
    const oldPorts = previous.filter((c) => c.running).flatMap((c) => containerPort(c) ?? []);
    if (oldPorts.length > 0) await drain(ctx, oldPorts, previous.length > 1 ? `${previous.length} previous containers` : 'previous container');
    const shas = [...new Set(previous.map((c) => shortSha(c.labels[LABEL.sha] ?? '')))].join(', ');
    ctx.say(`-----> Stopping previous container${previous.length > 1 ? 's' : ''} (${shas})`);
    const stopped = Date.now();
    const killed = await Promise.all(
      previous.map(async (c) => {
        await ctx.deps.docker.stopContainer(c.name, ctx.config.stopGraceSeconds);
        const after = await ctx.deps.docker.inspectContainer(c.name);
        await ctx.deps.docker.removeContainer(c.name);
        return after?.exitCode === 137;
      }),
    );
    const seconds = ((Date.now() - stopped) / 1000).toFixed(1);
    ctx.say(killed.some(Boolean) ? `       it ignored SIGTERM: killed after the ${ctx.config.stopGraceSeconds} s grace period (${seconds} s)` : `       stopped in ${seconds} s`);
  },
};

/** Renames `<app>-pending` to `<app>` (and `<app>-pending-<n>` to `<app>-web-<n>`); a replica already renamed by an interrupted run is left. */
export const promotePending: Step = {
  name: 'promote',
  async run(ctx) {
    const { app } = ctx.job;
    const ports = required(ctx.state.ports, 'ports');
    for (let replica = 1; replica <= ports.length; replica++) {
      if (await ctx.deps.docker.inspectContainer(pendingWebName(app, replica))) await ctx.deps.docker.renameContainer(pendingWebName(app, replica), webContainerName(app, replica));
    }
  },
};

/** Removes the app's Apache site (vhost and port map) when a workers-only release replaces a web one; nothing to do when it has none. */
async function removeWebSite(ctx: DeployContext): Promise<void> {
  const { app } = ctx.job;
  const others = (await ctx.deps.listApps()).filter((a) => a !== app);
  if ((await listWebContainers(ctx.deps.docker, app)).live.length === 0) return;
  ctx.say(`-----> Removing ${app}'s Apache site: the release has no web process`);
  await ctx.deps.apache.removeApp(app, others);
}

/** How many connections the containers listening on `ports` are serving. */
async function inFlightOn(ctx: DeployContext, ports: number[]): Promise<number> {
  return (await Promise.all(ports.map((port) => ctx.deps.connectionsOn(port)))).reduce((a, b) => a + b, 0);
}

/**
 * Waits (up to the app's drain timeout) until the requests Apache already sent to `ports` have
 * finished; `open` is the count the caller just read (said as is: a second read may find 0 already).
 */
async function drain(ctx: DeployContext, ports: number[], what: string, open?: number): Promise<void> {
  const settings = required(ctx.state.appSettings, 'settings');
  ctx.say(`-----> Draining ${what} (${open ?? (await inFlightOn(ctx, ports))} in flight)`);
  const drained = await waitUntil(async () => (await inFlightOn(ctx, ports)) === 0, settings.drainTimeoutSeconds * 1000);
  if (!drained) ctx.say(`       still ${await inFlightOn(ctx, ports)} open after ${settings.drainTimeoutSeconds} s: stopping anyway`);
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
