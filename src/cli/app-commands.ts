import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ensureBareRepo } from '../git/bare-repo';
import { removeWorkTree } from '../git/checkout';
import { LOCAL_HOST } from '../cluster/host-name';
import { appNameClash, appNameProblem } from '../names';
import { homePaths, repoPath, workTreePath } from '../settings';
import { openCliContext, table } from './cli-context';
import { cliRemoveFromHosts } from './remove-from-hosts';

export function registerAppCommands(program: Command): void {
  program
    .command('apps')
    .description('list apps')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  slipway apps\n  slipway apps:create myapp\n  slipway apps:destroy myapp --confirm myapp')
    .action(async (opts: { json?: boolean }) => {
      const ctx = openCliContext();
      const apps = await Promise.all((await ctx.listApps()).map(async (app) => ({ app, live: await ctx.releases.live(app) })));
      if (opts.json)
        return ctx.print(
          JSON.stringify(
            apps.map((a) => ({ app: a.app, release: a.live?.number, sha: a.live?.sha })),
            null,
            2,
          ),
        );
      ctx.print(
        table(
          ['app', 'live release', 'sha'],
          apps.map((a) => [a.app, a.live ? `v${a.live.number}` : '-', a.live?.sha.slice(0, 7) ?? '-']),
        ),
      );
    });

  program
    .command('apps:create <app>')
    .description('create an app (its git repo) without pushing')
    .action(async (app: string) => {
      const ctx = openCliContext();
      const problem = appNameProblem(app);
      if (problem) throw new Error(problem);
      const clash = appNameClash(app, await ctx.listApps());
      if (clash) throw new Error(clash);
      const { created } = await ensureBareRepo(repoPath(ctx.settings.home, app));
      ctx.print(created ? `created ${app}: git remote add production http://git:TOKEN@<this-host>:${ctx.settings.port}/${app}.git` : `${app} exists`);
    });

  program
    .command('apps:destroy <app>')
    .description('stop and remove an app: containers, images, Apache files (on every host it runs on), repo (release history is kept aside)')
    .option('--confirm <app>', 'skip the question by repeating the app name')
    .action(async (app: string, opts: { confirm?: string }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      if (opts.confirm !== app) {
        if (!process.stdin.isTTY) throw new Error(`refusing to destroy ${app} without --confirm ${app}`);
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`This stops ${app} and deletes its repo and images. Type the app name to confirm: `);
        rl.close();
        if (answer.trim() !== app) throw new Error('not confirmed; nothing changed');
      }
      const paths = homePaths(ctx.settings.home);
      // This server always (what an earlier single-host life left), and every other host of the app.
      const hosts = [...new Set([LOCAL_HOST, ...((await ctx.appConfigs.read(app)).hosts ?? [])])];
      const removed = await cliRemoveFromHosts(ctx, app, hosts);
      if (hosts.length > 1) for (const { line } of removed) ctx.print(line);
      // This server's part failing stops the destroy: its repo and config stay for another try.
      const here = removed.find((r) => r.host === LOCAL_HOST && !r.done);
      if (here) throw new Error(`${here.line}; the repo and the app's config are kept`);
      await fs.rm(repoPath(ctx.settings.home, app), { recursive: true, force: true });
      await removeWorkTree(workTreePath(ctx.settings.home, app));
      await fs.rm(path.join(paths.apps, `${app}.json`), { force: true });
      const history = path.join(paths.releases, `${app}.json`);
      await fs.rename(history, path.join(paths.releases, `${app}.destroyed-${Date.now()}.json`)).catch(() => undefined);
      ctx.print(`${app} destroyed (release history kept in ${paths.releases})`);
    });

  program
    .command('apps:public-fetch <app> <on|off>')
    .description('let anyone clone/fetch the app read-only (pushing always needs a token)')
    .action(async (app: string, state: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      if (state !== 'on' && state !== 'off') throw new Error('say on or off');
      await ctx.appConfigs.update(app, (c) => ({ ...c, publicFetch: state === 'on' }));
      ctx.print(`${app}: public fetch ${state}`);
    });

  program
    .command('logs <app>')
    .description("print the live container's logs")
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'lines from the end', '100')
    .option('--container <name>', 'a container of the app other than the live one (what `slipway run --detach` printed)')
    .addHelpText('after', '\nExamples:\n  slipway logs myapp -n 50\n  slipway logs myapp -f\n  slipway logs myapp -f --container myapp-run-3f2a1c')
    .action(async (app: string, opts: { follow?: boolean; lines: string; container?: string }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const container = opts.container ?? app;
      if (container !== app && !new RegExp(`^${app}-run-[0-9a-f]{6}$`).test(container)) throw new Error(`"${container.slice(0, 60)}" is not a container of ${app}`);
      const args = ['logs', '--tail', String(Number(opts.lines) || 100), ...(opts.follow ? ['--follow'] : []), container];
      const child = spawn('docker', args, { stdio: 'inherit' });
      process.exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    });
}
