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

export type { Logger };
