import type { AuditLog } from '../audit/audit-log';
import { parseAppSettings, type AppSettings } from '../app-settings';
import { LABEL } from '../docker/docker-engine';
import type { AppConfigStore } from './app-config-store';
import { LOCAL_HOST } from '../cluster/host-name';
import { graceOf, removeFromMachine, routeMaintenance, stopOnMachine, type MachineControlDeps, type MaintenanceOutcome, type RemoveOutcome, type StopOutcome } from './machine-control';

/**
 * An app's other hosts, for a stop or a maintenance toggle: each host's agent runs the same
 * machine-control functions on its own Docker Engine and Apache (cluster/host-access.ts).
 */
export interface HostControl {
  /** Why `host` cannot take a request now (its agent does not heartbeat), or undefined when it can. */
  notAnswering(host: string): Promise<string | undefined>;
  maintenance(host: string, app: string, on: boolean): Promise<MaintenanceOutcome>;
  /** `settings`: slipway.json of the live release (each worker type's stop_grace), when readable. */
  stop(host: string, app: string, settings: AppSettings | undefined): Promise<StopOutcome>;
  remove(host: string, app: string, otherApps: string[]): Promise<RemoveOutcome>;
}

/** What stopping an app and toggling its maintenance page touch. */
export interface AppControlDeps extends MachineControlDeps {
  appConfigs: AppConfigStore;
  audit: AuditLog;
  /** Reads a file of the app's repo at a commit (slipway.json: a worker type's stop_grace). */
  readRepoFile(app: string, sha: string, file: string): Promise<string | undefined>;
  /** The commit of the app's live release, if any. */
  liveSha(app: string): Promise<string | undefined>;
  /** Runs `fn` holding the app's deploy lock; throws when a deploy of the app holds it. */
  withAppLock<T>(app: string, fn: () => Promise<T>): Promise<T>;
  /** The other hosts' agents; absent when this server has none set up. */
  hosts?: HostControl;
}

/**
 * The app's hosts, once every other one answers: a stop or a maintenance toggle acts on all of
 * them or, when one is known down, on none (nothing changed; the message says which and why).
 */
async function answeringHosts(deps: AppControlDeps, app: string, what: string): Promise<string[]> {
  const hosts = (await deps.appConfigs.read(app)).hosts ?? [LOCAL_HOST];
  const others = hosts.filter((h) => h !== LOCAL_HOST);
  if (others.length === 0) return hosts;
  const { hosts: access } = deps;
  if (!access) throw new Error(`${app} runs on ${hosts.join(', ')}, but this server has no hosts set up (docs/hosts.md): ${what} changed nothing`);
  const down = (await Promise.all(others.map(async (h) => [h, await access.notAnswering(h)] as const))).filter(([, why]) => why !== undefined);
  if (down.length > 0) throw new Error(`${down.map(([h, why]) => `${h} ${why}`).join('; ')}: ${what} changed nothing on any host of ${app} (\`slipway hosts\`)`);
  return hosts;
}

/** Runs `fn` on every host at once; when some fail, says which did it and which did not, by name. */
async function onEveryHost<T>(hosts: string[], what: string, fn: (host: string) => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(hosts.map(fn));
  const failed = hosts.flatMap((h, i) => {
    const s = settled[i];
    return s.status === 'rejected' ? [`${h}: ${(s.reason as Error).message}`] : [];
  });
  if (failed.length === 0) return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  const done = hosts.filter((_, i) => settled[i].status === 'fulfilled');
  throw new Error(`${what} failed on ${failed.join('; ')}${done.length > 0 ? ` (done on ${done.join(', ')}); run it again` : ''}`);
}

const onHosts = (hosts: string[]) => (hosts.length > 1 || hosts[0] !== LOCAL_HOST ? ` on ${hosts.length} host${hosts.length > 1 ? 's' : ''} (${hosts.join(', ')})` : '');

/**
 * Turns an app's maintenance page on or off, on every host of the app: Apache answers 503 with the
 * page while the containers keep running. Only port maps change (no reload). Returns what
 * happened, in plain words.
 */
export async function setMaintenance(deps: AppControlDeps, app: string, on: boolean, actor: string): Promise<string> {
  return deps.withAppLock(app, async () => {
    const hosts = await answeringHosts(deps, app, '`slipway maintenance`');
    const outcomes = await onEveryHost(hosts, `maintenance ${on ? 'on' : 'off'}`, (host) => (host === LOCAL_HOST ? routeMaintenance(deps, app, on) : hostsOf(deps).maintenance(host, app, on)));
    if (!on && outcomes.some((o) => o.stopped)) throw new Error(`${app} is stopped: \`slipway start ${app}\` brings it back (the maintenance page stays until then)`);
    await deps.appConfigs.update(app, (c) => ({ ...c, maintenance: on }));
    await deps.audit.append({ actor, action: 'maintenance', app, outcome: 'ok', detail: on ? 'on' : 'off' });
    const ports = outcomes.flatMap((o) => o.ports);
    if (ports.length === 0) return `${app}: maintenance ${on ? 'on' : 'off'} (saved; nothing is serving yet)`;
    const kept = ports.length > 1 ? `its ${ports.length} web containers keep running` : 'the container keeps running';
    if (hosts.length === 1 && hosts[0] === LOCAL_HOST) {
      return on ? `${app}: maintenance on: Apache answers 503 with the maintenance page; ${kept}` : `${app}: maintenance off: traffic goes to ${ports.map((p) => `:${p}`).join(' ')} again`;
    }
    return on
      ? `${app}: maintenance on${onHosts(hosts)}: each host's Apache answers 503 with the maintenance page; ${kept}`
      : `${app}: maintenance off${onHosts(hosts)}: traffic goes to its ${ports.length} web container${ports.length > 1 ? 's' : ''} again`;
  });
}

/**
 * Stops an app on every host of it: Apache answers the maintenance page first, the requests in
 * flight finish, then the containers stop. They are stopped, not removed: `slipway start` brings
 * the last live release back, and Docker's `unless-stopped` policy keeps them stopped across
 * restarts of Docker and the machine.
 */
export async function stopApp(deps: AppControlDeps, app: string, actor: string): Promise<string> {
  return deps.withAppLock(app, async () => {
    const hosts = await answeringHosts(deps, app, '`slipway stop`');
    const liveSettings = hosts.some((h) => h !== LOCAL_HOST) ? await liveSettingsOf(deps, app) : undefined;
    const outcomes = await onEveryHost(hosts, 'the stop', (host) =>
      host === LOCAL_HOST
        ? stopOnMachine(deps, app, {
            workerGraceSeconds: (worker) => workerGrace(deps, app, worker.labels[LABEL.sha] ?? '', worker.labels[LABEL.process] ?? ''),
            // Written before the stop: a stop that went through is never taken for Docker's doing
            // (reconcile neither starts these again nor restores the app's counts while any of them is stopped).
            beforeStop: (ids) => deps.appConfigs.update(app, (c) => ({ ...c, stoppedContainers: ids })).then(() => undefined),
          })
        : hostsOf(deps).stop(host, app, liveSettings),
    );
    // On several hosts each name says where it ran (`shop-worker-1 on h2`).
    const where = (host: string) => (onHosts(hosts) ? (s: { name: string; id: string }) => ({ ...s, name: `${s.name} on ${host}` }) : (s: { name: string; id: string }) => s);
    const web = outcomes.flatMap((o, i) => o.web.map(where(hosts[i])));
    const workers = outcomes.flatMap((o, i) => o.workers.map(where(hosts[i])));
    if (!outcomes.some((o) => o.hasContainers)) throw new Error(`${app} has no container: nothing to stop`);
    if (web.length + workers.length === 0) throw new Error(`${app} is already stopped`);
    if (hosts.some((h) => h !== LOCAL_HOST)) await deps.appConfigs.update(app, (c) => ({ ...c, stoppedContainers: [...web, ...workers].map((s) => s.id) }));
    const names = (list: { name: string }[]) => list.map((s) => s.name);
    await deps.audit.append({ actor, action: 'stop', app, outcome: 'ok', detail: `stopped ${[...names(web), ...names(workers)].join(', ')}${onHosts(hosts)}` });
    if (web.length === 0) return `${app} stopped${onHosts(hosts)} (${names(workers).join(', ')}); \`slipway start ${app}\` brings it back`;
    return `${app} stopped${onHosts(hosts)}${workers.length > 0 ? ` (with ${names(workers).join(', ')})` : ''}: Apache answers the maintenance page; \`slipway start ${app}\` brings it back`;
  });
}

/** A worker type's stop_grace in slipway.json at the container's release; slipway's default when unreadable. */
async function workerGrace(deps: AppControlDeps, app: string, sha: string, type: string): Promise<number> {
  return graceOf(await settingsAt(deps, app, sha), type, deps.stopGraceSeconds);
}

/** slipway.json of the app's live release (what another host's workers stop with). */
async function liveSettingsOf(deps: AppControlDeps, app: string): Promise<AppSettings | undefined> {
  const sha = await deps.liveSha(app);
  return sha ? settingsAt(deps, app, sha) : undefined;
}

/** slipway.json at `sha`, undefined when it cannot be read or parsed. */
async function settingsAt(deps: AppControlDeps, app: string, sha: string): Promise<AppSettings | undefined> {
  return deps
    .readRepoFile(app, sha, 'slipway.json')
    .then(parseAppSettings)
    .catch(() => undefined);
}

/** The other hosts' agents (answeringHosts has checked they are set up before any host is asked). */
function hostsOf(deps: AppControlDeps): HostControl {
  if (!deps.hosts) throw new Error('internal: no host access');
  return deps.hosts;
}

/**
 * Takes the app off `hosts` (`apps:destroy`: every host it ran on; `hosts:set`: the hosts it
 * leaves): containers, images and Apache files, `local` in this process and the others through
 * their agents. A host that does not answer is left as it is (it may never come back) and named.
 */
export async function removeFromHosts(local: MachineControlDeps, access: HostControl | undefined, app: string, hosts: string[], otherApps: string[]): Promise<HostRemoval[]> {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return Promise.all(
    hosts.map(async (host): Promise<HostRemoval> => {
      const leftAsIs = (why: string): HostRemoval => ({ host, done: false, line: `${host} ${why}: ${app}'s containers there are left as they are (remove them on that host: docker rm -f)` });
      try {
        let removed: RemoveOutcome;
        if (host === LOCAL_HOST) removed = await removeFromMachine(local, app, otherApps);
        else {
          if (!access) return leftAsIs('is not reachable (no hosts set up)');
          const why = await access.notAnswering(host);
          if (why) return leftAsIs(why);
          removed = await access.remove(host, app, otherApps);
        }
        return { host, done: true, line: `${host}: ${app} removed (${plural(removed.containers, 'container')}, ${plural(removed.images, 'image')}, its Apache site)` };
      } catch (err) {
        return { host, done: false, line: `${host}: ${app} could not be removed there: ${(err as Error).message}` };
      }
    }),
  );
}

/** What removing an app did on one host, in plain words. */
export interface HostRemoval {
  host: string;
  done: boolean;
  line: string;
}
