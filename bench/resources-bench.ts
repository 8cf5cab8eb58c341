/**
 * Resource figures (a script that prints figures, not a test):
 *
 *   npx tsc -p tsconfig.json && npm run bench:resources
 *
 * On a private Apache and a `slipway up` with its embedded Redis (`node dist/cli.js up`, as
 * test/e2e starts it), measures:
 *  1. idle RSS of slipway's processes (the `up` process, which is server and worker, its children,
 *     and the embedded redis-server), target ≤ 150 MB;
 *  2. their RSS growth during a push of a repo holding 200 MB of incompressible data, sampled
 *     every 100 ms, target ≤ 50 MB;
 *  3. one app's push→live (slipway's own `live … in X s`) with 1, 10 and 50 apps installed,
 *     target: 50 apps ≤ 1.2× of 1;
 *  4. five apps pushed at once against one alone.
 * Prints a table, writes bench/results/resources-latest.md and the resources section of
 * docs/benchmark.md. Everything it starts is removed again, also on failure or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { startApache } from '../test/support/apache-instance';
import { startSlipway, type SlipwayInstance } from '../test/support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree } from '../test/support/test-app';
import { now, seconds, sleep } from './clock';
import { removeAppsByPrefix } from './exec';
import { describeActivity, startActivityMonitor } from './machine-activity';
import { machineFacts } from './machine-facts';
import { mb, processesMentioning, processTree, totalRss } from './process-stats';
import { replaceMarkedSection } from './report';
import { runScript, type ScriptContext } from './script-main';
import { median } from './stats';
import { finalLine, lineTime, timedGitPush, type TimedPush } from './timed-push';

const REPO = path.resolve(__dirname, '..');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');
const DOCS_FILE = path.join(REPO, 'docs', 'benchmark.md');
const PUSH_TIMEOUT_MS = 300_000;
const BIG_PUSH_BYTES = 200 * 2 ** 20;
/** Pushes per figure of push→live (their median is the figure). */
const SAMPLES = 3;
/** Filler apps pushed at once while installing (slipway deploys 2 at a time by default). */
const FILL_BATCH = 4;
const TARGET = { idleRssMb: 150, pushGrowthMb: 50, fiftyAppsRatio: 1.2 };
/** Watch 0: a filler's deploy ends right after the switch (push→live does not include the watch anyway). */
const SLIPWAY_JSON = { healthcheck: { path: '/cgi-bin/health', timeout: 30 }, watch: 0 };

runScript('resources', 40 * 60_000, (ctx) => resources(ctx));

/** slipway's own processes: the `up` process and its children, and the daemonized embedded Redis. */
async function slipwayPids(slipway: SlipwayInstance): Promise<{ node: number; children: number[]; redis: number[] }> {
  const tree = await processTree(slipway.pid);
  return { node: slipway.pid, children: tree.slice(1), redis: await processesMentioning(slipway.home, 'redis-server') };
}

interface RssSample {
  at: number;
  /** The `up` process (server + worker) and the embedded Redis. */
  own: number;
  /** The same plus the `up` process's children at that moment (git receive-pack, docker CLI, …). */
  withChildren: number;
}

async function sampleRss(slipway: SlipwayInstance): Promise<RssSample> {
  const pids = await slipwayPids(slipway);
  const own = await totalRss([pids.node, ...pids.redis]);
  return { at: now(), own, withChildren: own + (await totalRss(pids.children)) };
}

async function resources({ cleanup, log, abort }: ScriptContext): Promise<number> {
  const runId = randomBytes(3).toString('hex');
  const prefix = `res-${runId}-`;
  const facts = await machineFacts(REPO);
  const apache = await startApache();
  cleanup.add('Apache', () => apache.stop());
  const apps: AppWorktree[] = [];
  cleanup.add('work trees', async () => {
    for (const app of apps) await app.remove();
  });
  // In bulk and by tag: one app at a time took longer than cleanup's bound with 50 apps.
  cleanup.add('containers and images', () => removeAppsByPrefix(prefix));
  // No REDIS_URL: slipway starts its embedded Redis, as `slipway up` does on a fresh install.
  const slipway = await startSlipway({ apache, env: { SLIPWAY_STOP_GRACE: '2', SLIPWAY_LOG_LEVEL: 'info' } });
  const redisPids = await processesMentioning(slipway.home, 'redis-server');
  cleanup.add('slipway and its embedded Redis', async () => {
    await slipway.stop();
    // slipway shuts its Redis down on a clean stop; this is for a stop that was not clean.
    for (const pid of redisPids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
  cleanup.add('slipway log', async () => {
    await fs.mkdir(RESULTS_DIR, { recursive: true });
    await fs.writeFile(path.join(RESULTS_DIR, 'resources-latest-slipway.log'), slipway.output());
  });
  const activity = startActivityMonitor(() => [slipway.pid], [prefix]);
  cleanup.add('activity monitor', async () => void activity.stop());
  log(`Apache :${apache.port}, slipway :${slipway.port} (pid ${slipway.pid}, embedded redis-server pid ${redisPids.join(', ') || 'not found'})`);
  const assertGoing = (): void => {
    if (abort.reason !== undefined) throw new Error(`run given up: ${abort.reason}`);
  };

  // 1. Idle RSS.
  await sleep(10_000);
  const idle = await idleRss(slipway);
  log(`idle RSS: ${mb(idle.total)} (up process ${mb(idle.node)}, embedded Redis ${mb(idle.redis)})`);

  // 3a. push→live with 1 app installed.
  const measured = await newApp(`${prefix}m`, apps);
  const liveWith1 = await pushTimes(slipway, measured, SAMPLES, 'a1');
  log(`push→live with 1 app: ${liveWith1.map(seconds).join(', ')}`);
  assertGoing();

  // 2. RSS during a 200 MB push.
  const big = await newApp(`${prefix}big`, apps);
  await writeBusyboxApp(big.dir, { version: 'big', slipwayJson: SLIPWAY_JSON });
  await writeIncompressible(path.join(big.dir, 'data.bin'), BIG_PUSH_BYTES);
  // The data is pushed, not built into the image: the build context leaves it out.
  await fs.appendFile(path.join(big.dir, '.dockerignore'), 'data.bin\n');
  await commit(big.dir, 'big push');
  const bigPush = await rssDuring(slipway, () => timedGitPush(big.dir, slipway.remoteUrl(big.name), ['main'], PUSH_TIMEOUT_MS));
  log(`200 MB push: ${finalLine(bigPush.push) ?? 'no verdict line'}; own RSS ${mb(bigPush.baseline.own)} → peak ${mb(bigPush.peak.own)}, with children peak ${mb(bigPush.peak.withChildren)}`);
  assertGoing();

  // 3b. 10 apps installed (the measured app, the big one, 8 fillers), then 50.
  const fillers: AppWorktree[] = [];
  await installFillers(slipway, prefix, apps, fillers, 8, log);
  const liveWith10 = await pushTimes(slipway, measured, SAMPLES, 'a10');
  log(`push→live with 10 apps: ${liveWith10.map(seconds).join(', ')}`);
  assertGoing();
  await installFillers(slipway, prefix, apps, fillers, 48, log);
  const liveWith50 = await pushTimes(slipway, measured, SAMPLES, 'a50');
  log(`push→live with 50 apps: ${liveWith50.map(seconds).join(', ')}`);
  assertGoing();

  // 4. One alone, then five at once (each a filler app, 50 installed).
  const alone = (await pushVersion(slipway, fillers[0], 'alone')).push;
  const together = await Promise.all(fillers.slice(1, 6).map((app) => pushVersion(slipway, app, 'together')));
  const togetherLive = together.map((p) => liveSeconds(p.push));
  // slipway's figure starts when the deploy job starts; a deploy waiting in the queue shows only here.
  const togetherSeen = together.map((p) => switchSeen(p.push));
  const togetherWall = Math.max(...together.map((p) => p.push.start + switchSeen(p.push))) - Math.min(...together.map((p) => p.push.start));
  log(
    `alone ${seconds(liveSeconds(alone))} (switch seen ${seconds(switchSeen(alone))}); five at once ${togetherLive.map(seconds).join(', ')} (switch seen ${togetherSeen.map(seconds).join(', ')}), all five switched after ${seconds(togetherWall)}`,
  );
  const idleAfter = await idleRss(slipway);

  const ratio = median(liveWith50) / median(liveWith1);
  const growth = bigPush.peak.own - bigPush.baseline.own;
  const verdict = (ok: boolean) => (ok ? 'pass' : '**FAIL**');
  const rows = [
    `| idle RSS of \`slipway up\` (up process ${mb(idle.node)} + embedded Redis ${mb(idle.redis)}) | ${mb(idle.total)} | ≤ ${TARGET.idleRssMb} MB | ${verdict(idle.total / 2 ** 20 <= TARGET.idleRssMb)} |`,
    `| RSS growth during a 200 MB push (up process + Redis; peak − before, sampled every 100 ms, ${bigPush.samples} samples) | ${mb(growth)} (${mb(bigPush.baseline.own)} → ${mb(bigPush.peak.own)}) | ≤ ${TARGET.pushGrowthMb} MB | ${verdict(growth / 2 ** 20 <= TARGET.pushGrowthMb)} |`,
    `| the same with the up process's children (git receive-pack, index-pack, docker CLI) | ${mb(bigPush.peak.withChildren - bigPush.baseline.withChildren)} (peak ${mb(bigPush.peak.withChildren)}) | – | – |`,
    `| the 200 MB push: push→live / whole push | ${seconds(liveSeconds(bigPush.push))} / ${seconds(bigPush.push.end - bigPush.push.start)} (${(finalLine(bigPush.push) ?? 'no verdict line').slice(0, 120)}) | – | – |`,
    `| push→live, 1 app installed (median of ${SAMPLES}) | ${seconds(median(liveWith1))} (${liveWith1.map(seconds).join(', ')}) | – | – |`,
    `| push→live, 10 apps installed (median of ${SAMPLES}) | ${seconds(median(liveWith10))} (${liveWith10.map(seconds).join(', ')}) | – | – |`,
    `| push→live, 50 apps installed (median of ${SAMPLES}) | ${seconds(median(liveWith50))} (${liveWith50.map(seconds).join(', ')}) | ≤ ${TARGET.fiftyAppsRatio}× of 1 app | ${ratio.toFixed(2)}× ${verdict(ratio <= TARGET.fiftyAppsRatio)} |`,
    `| one app pushed alone (50 installed): push→live / push → switch seen by the pusher | ${seconds(liveSeconds(alone))} / ${seconds(switchSeen(alone))} | – | – |`,
    `| 5 apps pushed at once (SLIPWAY_CONCURRENCY=2, the default): push→live of each / push → switch seen by each pusher (queue wait included) / all five switched | ${togetherLive.map(seconds).join(', ')} / ${togetherSeen.map(seconds).join(', ')} / ${seconds(togetherWall)} | – | – |`,
    `| idle RSS after all that (50 apps installed) | ${mb(idleAfter.total)} (up ${mb(idleAfter.node)} + Redis ${mb(idleAfter.redis)}) | – | – |`,
  ];
  const factLines = [...facts, ['other work during the run', describeActivity(activity.stop())] as [string, string]].map(([k, v]) => `- ${k}: ${v}`);
  const report = [
    '## Figures',
    '',
    '| figure | measured | target | verdict |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    "push→live is slipway's own figure (the `✔ … live … in X s` line: from the start of the deploy job, just after the push was received, to traffic on the new version; time waiting in the queue is not in it, the push → switch figure includes it). The apps are busybox apps (`FROM scratch`, ~2 MB).",
    '',
    '## Machine',
    '',
    ...factLines,
  ].join('\n');
  console.log(`\n${report}\n`);
  await fs.mkdir(RESULTS_DIR, { recursive: true });
  await fs.writeFile(path.join(RESULTS_DIR, 'resources-latest.md'), `# Resource figures: latest results\n\nWritten by \`npm run bench:resources\` (see docs/benchmark.md).\n\n${report}\n`);
  const updated = await replaceMarkedSection(DOCS_FILE, report.replace(/^## /gm, '#### '), 'resources');
  log(updated ? 'updated the resources section of docs/benchmark.md' : 'docs/benchmark.md has no resources markers: not updated');
  return 0;
}

/** RSS of slipway's idle processes: 10 samples 0.5 s apart, the median of each. */
async function idleRss(slipway: SlipwayInstance): Promise<{ node: number; redis: number; total: number }> {
  const nodes: number[] = [];
  const redises: number[] = [];
  for (let i = 0; i < 10; i += 1) {
    const pids = await slipwayPids(slipway);
    nodes.push(await totalRss([pids.node, ...pids.children]));
    redises.push(await totalRss(pids.redis));
    await sleep(500);
  }
  const node = median(nodes);
  const redis = median(redises);
  return { node, redis, total: node + redis };
}

/** Samples RSS every 100 ms while `run` runs (and for 2 s before it, for the baseline). */
async function rssDuring(slipway: SlipwayInstance, run: () => Promise<TimedPush>): Promise<{ push: TimedPush; baseline: RssSample; peak: RssSample; samples: number }> {
  const samples: RssSample[] = [];
  let sampling = true;
  const loop = (async () => {
    while (sampling) {
      samples.push(await sampleRss(slipway));
      await sleep(100);
    }
  })();
  await sleep(2_000);
  const before = samples.slice();
  const push = await run();
  sampling = false;
  await loop;
  const during = samples.filter((s) => s.at >= push.start);
  const baseline = { at: push.start, own: median(before.map((s) => s.own)), withChildren: median(before.map((s) => s.withChildren)) };
  const peak = { at: 0, own: Math.max(...during.map((s) => s.own)), withChildren: Math.max(...during.map((s) => s.withChildren)) };
  return { push, baseline, peak, samples: during.length };
}

/** A file of `bytes` random (incompressible) bytes, written in 1 MB chunks. */
async function writeIncompressible(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  for (let written = 0; written < bytes; written += 2 ** 20) {
    if (!out.write(randomBytes(2 ** 20))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function newApp(name: string, apps: AppWorktree[]): Promise<AppWorktree> {
  const app = await createAppWorktree({ name });
  apps.push(app);
  return app;
}

let versionCounter = 0;

/** Writes a new version of the busybox app, commits and pushes it. */
async function pushVersion(slipway: SlipwayInstance, app: AppWorktree, label: string): Promise<{ push: TimedPush }> {
  versionCounter += 1;
  await writeBusyboxApp(app.dir, { version: `${label}-${versionCounter}`, slipwayJson: SLIPWAY_JSON });
  await commit(app.dir, `version ${label}-${versionCounter}`);
  const push = await timedGitPush(app.dir, slipway.remoteUrl(app.name), ['main'], PUSH_TIMEOUT_MS);
  if (liveLine(push) === undefined) throw new Error(`push of ${app.name} did not go live:\n${push.lines.map((l) => l.text).join('\n')}`);
  return { push };
}

/** `count` pushes of `app` one after another; their push→live in ms. */
async function pushTimes(slipway: SlipwayInstance, app: AppWorktree, count: number, label: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) times.push(liveSeconds((await pushVersion(slipway, app, label)).push));
  return times;
}

/** Deploys filler apps until `fillers` holds `total`, `FILL_BATCH` pushes at a time. */
async function installFillers(slipway: SlipwayInstance, prefix: string, apps: AppWorktree[], fillers: AppWorktree[], total: number, log: (line: string) => void): Promise<void> {
  while (fillers.length < total) {
    const batch: AppWorktree[] = [];
    while (batch.length < FILL_BATCH && fillers.length + batch.length < total) batch.push(await newApp(`${prefix}f${fillers.length + batch.length}`, apps));
    await Promise.all(batch.map((app) => pushVersion(slipway, app, 'fill')));
    fillers.push(...batch);
  }
  log(`${fillers.length + 2} apps installed`);
}

/** slipway's `✔ <app> <sha> live … in X s` line. */
function liveLine(push: TimedPush): string | undefined {
  return push.lines.map((l) => l.text.trim()).find((t) => /^✔ .*\blive\b.* in [\d.]+ s/.test(t));
}

/** ms from `git push` starting until slipway's `-----> Switching` line reached the pusher (queue wait included). */
function switchSeen(push: TimedPush): number {
  return (lineTime(push, /^-----> Switching/) ?? Number.NaN) - push.start;
}

/** push→live in ms, as slipway measured it (from the start of the deploy job). */
function liveSeconds(push: TimedPush): number {
  const match = / in ([\d.]+) s/.exec(liveLine(push) ?? '');
  return match ? Number(match[1]) * 1000 : Number.NaN;
}
