import type { ApacheSites } from '../apache/apache-sites';
import type { CertificateState } from '../apache/md-status';
import type { Logger } from '../logger';
import type { AppLock } from '../queue/app-lock';

/** What the watcher talks to; real adapters in the worker, fakes in unit tests. */
export interface CertificateWatcherDeps {
  apache: Pick<ApacheSites, 'tlsSites' | 'reload'>;
  /** mod_md's status, read through the TLS-auto vhost of `host`. */
  readStatus(host: string): Promise<CertificateState[]>;
  listApps(): Promise<string[]>;
  /** Takes an app's deploy lock if free (the one a deploy holds while it runs). */
  tryLockApp(app: string): Promise<AppLock | undefined>;
  log: Logger;
}

/**
 * How often the watcher reads mod_md's status: one loopback request. mod_md itself decides when
 * to renew (its renew window); this only bounds how long a ready certificate waits for its reload.
 */
export const CERTIFICATE_CHECK_INTERVAL_MS = 5000;

/** What one look found and did, for logs and tests. */
export type WatchOutcome =
  { kind: 'idle' } | { kind: 'waiting'; certificates: string[]; busyApp: string } | { kind: 'reloaded'; certificates: string[] } | { kind: 'failed'; certificates: string[]; error: string };

/**
 * One look at mod_md's certificates: when one is ready (obtained or renewed, staged by mod_md),
 * Apache is reloaded gracefully so it serves it, and only while no deploy runs: the watcher
 * takes every app's deploy lock first (a deploy arriving meanwhile waits a moment, as it would
 * for another deploy of its app), then configtest, graceful, and a check that Apache answers.
 */
export async function checkCertificates(deps: CertificateWatcherDeps): Promise<WatchOutcome> {
  const sites = await deps.apache.tlsSites();
  if (sites.length === 0) return { kind: 'idle' };
  let states: CertificateState[] | undefined;
  let lastError: Error | undefined;
  for (const site of sites) {
    try {
      states = await deps.readStatus(site.domain);
      break;
    } catch (err) {
      lastError = err as Error;
    }
  }
  if (!states) throw lastError ?? new Error('no TLS site answered');
  const ready = states.filter((s) => s.needsReload);
  if (ready.length === 0) return { kind: 'idle' };
  const certificates = ready.map((s) => `${s.name} (serial ${s.staged?.serial})`);
  const locks: AppLock[] = [];
  try {
    for (const app of await deps.listApps()) {
      const lock = await deps.tryLockApp(app);
      if (!lock) return { kind: 'waiting', certificates, busyApp: app };
      locks.push(lock);
    }
    try {
      await deps.apache.reload();
      return { kind: 'reloaded', certificates };
    } catch (err) {
      return { kind: 'failed', certificates, error: (err as Error).message };
    }
  } finally {
    for (const lock of locks) await lock.release().catch(() => undefined);
  }
}

/** Looks every `intervalMs` (never two looks at once) until stopped; logs what it did. */
export function startCertificateWatcher(deps: CertificateWatcherDeps, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  // A condition that lasts (a long deploy, a broken config, Apache down) is logged once, not every look.
  let last = '';
  const once = (key: string, write: () => void) => {
    if (key !== last) write();
    last = key;
  };
  const look = async () => {
    try {
      const outcome = await checkCertificates(deps);
      if (outcome.kind === 'idle') last = '';
      if (outcome.kind === 'waiting')
        once(`waiting ${outcome.busyApp}`, () =>
          deps.log.info({ certificates: outcome.certificates, busyApp: outcome.busyApp }, `tls: new certificate ready; reload waits for the deploy of ${outcome.busyApp}`),
        );
      if (outcome.kind === 'reloaded') {
        deps.log.info({ certificates: outcome.certificates }, 'tls: Apache reloaded gracefully to serve the new certificate');
        last = '';
      }
      if (outcome.kind === 'failed') once(`failed ${outcome.error}`, () => deps.log.error({ certificates: outcome.certificates, error: outcome.error }, 'tls: reload for the new certificate failed'));
    } catch (err) {
      once(`unreadable ${(err as Error).message}`, () => deps.log.warn({ err }, "tls: could not read the certificates' state from mod_md"));
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = look().finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
