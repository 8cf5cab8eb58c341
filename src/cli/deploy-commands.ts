import type { Command } from 'commander';
import { followJob } from '../queue/deploy-queue';
import { DeployLogFiles } from '../releases/deploy-log-files';
import { homePaths } from '../settings';
import { openCliContext } from './cli-context';

export function registerDeployCommands(program: Command): void {
  program
    .command('deploys <app> [id]')
    .description("list an app's deploys, or print one deploy's log (following it live while it runs)")
    .option('--json', 'print JSON (the list)')
    .addHelpText('after', '\nExamples:\n  slipway deploys myapp\n  slipway deploys myapp deploy-myapp-3f2a9c1d0e4b-1795667529649')
    .action(async (app: string, id: string | undefined, opts: { json?: boolean }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const files = new DeployLogFiles(homePaths(ctx.settings.home).deployLogs);
      if (id === undefined) {
        const ids = await files.list(app);
        return ctx.print(opts.json ? JSON.stringify(ids, null, 2) : ids.join('\n'));
      }
      if (!id.startsWith(`deploy-${app}-`)) throw new Error(`"${id}" is not a deploy of ${app} (see \`slipway deploys ${app}\`)`);
      const running = await ctx
        .withQueue(async (queue) => {
          const state = await queue.getJobState(id);
          if (state === 'unknown' || state === 'completed' || state === 'failed') return false;
          await followJob(queue, id, ctx.print);
          return true;
        })
        .catch(() => false);
      if (running) return;
      const text = await files.read(app, id);
      if (text === undefined) throw new Error(`no log for deploy ${id}`);
      process.stdout.write(text);
    });
}
