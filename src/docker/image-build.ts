import { spawn } from 'node:child_process';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { Builder } from './build-cli';
import { findBuildCli } from './build-cli-probe';
import { buildCommand, type BuildCommand } from './build-command';
import { failureReason, shownLine } from './build-output';
import { stopOrphanedBuilds } from './orphaned-builds';
import { explainDiskFullText } from '../disk-full';

/** How app images are built: the builder, the CLI (SLIPWAY_DOCKER_CLI) and the deadline. */
export interface BuildSettings {
  builder: Builder;
  /** A docker CLI to use instead of the one slipway finds. */
  dockerCli?: string;
  /** A build still running this long after it started is stopped and fails (SLIPWAY_BUILD_TIMEOUT). */
  timeoutSeconds: number;
}

/** Thrown when a build fails; the message is the builder's own reason, or slipway's in plain words. */
export class BuildFailedError extends Error {}

/** Where a build writes: the Engine's disk, not SLIPWAY_HOME (`docker info` names it; `docker system df` shows what uses it). */
const DOCKER_DISK = "Docker's data root (docker info: Docker Root Dir; docker system df shows what uses it)";

/** After SIGTERM, the CLI gets this long to cancel its build before SIGKILL. */
const KILL_GRACE_MS = 3000;
/** Enough of stderr to find the failure in; a build's output can be long. */
const STDERR_LINES_KEPT = 200;

/**
 * Builds `dir` (the app's work tree, kept between builds: BuildKit keeps its copy of the last
 * build's context and fetches only the files that changed) into an image with every tag in
 * `tags`, by running the docker CLI (see build-cli.ts for which one), passing each line of its
 * output to `onLine`.
 */
export async function buildImage(settings: BuildSettings, dir: string, tags: string[], onLine: (line: string) => void): Promise<void> {
  const choice = await findBuildCli(settings.builder, settings.dockerCli);
  if ('problem' in choice) throw new BuildFailedError(`${choice.problem}; ${choice.fix}`);
  // A worker killed mid-build (BullMQ then runs the deploy again) left its CLI building this tree.
  if ((await stopOrphanedBuilds(dir)) > 0) onLine('stopped the build an interrupted run of this deploy left running');
  await runBuild(buildCommand(choice.cli, dir, tags, process.env), settings.timeoutSeconds, onLine);
}

/**
 * Runs the CLI in its own process group (the buildx plugin is a child of the `docker` process),
 * so that past the deadline the whole group is stopped: SIGTERM, then SIGKILL. The Engine cancels
 * the build when its client goes away.
 */
function runBuild(command: BuildCommand, timeoutSeconds: number, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, { env: command.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    const follow = (stream: Readable, keep: boolean) =>
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (raw) => {
        const line = shownLine(raw);
        if (line === undefined) return;
        onLine(line);
        if (keep && stderr.push(line) > STDERR_LINES_KEPT) stderr.shift();
      });
    follow(child.stdout, false);
    follow(child.stderr, true);

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // Already gone.
      }
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => {
        signalGroup('SIGKILL');
        // A process that left the group could still hold the pipes open: stop waiting for them.
        child.stdout.destroy();
        child.stderr.destroy();
      }, KILL_GRACE_MS);
    }, timeoutSeconds * 1000);

    child.on('error', (err) => {
      clearTimeout(deadline);
      reject(new BuildFailedError(`could not run ${command.file}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      if (timedOut) reject(new BuildFailedError(`it took longer than SLIPWAY_BUILD_TIMEOUT (${timeoutSeconds} s) and was stopped`));
      else if (code === 0) resolve();
      else reject(new BuildFailedError(explainDiskFullText(failureReason(stderr, signal ? `was killed (${signal})` : `exited with code ${code}`), DOCKER_DISK)));
    });
  });
}
