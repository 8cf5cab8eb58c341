import { DEFAULT_APP_SETTINGS, parseAppSettings } from '../app-settings';
import { pathExists } from '../atomic-write';
import { freeBytes } from '../disk-full';
import { readCommitAndFile, undoRefMove, type RefMove } from '../git/bare-repo';
import { appNameProblem, isZeroSha, shortSha } from '../names';
import { colorizeDeployLine } from '../queue/deploy-line-colors';
import { enqueueDeploy, followJob, type DeployQueue } from '../queue/deploy-queue';
import type { PushRegistry } from './push-registry';
import { repoPath } from '../settings';
import { SLIPWAY_VERSION } from '../version';
import type { HookRequest } from './hook-protocol';
import { decidePush, parseRefUpdates } from './push-lines';

/** What the server lends the push handler. */
export interface PushHandlerDeps {
  home: string;
  queue: DeployQueue;
  pushes: PushRegistry;
}

/** A push whose deploy decision is made: what to tell the pusher so far, and the job, if any. */
export interface StartedPush {
  lines: string[];
  /** The deploy's job id; undefined when the push deploys nothing. */
  jobId?: string;
  /** The ref move that deploys (undone when the deploy fails and the push is told so). */
  move?: RefMove;
}

/** A push as the hook or the git server hands it over. */
export interface PushToStart {
  app: string;
  /** git's post-receive input: `old new ref` lines. */
  refUpdates: string;
  pushOptions: string[];
  pushedBy: string;
}

/**
 * Reads git's `old new ref` lines and enqueues at most one deploy; which refs deploy is up to
 * slipway.json at the pushed commit. Every line for the pusher is returned, none is printed.
 */
export async function startPush(deps: Pick<PushHandlerDeps, 'home' | 'queue'>, push: PushToStart): Promise<StartedPush> {
  const { app } = push;
  const lines: string[] = [];
  const nameProblem = appNameProblem(app);
  if (nameProblem) return { lines: [`slipway: ${nameProblem}; not deploying`] };
  const repoDir = repoPath(deps.home, app);
  // A hook of a repo outside this home (SLIPWAY_HOME pointing elsewhere) must not deploy a namesake.
  if (!(await pathExists(repoDir))) return { lines: [`slipway: no app named ${app} under ${deps.home}; not deploying`] };
  const { updates, malformed } = parseRefUpdates(push.refUpdates);
  for (const line of malformed) lines.push(`slipway: ignoring a malformed ref update line: ${JSON.stringify(line)}`);

  // Which refs deploy is a setting of the pushed commit itself (slipway.json "branch", "tags").
  const rulesIn = (slipwayJson: string | undefined) => {
    try {
      const settings = parseAppSettings(slipwayJson);
      return { branch: settings.branch, tagPattern: settings.tagPattern };
    } catch {
      return { branch: DEFAULT_APP_SETTINGS.branch, tagPattern: DEFAULT_APP_SETTINGS.tagPattern };
    }
  };
  const candidates = await Promise.all(
    updates.map(async (u) => {
      if (isZeroSha(u.newSha)) return { ref: u.ref, commit: undefined, rules: rulesIn(undefined) };
      // An annotated tag names a tag object: deploy the commit it points at (git reads the file
      // through the tag too).
      const { commit, text } = await readCommitAndFile(repoDir, u.newSha, 'slipway.json');
      return { ref: u.ref, commit, rules: rulesIn(text) };
    }),
  );
  const decision = decidePush(candidates);
  for (const s of decision.skipped) lines.push(`slipway: ${s.ref}: ${s.reason}`);
  const deploy = decision.deploy;
  if (!deploy) return { lines };

  const job = await enqueueDeploy(deps.queue, {
    app,
    sha: deploy.sha,
    ref: deploy.ref,
    kind: 'push',
    rebuild: push.pushOptions.includes('rebuild'),
    skipRelease: push.pushOptions.includes('skip-release'),
    pushedBy: push.pushedBy,
    pushedAt: new Date().toISOString(),
  });
  lines.push(`-----> Deploying ${app} ${shortSha(deploy.sha)} (${deploy.ref.replace(/^refs\/(heads|tags)\//, '')}), job ${job.id}`);
  // Which slipway deploys it comes first: after an upgrade the pusher sees the version change.
  return { lines: [`-----> slipway ${SLIPWAY_VERSION}`, ...lines], jobId: job.id as string, move: updates.find((u) => u.ref === deploy.ref) };
}

/**
 * Handles one push a post-receive hook handed over: starts it (unless the git server already did,
 * from receive-pack's report), then follows the deploy, writing every line for the pusher to
 * `say`. Resolves with the hook's exit code: 1 when the deploy failed, 0 otherwise (a push that
 * deploys nothing, or whose deploy a newer push superseded, is not a failure). When the push's
 * report-status is held (HTTP, and ssh through slipway's entry), a failed deploy's ref is put
 * back and reported rejected, so `git push` fails too. Rejects when `signal` aborts.
 */
export async function handlePush(deps: PushHandlerDeps, request: HookRequest, say: (line: string) => void, signal: AbortSignal): Promise<number> {
  const { app, receivePackPid } = request;
  // The token's or ssh key's name, registered for the hook's parent receive-pack; anything else
  // reached the repo without slipway in between (git's file transport, or a login's own ssh).
  const pushedBy = deps.pushes.pusherOf(receivePackPid) ?? `ssh:${request.user ?? 'unknown'}`;
  const started = (await deps.pushes.earlyStartOf(receivePackPid)) ?? (await startPush(deps, { app, refUpdates: request.refUpdates, pushOptions: request.pushOptions, pushedBy }));
  for (const line of started.lines) say(line);
  if (started.jobId === undefined) return 0;
  const options = new Set(request.pushOptions);
  if (options.has('no-wait')) {
    say(`       queued; follow it with: slipway deploys ${app} ${started.jobId}`);
    say('       (-o no-wait: the push succeeds whatever the deploy does)');
    return 0;
  }
  const show = options.has('color') ? (line: string) => say(colorizeDeployLine(line)) : say;
  const result = await followJob(deps.queue, started.jobId, show, {
    keepAliveMs: 60_000,
    signal,
    onWaiting: (why) => say(why === 'app-busy' ? `       queued: another deploy of ${app} is running; the newest push deploys next` : '       waiting for a worker (is `slipway worker` running?)…'),
  });
  if (result.ok || result.superseded) return 0;
  // A deploy that failed after its switch left the pushed commit live: that ref stays.
  if (started.move !== undefined && !result.live && deps.pushes.holdsReport(receivePackPid)) await rejectRef(deps, app, receivePackPid, started.move, result.summary, say);
  return 1;
}

/** Less room than this and a ref update (a lock file) is taken to have failed for want of space. */
const NEARLY_FULL_BYTES = 64 * 1024;

/**
 * Puts a failed deploy's ref back where the push found it, unless a newer push has moved it since
 * (that one stays), and has the push report it rejected with the deploy's reason.
 */
async function rejectRef(deps: PushHandlerDeps, app: string, receivePackPid: number, move: RefMove, summary: string, say: (line: string) => void): Promise<void> {
  const name = move.ref.replace(/^refs\/(heads|tags)\//, '');
  try {
    if (await undoRefMove(repoPath(deps.home, app), move)) {
      say(
        isZeroSha(move.oldSha)
          ? `       ${name} removed again: pushing it again deploys again`
          : `       ${name} put back to ${shortSha(move.oldSha)}: pushing ${shortSha(move.newSha)} again deploys again`,
      );
    } else {
      say(`       ${name} stays where a newer push moved it`);
    }
  } catch (err) {
    say(`       could not put ${name} back: ${(err as Error).message}`);
    // git's words ("couldn't write '…/main.lock'") do not say why: a full disk is the usual reason.
    if ((await freeBytes(repoPath(deps.home, app)).catch(() => Infinity)) < NEARLY_FULL_BYTES) {
      say(`       no space left on device at ${repoPath(deps.home, app)}: ${name} stays at ${shortSha(move.newSha)} on the server, not deployed;`);
      say(`       once there is room, push a new commit to deploy (pushing ${shortSha(move.newSha)} again finds nothing to push)`);
    }
  }
  deps.pushes.reject(receivePackPid, move.ref, summary.replace(/^✘\s*/, ''));
}
