import type { ApacheSites } from '../apache/apache-sites';
import type { AuditLog } from '../audit/audit-log';
import { containerNames } from '../deploy/deploy-context';
import { LABEL, type DockerEngine } from '../docker/docker-engine';
import type { AppConfigStore } from './app-config-store';

/** What stopping an app and toggling its maintenance page touch. */
export interface AppControlDeps {
  docker: DockerEngine;
  apache: ApacheSites;
  appConfigs: AppConfigStore;
  audit: AuditLog;
  /** Open connections to `port` (to let requests in flight finish before a stop). */
  connectionsOn(port: number): Promise<number>;
  stopGraceSeconds: number;
  /** Runs `fn` holding the app's deploy lock; throws when a deploy of the app holds it. */
  withAppLock<T>(app: string, fn: () => Promise<T>): Promise<T>;
}

/** Longest wait for the requests in flight when an app stops. */
const STOP_DRAIN_MS = 30_000;

/**
 * Turns an app's maintenance page on or off: Apache answers 503 with the page while the container
 * keeps running. Only the port map changes (no reload). Returns what happened, in plain words.
 */
export async function setMaintenance(deps: AppControlDeps, app: string, on: boolean, actor: string): Promise<string> {
  return deps.withAppLock(app, async () => {
    const live = await deps.docker.inspectContainer(containerNames(app).live);
    const port = Number(live?.labels[LABEL.port]);
    if (!on && live && !live.running) throw new Error(`${app} is stopped: \`slipway start ${app}\` brings it back (the maintenance page stays until then)`);
    await deps.appConfigs.update(app, (c) => ({ ...c, maintenance: on }));
    if (live?.running && Number.isInteger(port)) await deps.apache.route(app, { port, maintenance: on });
    await deps.audit.append({ actor, action: 'maintenance', app, outcome: 'ok', detail: on ? 'on' : 'off' });
    if (!live?.running) return `${app}: maintenance ${on ? 'on' : 'off'} (saved; nothing is serving yet)`;
    return on ? `${app}: maintenance on: Apache answers 503 with the maintenance page; the container keeps running` : `${app}: maintenance off: traffic goes to :${port} again`;
  });
}

/**
 * Stops an app: Apache answers the maintenance page first, the requests in flight finish, then the
 * container stops. It is stopped, not removed: `slipway start` brings the last live release back,
 * and Docker's `unless-stopped` policy keeps it stopped across restarts of Docker and the machine.
 */
export async function stopApp(deps: AppControlDeps, app: string, actor: string): Promise<string> {
  return deps.withAppLock(app, async () => {
    const name = containerNames(app).live;
    const live = await deps.docker.inspectContainer(name);
    if (!live) throw new Error(`${app} has no container: nothing to stop`);
    if (!live.running) throw new Error(`${app} is already stopped`);
    const port = Number(live.labels[LABEL.port]);
    if (Number.isInteger(port)) {
      await deps.apache.route(app, { port, maintenance: true });
      const deadline = Date.now() + STOP_DRAIN_MS;
      while ((await deps.connectionsOn(port)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    // Written before the stop: a stop that went through is never taken for Docker's doing.
    await deps.appConfigs.update(app, (c) => ({ ...c, stoppedContainer: live.id }));
    await deps.docker.stopContainer(name, deps.stopGraceSeconds);
    await deps.audit.append({ actor, action: 'stop', app, outcome: 'ok', detail: `stopped ${name}` });
    return `${app} stopped: Apache answers the maintenance page; \`slipway start ${app}\` brings it back`;
  });
}
