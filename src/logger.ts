import pino, { type Logger } from 'pino';

/**
 * The process logger: JSON lines in production (for journald/pm2 and log shippers), pretty when a
 * person watches a terminal. `SLIPWAY_LOG_LEVEL` overrides the level.
 */
export function createLogger(name: string): Logger {
  const level = process.env.SLIPWAY_LOG_LEVEL ?? 'info';
  if (process.stdout.isTTY && process.env.NODE_ENV !== 'production') {
    return pino({ name, level, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ name, level });
}

/** Where a failed login was tried: the git remote's Authorization header, or the dashboard's login form. */
export type AuthFailureVia = 'git' | 'dashboard';

/**
 * Logs one failed login in the fixed-format line fail2ban's filter matches
 * (deploy/fail2ban/filter.d/slipway.conf). It must be called on the process's root logger (no
 * child bindings): pino writes `level, time, pid, hostname, name`, then this object's keys in the
 * order given, so the line always begins
 * `{"level":40,"time":…,"pid":…,"hostname":"…","name":"slipway-…","event":"auth-failure","client":"<address>"`.
 * Text a pusher controls (build errors, health statuses, URLs) only ever appears later on a line,
 * inside JSON strings where quotes are escaped, so it can never produce that beginning.
 * `client` must be an address slipway chose itself (client-address.ts), never header text.
 */
export function logAuthFailure(log: Logger, client: string, via: AuthFailureVia): void {
  log.warn({ event: 'auth-failure', client, via }, `slipway auth failure from ${client}`);
}

export type { Logger };
