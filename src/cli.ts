#!/usr/bin/env node
import { Command } from 'commander';
import { createLogger } from './logger';
import { readSettings } from './settings';
import { startSlipway, type Role } from './slipway-process';

const program = new Command();
program
  .name('slipway')
  .description('git push-to-deploy with zero downtime, for one plain VM (Docker + Apache)')
  .addHelpText('after', `
Settings come from the environment (see README "Configuration"):
  SLIPWAY_HOME, SLIPWAY_PORT, SLIPWAY_TOKEN, REDIS_URL, SLIPWAY_APACHECTL, SLIPWAY_APACHE_SITES, DOCKER_HOST

Examples:
  slipway up                       # git server + worker + embedded Redis in one process
  SLIPWAY_PORT=7005 slipway server # the git server half (pm2 runs the halves apart)
  slipway worker                   # the deploy worker half`);

for (const [role, description] of [
  ['up', 'run the git server and the deploy worker in one process (embedded Redis unless REDIS_URL is set)'],
  ['server', 'run only the git server (and the embedded Redis unless REDIS_URL is set)'],
  ['worker', 'run only the deploy worker'],
] as const) {
  program.command(role).description(description).action(() => run(role));
}

async function run(role: Role): Promise<void> {
  const log = createLogger(`slipway-${role}`);
  const settings = readSettings();
  const running = await startSlipway(settings, role, log);
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

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`slipway: ${err.message}\n`);
  process.exit(1);
});
