/**
 * Runs as the bare repo's post-receive hook (for HTTP and ssh pushes alike). Reads git's
 * `old new ref` lines from stdin, enqueues at most one deploy, then follows it and prints its log:
 * git shows every line to the pusher as `remote: …`, live.
 */
import path from 'node:path';
import { DEFAULT_APP_SETTINGS, parseAppSettings } from '../app-settings';
import { readFileAtCommit, resolveCommit } from '../git/bare-repo';
import { appNameProblem, isZeroSha, shortSha } from '../names';
import { connectRedis } from '../queue/redis-connection';
import { enqueueDeploy, followJob, openDeployQueue } from '../queue/deploy-queue';
import { readRuntimeInfo } from '../runtime-file';
import { PushRegistry } from '../server/push-registry';
import { homePaths } from '../settings';
import { decidePush, parseRefUpdates } from './push-lines';
import { readPushOptions } from './push-options';
import { colorizeDeployLine } from '../queue/deploy-line-colors';

async function main(): Promise<number> {
  // git runs hooks in the bare repo itself: $SLIPWAY_HOME/repos/<app>.git
  const repoDir = path.resolve(process.env.GIT_DIR ?? '.');
  const app = path.basename(repoDir).replace(/\.git$/, '');
  const home = process.env.SLIPWAY_HOME ?? path.dirname(path.dirname(repoDir));
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const nameProblem = appNameProblem(app);
  if (nameProblem) {
    say(`slipway: ${nameProblem}; not deploying`);
    return 0;
  }
  const { updates, malformed } = parseRefUpdates(await readStdin());
  for (const line of malformed) say(`slipway: ignoring a malformed ref update line: ${JSON.stringify(line)}`);

  // Which refs deploy is a setting of the pushed commit itself (slipway.json "branch", "tags").
  const rulesAt = async (commit: string | undefined) => {
    try {
      const settings = parseAppSettings(commit ? await readFileAtCommit(repoDir, commit, 'slipway.json') : undefined);
      return { branch: settings.branch, tagPattern: settings.tagPattern };
    } catch {
      return { branch: DEFAULT_APP_SETTINGS.branch, tagPattern: DEFAULT_APP_SETTINGS.tagPattern };
    }
  };
  const candidates = await Promise.all(
    updates.map(async (u) => {
      // An annotated tag names a tag object: deploy the commit it points at.
      const commit = isZeroSha(u.newSha) ? undefined : await resolveCommit(repoDir, u.newSha);
      return { ref: u.ref, commit, rules: await rulesAt(commit) };
    }),
  );
  const decision = decidePush(candidates);
  for (const s of decision.skipped) say(`slipway: ${s.ref}: ${s.reason}`);
  const deploy = decision.deploy;
  if (!deploy) return 0;

  const runtime = await readRuntimeInfo(homePaths(home).runtimeFile);
  if (!runtime) {
    say(`slipway: no running slipway found under ${home} (no runtime.json); the push is stored but not deployed`);
    return 0;
  }
  const options = readPushOptions(process.env);
  const show = options.has('color') ? (line: string) => say(colorizeDeployLine(line)) : say;
  const connection = connectRedis(runtime.redis, { maxRetriesPerRequest: 3 });
  const queue = openDeployQueue(runtime.queueName, connection);
  try {
    const job = await enqueueDeploy(queue, {
      app,
      sha: deploy.sha,
      ref: deploy.ref,
      kind: 'push',
      rebuild: options.has('rebuild'),
      // HTTP pushes: the token's name, recorded by the server for our parent receive-pack; ssh: the user.
      pushedBy: (await new PushRegistry(homePaths(home).pushes).pusherOf(process.ppid)) ?? `ssh:${process.env.USER ?? 'unknown'}`,
      pushedAt: new Date().toISOString(),
    });
    say(`-----> Deploying ${app} ${shortSha(deploy.sha)} (${deploy.ref.replace(/^refs\/(heads|tags)\//, '')}), job ${job.id}`);
    if (options.has('no-wait')) {
      say(`       queued; follow it with: slipway deploys ${app} ${job.id}`);
      return 0;
    }
    const result = await followJob(queue, job.id as string, show, {
      keepAliveMs: 60_000,
      onWaiting: (why) =>
        say(why === 'app-busy' ? `       queued: another deploy of ${app} is running; the newest push deploys next` : '       waiting for a worker (is `slipway worker` running?)…'),
    });
    return result.ok ? 0 : 1;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      text += chunk;
    });
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stdout.write(`slipway: the deploy hook failed: ${err.message}\n`);
    process.exit(1);
  },
);
