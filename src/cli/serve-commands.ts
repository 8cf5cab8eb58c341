import type { Command } from 'commander';
import { createLogger } from '../logger';
import { readSettings } from '../settings';
import { startSlipway, type Role } from '../slipway-process';

const ROLES: [Role, string][] = [
  ['up', 'run the git server and the deploy worker in one process (embedded Redis unless REDIS_URL is set)'],
  ['server', 'run only the git server (and the embedded Redis unless REDIS_URL is set)'],
  ['worker', 'run only the deploy worker'],
];

export function registerServeCommands(program: Command): void {
  for (const [role, description] of ROLES) {
    program
      .command(role)
      .description(description)
      .action(() => serve(role));
  }
}

/** Runs slipway until SIGTERM/SIGINT, then stops cleanly: a running deploy finishes first. */
async function serve(role: Role): Promise<void> {
  const log = createLogger(`slipway-${role}`);
  const running = await startSlipway(readSettings(), role, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping (a running deploy finishes first)');
    running.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
