import { LABEL } from '../docker/docker-engine';
import type { DeployKind } from '../queue/deploy-job';
import { appEnv, imageTags, type DeployContext } from './deploy-context';
import { parseProcfile, shellCommand } from './procfile';
import type { DeployStep } from './step-runner';

type Step = DeployStep<DeployContext>;

/** Releases that change the image or the env run the release command; a restart or a start changes neither. */
const RELEASING_KINDS = new Set<DeployKind>(['push', 'rollback', 'config']);

/** The one-off container of an app's release command (one deploy per app at a time, so one name). */
export function releaseContainerName(app: string): string {
  return `${app}-release`;
}

/** Reads the Procfile at the pushed commit, before anything starts; a bad line fails the deploy naming it. */
export const readProcfile: Step = {
  name: 'procfile',
  async run(ctx) {
    ctx.state.procfile = parseProcfile(await ctx.deps.readRepoFile(ctx.job.app, ctx.job.sha, 'Procfile'));
  },
};

/**
 * Runs the Procfile's `release:` command once, in a one-off container of the new image with the
 * app's env, volumes and the host network, before the new version starts. Its output goes to the
 * push; a non-zero exit or `release_timeout` fails the deploy (nothing has started, the old
 * version serves). The container is removed whatever happens. A re-run (BullMQ redelivers after
 * a crash) removes a leftover container and runs the command again: it must be idempotent.
 */
export const runReleaseCommand: Step = {
  name: 'release',
  async run(ctx) {
    const { app, sha, kind } = ctx.job;
    const command = ctx.state.procfile?.release;
    if (command === undefined || !RELEASING_KINDS.has(kind)) return;
    if (ctx.job.skipRelease) {
      ctx.say(`-----> Release: skipped (skip-release): ${command}`);
      return;
    }
    const settings = ctx.state.appSettings;
    if (!settings) throw new Error('internal: settings missing (step order)');
    const name = releaseContainerName(app);
    await ctx.deps.docker.removeContainer(name);
    ctx.say(`-----> Release: ${command}`);
    const started = Date.now();
    // The reason a failure gives: the last line on stderr (where commands say what went wrong),
    // else the last on stdout. The two streams interleave in no fixed order.
    const lastLine = { stdout: '', stderr: '' };
    try {
      const result = await ctx.deps.docker.runOneOff(
        {
          name,
          image: imageTags(app, sha).commit,
          cmd: shellCommand(command),
          env: appEnv(settings, ctx.state.appConfig),
          labels: { [LABEL.app]: app, [LABEL.sha]: sha, [LABEL.deploy]: ctx.deployId, [LABEL.oneOff]: 'release' },
          volumes: settings.volumes,
        },
        (line, stream) => {
          if (line.trim() !== '') lastLine[stream] = line.trim();
          ctx.say(`       ${line}`);
        },
        settings.releaseTimeoutSeconds * 1000,
      );
      const last = (lastLine.stderr || lastLine.stdout || '(no output)').slice(0, 300);
      if (result.timedOut) throw new Error(`release command timed out after ${settings.releaseTimeoutSeconds} s (release_timeout): ${last}`);
      if (result.exitCode !== 0) throw new Error(`release command failed (exit ${result.exitCode ?? '?'}): ${last}`);
      ctx.say(`       release took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await ctx.deps.docker.removeContainer(name);
    }
  },
  async undo(ctx) {
    await ctx.deps.docker.removeContainer(releaseContainerName(ctx.job.app));
  },
};
