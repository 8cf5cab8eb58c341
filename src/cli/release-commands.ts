import type { Command } from 'commander';
import { createDockerEngine } from '../docker/docker-engine';
import { listWebContainers } from '../deploy/web-containers';
import { shortSha } from '../names';
import { rollbackTarget } from '../releases/rollback-target';
import { formatTypeCounts, processStatus } from '../apps/process-status';
import { cliAppHostStatus } from './app-host-status';
import { formatAppHosts } from '../cluster/app-host-status';
import { openCliContext, table } from './cli-context';
import { liveProcessTypes } from './ps-commands';
import { enqueueAndFollow } from './enqueue-and-follow';

export function registerReleaseCommands(program: Command): void {
  program
    .command('releases <app>')
    .description("list an app's releases (every deploy, successful or not)")
    .option('--json', 'print JSON')
    .addHelpText('after', "\nExamples:\n  slipway releases myapp\n  slipway releases myapp --json | jq '.[-1]'")
    .action(async (app: string, opts: { json?: boolean }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const releases = await ctx.releases.list(app);
      if (opts.json) return ctx.print(JSON.stringify(releases, null, 2));
      // An app that ever ran on several hosts: where each release went (and which hosts it left out).
      const withHosts = releases.some((r) => r.hosts !== undefined);
      const hostsOf = (r: (typeof releases)[number]) => [(r.hosts ?? ['local']).join(','), ...(r.skippedHosts?.length ? [`(${r.skippedHosts.join(',')} left out)`] : [])].join(' ');
      ctx.print(
        table(
          ['#', 'sha', 'ref', 'by', 'started', 'took', ...(withHosts ? ['hosts'] : []), 'result'],
          releases.map((r) => [
            `v${r.number}`,
            shortSha(r.sha),
            r.note ?? r.ref.replace(/^refs\/(heads|tags)\//, ''),
            r.pushedBy,
            r.startedAt.replace('T', ' ').slice(0, 19),
            `${(r.durationMs / 1000).toFixed(1)} s`,
            ...(withHosts ? [hostsOf(r)] : []),
            r.result === 'live' ? 'ok' : `failed: ${r.reason ?? ''}`.slice(0, 80),
          ]),
        ),
      );
    });

  program
    .command('rollback <app> [release]')
    .description('redeploy an earlier release (default: the previous successful one), without a build, through the same safe sequence')
    .option('--skip-release', "do not run the Procfile's release command")
    .addHelpText('after', '\nExamples:\n  slipway rollback myapp        # the release before the live one\n  slipway rollback myapp 12     # release v12\n  slipway rollback myapp --skip-release')
    .action(async (app: string, release: string | undefined, opts: { skipRelease?: boolean }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const number = release === undefined ? undefined : Number(release.replace(/^v/, ''));
      if (number !== undefined && !Number.isInteger(number)) throw new Error(`"${release}" is not a release number (like 12 or v12)`);
      const target = rollbackTarget(await ctx.releases.list(app), number);
      process.exitCode = await enqueueAndFollow(ctx, { app, sha: target.sha, ref: target.ref, kind: 'rollback', note: `rollback to release ${target.number}`, skipRelease: opts.skipRelease });
    });

  program
    .command('status [app]')
    .description('what is live: release, commit, port, container state, and per process type the containers running against its scale (web 3/3, worker 2/2)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  slipway status\n  slipway status myapp --json')
    .action(async (app: string | undefined, opts: { json?: boolean }) => {
      const ctx = openCliContext();
      if (app !== undefined) await ctx.requireApp(app);
      const docker = createDockerEngine();
      const apps = app !== undefined ? [app] : await ctx.listApps();
      const all = await docker.listSlipwayContainers();
      const rows = await Promise.all(
        apps.map(async (name) => {
          const live = await ctx.releases.live(name);
          const { live: web } = await listWebContainers(docker, name);
          const running = web.filter((c) => c.running);
          const first = running[0] ?? web[0];
          // A listing has no exit code: inspect the one that speaks for the app.
          const container = first && (await docker.inspectContainer(first.name));
          const processes = processStatus(name, {
            containers: all,
            types: await liveProcessTypes(ctx, name, live?.sha),
            scale: (await ctx.appConfigs.read(name)).scale,
            releaseOfSha: () => undefined,
            now: Date.now(),
          }).types;
          return {
            app: name,
            release: live?.number,
            sha: live?.sha,
            port: live?.port,
            since: live?.startedAt,
            // A workers-only app has no web container: say so rather than "none".
            container: container
              ? container.running
                ? 'running'
                : `stopped (exit ${container.exitCode})`
              : processes.length > 0 && !processes.some((p) => p.type === 'web')
                ? 'workers only'
                : 'none',
            web: { running: running.length, total: web.length },
            processes,
            // An app on several hosts: what each host runs, asked of its agent now.
            hosts: await cliAppHostStatus(ctx, name, all),
          };
        }),
      );
      if (opts.json) return ctx.print(JSON.stringify(rows, null, 2));
      ctx.print(
        table(
          ['app', 'release', 'sha', 'port', 'since', 'container', 'processes'],
          rows.map((r) => [
            r.app,
            r.release ? `v${r.release}` : '-',
            r.sha ? shortSha(r.sha) : '-',
            String(r.port ?? '-'),
            r.since?.replace('T', ' ').slice(0, 19) ?? '-',
            r.container,
            formatTypeCounts(r.processes) || '-',
          ]),
        ),
      );
      for (const r of rows) if (r.hosts) ctx.print(`${r.app} on ${r.hosts.length} hosts: ${formatAppHosts(r.hosts)}`);
    });
}
