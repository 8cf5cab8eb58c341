import type { Command } from 'commander';
import { parseScaleArgs } from '../apps/scale-input';
import { appIsRunning, formatProcessStatus, processStatus } from '../apps/process-status';
import { cliActor } from '../audit/audit-log';
import { parseProcfile, processTypes } from '../deploy/procfile';
import { createDockerEngine, LABEL, type ContainerInfo } from '../docker/docker-engine';
import { readFileAtCommit } from '../git/bare-repo';
import { repoPath } from '../settings';
import { openCliContext, table, type CliContext } from './cli-context';
import { enqueueAndFollow } from './enqueue-and-follow';

/** The process types of the app's live release (`processTypes` of its Procfile), or [] before a first release. */
export async function liveProcessTypes(ctx: CliContext, app: string, sha: string | undefined): Promise<string[]> {
  if (sha === undefined) return [];
  return processTypes(parseProcfile(await readFileAtCommit(repoPath(ctx.settings.home, app), sha, 'Procfile')));
}

export function registerPsCommands(program: Command): void {
  program
    .command('ps <app>')
    .description("the app's process types with their scale, and each container: state, uptime, release")
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  slipway ps myapp\n  slipway ps myapp --json')
    .action(async (app: string, opts: { json?: boolean }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const docker = createDockerEngine();
      const [live, releases, config] = await Promise.all([ctx.releases.live(app), ctx.releases.list(app), ctx.appConfigs.read(app)]);
      // A listing has no start times: each container of the app is inspected.
      const listed = (await docker.listSlipwayContainers()).filter((c) => c.labels[LABEL.app] === app);
      const containers = (await Promise.all(listed.map((c) => docker.inspectContainer(c.name)))).filter((c): c is ContainerInfo => c !== undefined);
      const status = processStatus(app, {
        containers,
        types: await liveProcessTypes(ctx, app, live?.sha),
        scale: config.scale,
        releaseOfSha: (sha) => releases.filter((r) => r.sha === sha && r.result === 'live').at(-1)?.number,
        now: Date.now(),
      });
      ctx.print(opts.json ? JSON.stringify(status, null, 2) : formatProcessStatus(status, table));
    });

  program
    .command('ps:scale <app> <type=count...>')
    .description('how many containers of each process type run (kept in the app config, so pushes keep it); applied at once without a build, 0 stops a type')
    .addHelpText('after', '\nExamples:\n  slipway ps:scale myapp worker=2\n  slipway ps:scale myapp web=3 worker=0')
    .action(async (app: string, args: string[]) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const live = await ctx.releases.live(app);
      if (!live) throw new Error(`${app} has no live release yet: push it first (its Procfile says which process types there are)`);
      const change = parseScaleArgs(args, await liveProcessTypes(ctx, app, live.sha), ctx.settings.maxScale);
      const said = Object.entries(change)
        .map(([type, n]) => `${type}=${n}`)
        .join(' ');
      await ctx.appConfigs.update(app, (c) => ({ ...c, scale: { ...c.scale, ...change } }));
      await ctx.audit.append({ actor: cliActor(), action: 'scale', app, outcome: 'ok', detail: said });
      if (!appIsRunning(await createDockerEngine().listSlipwayContainers(), app)) {
        ctx.print(`${app}: scale ${said} saved; ${app} is stopped, so it applies when it starts (\`slipway start ${app}\`)`);
        return;
      }
      process.exitCode = await enqueueAndFollow(ctx, { app, sha: live.sha, ref: live.ref, kind: 'scale', note: `scale ${said}` });
    });
}
