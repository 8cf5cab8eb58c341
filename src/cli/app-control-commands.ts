import type { Command } from 'commander';
import { setMaintenance, stopApp } from '../apps/app-control';
import { cliActor } from '../audit/audit-log';
import { appIsRunning } from '../apps/process-status';
import { createDockerEngine } from '../docker/docker-engine';
import { openCliContext, type CliContext } from './cli-context';
import { runsOnSomeHost } from '../cluster/app-host-status';
import { cliAppHostStatus } from './app-host-status';
import { enqueueAndFollow } from './enqueue-and-follow';

/** The live release and whether its container runs, or a plain-words error. */
async function liveState(ctx: CliContext, app: string) {
  const live = await ctx.releases.live(app);
  if (!live) throw new Error(`${app} has no live release yet: push it first`);
  const containers = await createDockerEngine().listSlipwayContainers();
  // An app on several hosts runs when a host that answers runs its web (each host asked now).
  const hosts = await cliAppHostStatus(ctx, app, containers);
  return { live, running: hosts ? runsOnSomeHost(hosts) : appIsRunning(containers, app) };
}

export function registerAppControlCommands(program: Command): void {
  program
    .command('restart <app>')
    .description('replace the running container with a fresh one of the same release, with zero downtime (pending → health → switch → drain)')
    .addHelpText('after', '\nExamples:\n  slipway restart myapp')
    .action(async (app: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const { live, running } = await liveState(ctx, app);
      if (!running) throw new Error(`${app} is not running: \`slipway start ${app}\` starts it`);
      process.exitCode = await enqueueAndFollow(ctx, { app, sha: live.sha, ref: live.ref, kind: 'restart', note: `restart of release ${live.number}` });
    });

  program
    .command('stop <app>')
    .description('Apache answers the maintenance page, then the container stops (and stays stopped across restarts of slipway, Docker and the machine)')
    .addHelpText('after', '\nExamples:\n  slipway stop myapp\n  slipway start myapp')
    .action(async (app: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      ctx.print(await ctx.withAppControl((deps) => stopApp(deps, app, cliActor())));
    });

  program
    .command('start <app>')
    .description('start a stopped app: its last live release comes back through the health gate')
    .addHelpText('after', '\nExamples:\n  slipway start myapp')
    .action(async (app: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const { live, running } = await liveState(ctx, app);
      if (running) throw new Error(`${app} is running already (\`slipway restart ${app}\` replaces its container)`);
      process.exitCode = await enqueueAndFollow(ctx, { app, sha: live.sha, ref: live.ref, kind: 'start', note: `start of release ${live.number}` });
    });

  program
    .command('maintenance <app> <on|off>')
    .description('Apache answers 503 with a maintenance page (Retry-After) while the container keeps running; no Apache reload')
    .addHelpText(
      'after',
      '\nThe page is $SLIPWAY_HOME/maintenance/<app>.html, else $SLIPWAY_HOME/maintenance/default.html, else a built-in one.\n\nExamples:\n  slipway maintenance myapp on\n  slipway maintenance myapp off',
    )
    .action(async (app: string, state: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      if (state !== 'on' && state !== 'off') throw new Error(`say on or off, not "${state.slice(0, 20)}"`);
      ctx.print(await ctx.withAppControl((deps) => setMaintenance(deps, app, state === 'on', cliActor())));
    });
}
