import type { AppConfig } from '../apps/app-config-store';
import type { Logger } from '../logger';
import type { DeployJobData } from '../queue/deploy-job';
import type { ReleaseStore } from '../releases/release-store';

/** What bringing hosts back to the live release needs. */
export interface HostConvergenceDeps {
  listApps(): Promise<string[]>;
  readAppConfig(app: string): Promise<AppConfig>;
  releases: Pick<ReleaseStore, 'live'>;
  /** Whether host `host`'s agent heartbeats now. */
  hostUp(host: string): Promise<boolean>;
  /** Apps with a deploy queued or running. */
  busyApps(): Promise<Set<string>>;
  enqueue(data: Omit<DeployJobData, 'pushedAt'>): Promise<void>;
  log: Logger;
}

/** A host that keeps failing to take its release is tried again after this long, not on every look. */
const RETRY_AFTER_MS = 5 * 60_000;

/**
 * Brings a host that was left out of an app's live release (`rollout.skip_unreachable`: it did not
 * answer) to that release once its agent heartbeats again: a deploy job of the live commit for
 * those hosts only (no release phase: it ran with the release). Its own release record lists the
 * host, so the next look finds nothing to do.
 */
export async function convergeHosts(deps: HostConvergenceDeps, tried: Map<string, number>, now = Date.now()): Promise<string[]> {
  const queued: string[] = [];
  const busy = await deps.busyApps();
  for (const app of await deps.listApps()) {
    if (busy.has(app)) continue;
    const live = await deps.releases.live(app);
    const hosts = (await deps.readAppConfig(app)).hosts ?? [];
    const missing = (live?.skippedHosts ?? []).filter((h) => hosts.includes(h));
    if (!live || missing.length === 0) continue;
    const back: string[] = [];
    for (const host of missing) {
      const key = `${app} ${host} ${live.deployId}`;
      if (now - (tried.get(key) ?? -Infinity) < RETRY_AFTER_MS || !(await deps.hostUp(host))) continue;
      tried.set(key, now);
      back.push(host);
    }
    if (back.length === 0) continue;
    await deps.enqueue({
      app,
      sha: live.sha,
      ref: live.ref,
      kind: 'restart',
      skipRelease: true,
      hosts: back,
      note: `${back.join(', ')} brought to release ${live.number} (left out while not answering)`,
      pushedBy: 'slipway',
    });
    queued.push(`${app}: ${back.join(', ')} back, bringing ${back.length > 1 ? 'them' : 'it'} to release ${live.number}`);
  }
  return queued;
}

/** Looks every `intervalMs` until stopped (never two looks at once); logs what it queued. */
export function startHostConvergence(deps: HostConvergenceDeps, intervalMs: number): { stop(): Promise<void> } {
  const tried = new Map<string, number>();
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = convergeHosts(deps, tried)
      .then((queued) => {
        for (const line of queued) deps.log.warn(`hosts: ${line}`);
      })
      .catch((err: Error) => deps.log.warn({ err: err.message }, 'hosts: could not look for hosts to bring to the live release'))
      .finally(() => (busy = false));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
