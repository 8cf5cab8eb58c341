import type { ApacheSites } from '../apache/apache-sites';
import type { AuditLog } from '../audit/audit-log';
import { parseAppSettings, processSettings } from '../app-settings';
import { containerPort, listWebContainers } from '../deploy/web-containers';
import { workerContainers } from '../deploy/worker-plan';
import { LABEL, type DockerEngine } from '../docker/docker-engine';
import type { AppConfigStore } from './app-config-store';
import { LOCAL_HOST } from '../cluster/host-name';
import { onSeveralHosts } from '../deploy/deploy-plan';

/** What stopping an app and toggling its maintenance page touch. */
export interface AppControlDeps {
  docker: DockerEngine;
  apache: ApacheSites;
  appConfigs: AppConfigStore;
  audit: AuditLog;
  /** Open connections to `port` (to let requests in flight finish before a stop). */
  connectionsOn(port: number): Promise<number>;
  stopGraceSeconds: number;
  /** Reads a file of the app's repo at a commit (slipway.json: a worker type's stop_grace). */
  readRepoFile(app: string, sha: string, file: string): Promise<string | undefined>;
  /** Runs `fn` holding the app's deploy lock; throws when a deploy of the app holds it. */
  withAppLock<T>(app: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Stop and maintenance act on this server's Apache and Docker Engine only: for an app on several
 * hosts they are refused, rather than leave the other hosts serving while this one does not.
 */
async function refuseSeveralHosts(deps: AppControlDeps, app: string, what: string): Promise<void> {
  const hosts = (await deps.appConfigs.read(app)).hosts ?? [LOCAL_HOST];
  if (onSeveralHosts(hosts)) throw new Error(`${what} acts on this server only, and ${app} runs on ${hosts.join(', ')}: not available for an app on several hosts yet`);
}

/** Longest wait for the requests in flight when an app stops. */
const STOP_DRAIN_MS = 30_000;

/**
 * Turns an app's maintenance page on or off: Apache answers 503 with the page while the container
 * keeps running. Only the port map changes (no reload). Returns what happened, in plain words.
 */
export async function setMaintenance(deps: AppControlDeps, app: string, on: boolean, actor: string): Promise<string> {
  return deps.withAppLock(app, async () => {
    await refuseSeveralHosts(deps, app, '`slipway maintenance`');
    const { live } = await listWebContainers(deps.docker, app);
    const ports = live.filter((c) => c.running).flatMap((c) => containerPort(c) ?? []);
    if (!on && live.length > 0 && ports.length === 0) throw new Error(`${app} is stopped: \`slipway start ${app}\` brings it back (the maintenance page stays until then)`);
    await deps.appConfigs.update(app, (c) => ({ ...c, maintenance: on }));
    if (ports.length > 0) await deps.apache.route(app, { port: ports, maintenance: on });
    await deps.audit.append({ actor, action: 'maintenance', app, outcome: 'ok', detail: on ? 'on' : 'off' });
    if (ports.length === 0) return `${app}: maintenance ${on ? 'on' : 'off'} (saved; nothing is serving yet)`;
    const kept = ports.length > 1 ? `its ${ports.length} web containers keep running` : 'the container keeps running';
    return on ? `${app}: maintenance on: Apache answers 503 with the maintenance page; ${kept}` : `${app}: maintenance off: traffic goes to ${ports.map((p) => `:${p}`).join(' ')} again`;
  });
}

/**
 * Stops an app: Apache answers the maintenance page first, the requests in flight finish, then the
 * container stops. It is stopped, not removed: `slipway start` brings the last live release back,
 * and Docker's `unless-stopped` policy keeps it stopped across restarts of Docker and the machine.
 */
export async function stopApp(deps: AppControlDeps, app: string, actor: string): Promise<string> {
  return deps.withAppLock(app, async () => {
    await refuseSeveralHosts(deps, app, '`slipway stop`');
    const { live } = await listWebContainers(deps.docker, app);
    const workers = workerContainers(await deps.docker.listSlipwayContainers(), app);
    // A workers-only app (no web process) has workers and no web container.
    if (live.length === 0 && workers.length === 0) throw new Error(`${app} has no container: nothing to stop`);
    const running = live.filter((c) => c.running);
    const runningWorkers = workers.filter((c) => c.running);
    if (running.length === 0 && runningWorkers.length === 0) throw new Error(`${app} is already stopped`);
    const ports = running.flatMap((c) => containerPort(c) ?? []);
    if (ports.length > 0) {
      await deps.apache.route(app, { port: ports, maintenance: true });
      const inFlight = async () => (await Promise.all(ports.map((port) => deps.connectionsOn(port)))).reduce((a, b) => a + b, 0);
      const deadline = Date.now() + STOP_DRAIN_MS;
      while ((await inFlight()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    // Written before the stop: a stop that went through is never taken for Docker's doing (reconcile
    // neither starts these again nor restores the app's counts while any of them is stopped).
    await deps.appConfigs.update(app, (c) => ({ ...c, stoppedContainers: [...running, ...runningWorkers].map((container) => container.id) }));
    await Promise.all(running.map((c) => deps.docker.stopContainer(c.name, deps.stopGraceSeconds)));
    const stoppedWorkers = await stopWorkers(deps, app);
    const stopped = [...running.map((c) => c.name), ...stoppedWorkers].join(', ');
    await deps.audit.append({ actor, action: 'stop', app, outcome: 'ok', detail: `stopped ${stopped}` });
    if (live.length === 0) return `${app} stopped (${stoppedWorkers.join(', ')}); \`slipway start ${app}\` brings it back`;
    return `${app} stopped${stoppedWorkers.length > 0 ? ` (with ${stoppedWorkers.join(', ')})` : ''}: Apache answers the maintenance page; \`slipway start ${app}\` brings it back`;
  });
}

/** Stops the app's running worker containers, each with its type's stop_grace (slipway.json at its release); returns their names. */
async function stopWorkers(deps: AppControlDeps, app: string): Promise<string[]> {
  const running = workerContainers(await deps.docker.listSlipwayContainers(), app).filter((c) => c.running);
  await Promise.all(
    running.map(async (c) => {
      const settings = await deps
        .readRepoFile(app, c.labels[LABEL.sha] ?? '', 'slipway.json')
        .then(parseAppSettings)
        .catch(() => undefined);
      const grace = settings ? processSettings(settings, c.labels[LABEL.process] ?? '').stopGraceSeconds : deps.stopGraceSeconds;
      await deps.docker.stopContainer(c.name, grace);
    }),
  );
  return running.map((c) => c.name).sort();
}
