import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { parseAppSettings, type AppSettings } from '../app-settings';
import type { AppConfig } from '../apps/app-config-store';
import { parseEnvAssignments } from '../apps/app-config-store';
import { cliActor } from '../audit/audit-log';
import { appEnv, imageTags } from '../deploy/deploy-context';
import { createDockerEngine, LABEL, type ContainerSpec } from '../docker/docker-engine';
import { readFileAtCommit } from '../git/bare-repo';
import { repoPath } from '../settings';
import { openCliContext } from './cli-context';

/** What `slipway run` starts: the live image, the app's env (plus `--env`), volumes, host network, the given argv. */
export function runContainerSpec(input: { app: string; sha: string; settings: AppSettings; config: AppConfig; extraEnv: Record<string, string>; argv: string[]; suffix: string }): ContainerSpec {
  return {
    name: `${input.app}-run-${input.suffix}`,
    image: imageTags(input.app, input.sha).commit,
    cmd: input.argv,
    env: { ...appEnv(input.settings, input.config), ...input.extraEnv },
    labels: { [LABEL.app]: input.app, [LABEL.sha]: input.sha, [LABEL.oneOff]: 'run' },
    volumes: input.settings.volumes,
  };
}

/** A command line as the audit log shows it: arguments with spaces or quotes are JSON-quoted. */
export function commandLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

export function registerRunCommand(program: Command): void {
  program
    .command('run <app> <command...>')
    .description("run a command once in a new container of the live release (the app's env, volumes and network), attached to this terminal; exits with its exit code")
    .option('-e, --env <KEY=VALUE>', 'extra env for this run (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('-d, --detach', 'start it in the background and print its name (follow it with slipway logs <app> --container <name>; kept after it ends until the next run)')
    .addHelpText(
      'after',
      "\nPut -- before the command so its own options are not read as slipway's.\n\nExamples:\n  slipway run myapp -- ./manage.py shell\n  slipway run myapp --env DRY_RUN=1 -- sh -c 'echo $DATABASE_URL | cut -c1-10'\n  slipway run myapp --detach -- ./reindex --all",
    )
    .action(async (app: string, argv: string[], opts: { env: string[]; detach?: boolean }) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const extraEnv = parseEnvAssignments(opts.env);
      const live = await ctx.releases.live(app);
      if (!live) throw new Error(`${app} has no live release: push it first (slipway run uses the live release's image)`);
      const docker = createDockerEngine();
      if ((await docker.imageId(imageTags(app, live.sha).commit)) === undefined) throw new Error(`the image of ${app}'s live release (${live.sha.slice(0, 7)}) is gone; redeploy it`);
      const settings = parseAppSettings(await readFileAtCommit(repoPath(ctx.settings.home, app), live.sha, 'slipway.json'));
      const spec = runContainerSpec({ app, sha: live.sha, settings, config: await ctx.appConfigs.read(app), extraEnv, argv, suffix: randomBytes(3).toString('hex') });
      const detail = `${commandLine(argv)}${Object.keys(extraEnv).length > 0 ? ` (env: ${Object.keys(extraEnv).join(', ')})` : ''}`;
      // A finished detached run is kept so its logs can still be read; the next run clears it away.
      for (const c of await docker.listSlipwayContainers()) {
        if (c.labels[LABEL.app] === app && c.labels[LABEL.oneOff] === 'run' && !c.running) await docker.removeContainer(c.name);
      }
      if (opts.detach) {
        await docker.createOneOff(spec, { interactive: false, tty: false });
        await docker.startContainer(spec.name);
        await ctx.audit.append({ actor: cliActor(), action: 'run', app, outcome: 'started', detail: `${detail}, detached as ${spec.name}` });
        return ctx.print(spec.name);
      }
      const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
      await docker.createOneOff(spec, { interactive: true, tty });
      let code: number;
      try {
        // The docker CLI attaches the terminal (raw mode, resize, signals) and exits with the container's code.
        const child = spawn('docker', ['start', '--attach', '--interactive', spec.name], { stdio: 'inherit' });
        code = await new Promise<number>((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', (exit) => resolve(exit ?? 1));
        });
      } finally {
        await docker.removeContainer(spec.name);
      }
      await ctx.audit.append({ actor: cliActor(), action: 'run', app, outcome: `exit ${code}`, detail });
      process.exitCode = code;
    });
}
