import { DEFAULT_APP_SETTINGS, parseAppSettings } from '../app-settings';
import { pathExists } from '../atomic-write';
import { readCommitAndFile } from '../git/bare-repo';
import { appNameProblem, isZeroSha, shortSha } from '../names';
import { colorizeDeployLine } from '../queue/deploy-line-colors';
import { enqueueDeploy, followJob, type DeployQueue } from '../queue/deploy-queue';
import type { PushRegistry } from '../server/push-registry';
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
    pushedBy: push.pushedBy,
    pushedAt: new Date().toISOString(),
  });
  lines.push(`-----> Deploying ${app} ${shortSha(deploy.sha)} (${deploy.ref.replace(/^refs\/(heads|tags)\//, '')}), job ${job.id}`);
  // Which slipway deploys it comes first: after an upgrade the pusher sees the version change.
  return { lines: [`-----> slipway ${SLIPWAY_VERSION}`, ...lines], jobId: job.id as string };
}

/**
 * Handles one push a post-receive hook handed over: starts it (unless the git server already did,
 * from receive-pack's report), then follows the deploy, writing every line for the pusher to
 * `say`. Resolves with the hook's exit code: 1 when the deploy failed, 0 otherwise (a push that
 * deploys nothing is not a failure). Rejects when `signal` aborts.
 */
export async function handlePush(deps: PushHandlerDeps, request: HookRequest, say: (line: string) => void, signal: AbortSignal): Promise<number> {
  const { app } = request;
  // HTTP pushes: the token's name, recorded by the git server for the hook's parent receive-pack;
  // anything else reached the repo without it (ssh, or git's file transport on this machine).
  const pushedBy = deps.pushes.pusherOf(request.receivePackPid) ?? `ssh:${request.user ?? 'unknown'}`;
  const started =
    (await deps.pushes.earlyStartOf(request.receivePackPid)) ??
    (await startPush(deps, { app, refUpdates: request.refUpdates, pushOptions: request.pushOptions, pushedBy }));
  for (const line of started.lines) say(line);
  if (started.jobId === undefined) return 0;
  const options = new Set(request.pushOptions);
  if (options.has('no-wait')) {
    say(`       queued; follow it with: slipway deploys ${app} ${started.jobId}`);
    return 0;
  }
  const show = options.has('color') ? (line: string) => say(colorizeDeployLine(line)) : say;
  const result = await followJob(deps.queue, started.jobId, show, {
    keepAliveMs: 60_000,
    signal,
    onWaiting: (why) =>
      say(why === 'app-busy' ? `       queued: another deploy of ${app} is running; the newest push deploys next` : '       waiting for a worker (is `slipway worker` running?)…'),
  });
  return result.ok ? 0 : 1;
}
