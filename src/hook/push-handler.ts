import { DEFAULT_APP_SETTINGS, parseAppSettings } from '../app-settings';
import { pathExists } from '../atomic-write';
import { readCommitAndFile } from '../git/bare-repo';
import { appNameProblem, isZeroSha, shortSha } from '../names';
import { colorizeDeployLine } from '../queue/deploy-line-colors';
import { enqueueDeploy, followJob, type DeployQueue } from '../queue/deploy-queue';
import type { PushRegistry } from '../server/push-registry';
import { repoPath } from '../settings';
import type { HookRequest } from './hook-protocol';
import { decidePush, parseRefUpdates } from './push-lines';

/** What the server lends the push handler. */
export interface PushHandlerDeps {
  home: string;
  queue: DeployQueue;
  pushes: PushRegistry;
}

/**
 * Handles one push a post-receive hook handed over: reads git's `old new ref` lines, enqueues at
 * most one deploy (which refs deploy is up to slipway.json at the pushed commit), then follows it,
 * writing every line for the pusher to `say`. Resolves with the hook's exit code: 1 when the deploy
 * failed, 0 otherwise (a push that deploys nothing is not a failure). Rejects when `signal` aborts.
 */
export async function handlePush(deps: PushHandlerDeps, request: HookRequest, say: (line: string) => void, signal: AbortSignal): Promise<number> {
  const { app } = request;
  // HTTP pushes: the token's name, recorded by the git server for the hook's parent receive-pack;
  // anything else reached the repo without it (ssh, or git's file transport on this machine).
  const pushedBy = deps.pushes.pusherOf(request.receivePackPid) ?? `ssh:${request.user ?? 'unknown'}`;
  const nameProblem = appNameProblem(app);
  if (nameProblem) {
    say(`slipway: ${nameProblem}; not deploying`);
    return 0;
  }
  const repoDir = repoPath(deps.home, app);
  // A hook of a repo outside this home (SLIPWAY_HOME pointing elsewhere) must not deploy a namesake.
  if (!(await pathExists(repoDir))) {
    say(`slipway: no app named ${app} under ${deps.home}; not deploying`);
    return 0;
  }
  const { updates, malformed } = parseRefUpdates(request.refUpdates);
  for (const line of malformed) say(`slipway: ignoring a malformed ref update line: ${JSON.stringify(line)}`);

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
  for (const s of decision.skipped) say(`slipway: ${s.ref}: ${s.reason}`);
  const deploy = decision.deploy;
  if (!deploy) return 0;

  const options = new Set(request.pushOptions);
  const job = await enqueueDeploy(deps.queue, {
    app,
    sha: deploy.sha,
    ref: deploy.ref,
    kind: 'push',
    rebuild: options.has('rebuild'),
    pushedBy,
    pushedAt: new Date().toISOString(),
  });
  say(`-----> Deploying ${app} ${shortSha(deploy.sha)} (${deploy.ref.replace(/^refs\/(heads|tags)\//, '')}), job ${job.id}`);
  if (options.has('no-wait')) {
    say(`       queued; follow it with: slipway deploys ${app} ${job.id}`);
    return 0;
  }
  const show = options.has('color') ? (line: string) => say(colorizeDeployLine(line)) : say;
  const result = await followJob(deps.queue, job.id as string, show, {
    keepAliveMs: 60_000,
    signal,
    onWaiting: (why) =>
      say(why === 'app-busy' ? `       queued: another deploy of ${app} is running; the newest push deploys next` : '       waiting for a worker (is `slipway worker` running?)…'),
  });
  return result.ok ? 0 : 1;
}
