/**
 * Soak (a script that prints figures and checks outcomes, not a test):
 *
 *   npx tsc -p tsconfig.json && npm run soak -- [--deploys 100] [--apps 10] [--seed N] [--fault-rate 0.25] [--rps 5]
 *
 * Starts a private Apache, Redis and slipway (`node dist/cli.js up`, as test/e2e does), deploys
 * `--apps` busybox apps, then runs `--deploys` deploys round robin over them under a request
 * stream through Apache (`--rps` requests/s to every app), with faults drawn from a seeded generator
 * (see soak-plan.ts): slipway SIGKILLed after a given deploy step and started again (as pm2 or
 * systemd would), the Redis restarted, a version whose health check fails before or after the
 * switch, a Dockerfile that fails. At the end it checks the outcomes (exit 1 when one is
 * violated) and prints what grew. Writes bench/results/soak-latest.md and the soak section of
 * docs/benchmark.md. Everything it starts is removed again, also on failure or Ctrl-C.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startApache, type ApacheInstance } from '../test/support/apache-instance';
import { httpGet } from '../test/support/http-get';
import { startRedis, type RedisInstance } from '../test/support/redis-instance';
import { startSlipway, type SlipwayInstance } from '../test/support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp, DEFAULT_SLIPWAY_JSON, type AppWorktree, type BusyboxAppOptions } from '../test/support/test-app';
import { DEPLOY_STEPS } from '../src/deploy/deploy-step-list';
import { imagesToRemove } from '../src/deploy/image-retention';
import { shaOfTags, type AppImage } from '../src/docker/image-tags';
import { now, seconds, sleep } from './clock';
import { exec, removeAppsByPrefix } from './exec';
import { startLoadInThread } from './load-thread';
import type { RunningLoad, Sample } from './load-generator';
import { describeActivity, startActivityMonitor, type ActivityLog } from './machine-activity';
import { machineFacts } from './machine-facts';
import { mb } from './process-stats';
import { replaceMarkedSection } from './report';
import { fullSnapshot, lightSnapshot, type FullSnapshot } from './resource-snapshot';
import { runScript, type ScriptContext } from './script-main';
import { failureWindow, growthPerDeploy, inFailureWindow, planSoak, versionIsBad, FAULT_KINDS, type FailureWindow, type FaultKind, type GrowthPoint, type PlannedDeploy } from './soak-plan';
import { finalLine, timedGitPush, type TimedPush } from './timed-push';

const REPO = path.resolve(__dirname, '..');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');
const DOCS_FILE = path.join(REPO, 'docs', 'benchmark.md');

const { values: ARGS } = parseArgs({
  options: {
    deploys: { type: 'string', default: '100' },
    apps: { type: 'string', default: '10' },
    seed: { type: 'string' },
    'fault-rate': { type: 'string', default: '0.25' },
    rps: { type: 'string', default: '5' },
  },
});
const DEPLOYS = wholeNumber('--deploys', ARGS.deploys);
const APPS = wholeNumber('--apps', ARGS.apps);
const SEED = ARGS.seed === undefined ? randomInt(1, 2 ** 31) : wholeNumber('--seed', ARGS.seed);
const FAULT_RATE = Number(ARGS['fault-rate']);
if (!(FAULT_RATE >= 0 && FAULT_RATE <= 1)) throw new Error(`--fault-rate ${ARGS['fault-rate']}: must be a number from 0 to 1`);

/**
 * A run of at least 30 deploys over 10 apps is a result: it writes `soak-latest*` and the docs
 * section; a shorter one is a check of the script and writes `soak-quick*` only.
 */
const FULL_RUN = DEPLOYS >= 30 && APPS === 10;
const RESULTS_PREFIX = FULL_RUN ? 'soak-latest' : 'soak-quick';
/** Requests per second to each app's `/`, through Apache. */
const RPS_PER_APP = wholeNumber('--rps', ARGS.rps);
/**
 * A request not answered within this is a failure (`timeout`). Generous: on a shared 2-core
 * machine under a load average of 20+, an answer can take 10 s without anything being dropped;
 * latency is the zero-downtime benchmark's subject, this one counts requests that never succeed.
 */
const REQUEST_TIMEOUT_MS = 30_000;
/** slipway's settings for the run: a killed deploy is picked up again ~10 s later, not 60. */
const SLIPWAY_ENV = { SLIPWAY_STOP_GRACE: '2', SLIPWAY_JOB_LOCK_MS: '10000', SLIPWAY_KEEP_RELEASES: '5', SLIPWAY_LOG_LEVEL: 'info' };
const KEEP_RELEASES = Number(SLIPWAY_ENV.SLIPWAY_KEEP_RELEASES);
/** A push or a deploy that takes this long is stuck. */
const PUSH_TIMEOUT_MS = 180_000;
const SETTLE_TIMEOUT_MS = 240_000;
/** Points at the start of each slipway life left out of the growth figures. */
const WARMUP_DEPLOYS = 3;
/** Targets (printed as pass/fail, never asserted by a test). */
const TARGET = { fdsPerDeploy: 0.05, rssMbPerDeploy: 0.1 };
/** The whole run's bound: generous, a deploy takes 5-30 s on a busy 2-core machine. */
const RUN_DEADLINE_MS = 15 * 60_000 + DEPLOYS * 60_000;

/** slipway.json of the soak's versions: a short watch keeps 100 deploys within the hour. */
const GOOD_JSON = { ...DEFAULT_SLIPWAY_JSON, healthcheck: { path: '/cgi-bin/health', timeout: 15 }, watch: 1 };

/** The busybox app written for a deploy with `fault`. */
function versionOptions(version: string, fault: FaultKind | undefined): BusyboxAppOptions {
  switch (fault) {
    case 'health-fails':
      return { version, health: 'fail500', slipwayJson: { ...GOOD_JSON, healthcheck: { path: '/cgi-bin/health', timeout: 5 } } };
    case 'app-dies-after-switch':
      // Healthy once, dead ~2 s later: the 6 s watch after the switch sees it and reverts.
      return { version, health: 'die-after-first', slipwayJson: { ...GOOD_JSON, watch: 6 } };
    case 'build-fails':
      return { version, buildFails: true, slipwayJson: GOOD_JSON };
    default:
      return { version, slipwayJson: GOOD_JSON };
  }
}

interface SoakApp {
  name: string;
  host: string;
  worktree: AppWorktree;
  /** sha → version string, for every commit pushed. */
  versions: Map<string, string>;
  /** The version the soak expects to be live: the newest pushed good one. */
  expected: string;
}

/** What happened to one deploy. */
interface DeployOutcome {
  plan: PlannedDeploy;
  app: string;
  version: string;
  sha: string;
  push: TimedPush;
  /** From the push's last line, or (when the push was cut off) from the release record. */
  result: 'live' | 'failed' | 'lost';
  reason: string;
  /** Whether the result is the one the fault calls for (good versions live, bad ones failed). */
  asExpected: boolean;
  start: number;
  end: number;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

runScript('soak', RUN_DEADLINE_MS, (ctx) => soak(ctx));

async function soak({ cleanup, log, abort }: ScriptContext): Promise<number> {
  const runId = randomBytes(3).toString('hex');
  const prefix = `soak-${runId}-`;
  const steps = DEPLOY_STEPS.map((s) => s.name);
  const plan = planSoak({ deploys: DEPLOYS, apps: APPS, seed: SEED, faultRate: FAULT_RATE, steps });
  log(`seed ${SEED} (repeat with --seed ${SEED}); ${DEPLOYS} deploys over ${APPS} apps, fault rate ${FAULT_RATE}`);
  const facts = await machineFacts(REPO);

  const apache = await startApache();
  cleanup.add('Apache', () => apache.stop());
  const redis = await startRedis();
  cleanup.add('Redis', () => redis.stop());
  const apps: SoakApp[] = [];
  cleanup.add('work trees', async () => {
    for (const app of apps) await app.worktree.remove();
  });
  // In bulk and by tag: one app at a time took longer than cleanup's bound with 50 apps.
  cleanup.add('containers and images', () => removeAppsByPrefix(prefix));
  const slipway = await startSlipway({ apache, redis: redis.socketPath, env: SLIPWAY_ENV });
  cleanup.add('slipway', () => slipway.stop());
  cleanup.add('slipway log', async () => {
    await fs.mkdir(RESULTS_DIR, { recursive: true });
    await fs.writeFile(path.join(RESULTS_DIR, `${RESULTS_PREFIX}-slipway.log`), slipway.output());
  });
  const activity = startActivityMonitor(() => [slipway.pid], [prefix]);
  cleanup.add('activity monitor', async () => void activity.stop());
  log(`Apache :${apache.port}, Redis ${redis.socketPath}, slipway :${slipway.port} (pid ${slipway.pid})`);

  // Warm-up: every app deployed once, five pushes at a time.
  for (let i = 0; i < APPS; i += 1) {
    const name = `${prefix}${i}`;
    apps.push({ name, host: `${name}.localhost`, worktree: await createAppWorktree({ name }), versions: new Map(), expected: 'w0' });
  }
  for (let i = 0; i < APPS; i += 5) {
    await Promise.all(
      apps.slice(i, i + 5).map(async (app) => {
        const sha = await writeAndCommit(app, 'w0', undefined);
        const push = await timedGitPush(app.worktree.dir, slipway.remoteUrl(app.name), ['main'], PUSH_TIMEOUT_MS);
        if (finalLine(push)?.startsWith('✔') !== true) throw new Error(`first deploy of ${app.name} (${sha}) failed:\n${push.lines.map((l) => l.text).join('\n')}`);
      }),
    );
  }
  for (const app of apps) await waitServed(apache, app.host, 'version=w0');
  log(`${APPS} apps live; request stream on (${RPS_PER_APP} requests/s to each)`);

  const load = startLoadInThread({ port: apache.port, host: apps[0].host, routes: apps.map((a) => ({ path: '/', rps: RPS_PER_APP, host: a.host })), timeoutMs: REQUEST_TIMEOUT_MS, maxSockets: 20 });
  cleanup.add('request stream', () => load.stop());
  await sleep(3_000);
  const baselineContainers = await soakContainers(prefix);
  const before = await fullSnapshot(slipway.pid, redis.socketPath, slipway.home);
  let life = 0;
  const rss: GrowthPoint[] = [];
  const fds: GrowthPoint[] = [];
  const containerCounts: number[] = [];
  const snapshots: { deploy: number; snapshot: FullSnapshot }[] = [{ deploy: 0, snapshot: before }];
  const outcomes: DeployOutcome[] = [];
  const windows: FailureWindow[] = [];

  for (const planned of plan) {
    if (abort.reason !== undefined) throw new Error(`run given up: ${abort.reason}`);
    const app = apps[planned.app];
    const outcome = await runOneDeploy(planned, app, { slipway, redis, onRestart: () => (life += 1) });
    outcomes.push(outcome);
    if (planned.fault === 'app-dies-after-switch') windows.push(failureWindow(planned.index, app.host, outcome.start, outcome.end));
    if (!versionIsBad(planned.fault) && outcome.result === 'live') app.expected = outcome.version;
    const light = await lightSnapshot(slipway.pid);
    rss.push({ deploy: planned.index, value: light.rss / 2 ** 20, life });
    fds.push({ deploy: planned.index, value: light.fds, life });
    containerCounts.push((await soakContainers(prefix)).length);
    const failedSoFar = load.samples.filter((s) => s.outcome !== 'ok' && !inFailureWindow(windows, s.host, s.scheduled)).length;
    log(
      `deploy ${planned.index}/${DEPLOYS} ${app.name} ${outcome.version}${planned.fault ? ` [${describeFault(planned)}]` : ''}: ${outcome.result}${outcome.asExpected ? '' : ' (NOT AS EXPECTED)'} in ${seconds(outcome.end - outcome.start)}; rss ${light.rss ? mb(light.rss) : '?'}, fds ${light.fds}, failed requests outside windows so far ${failedSoFar}`,
    );
    if (planned.index % 10 === 0 || planned.index === DEPLOYS) snapshots.push({ deploy: planned.index, snapshot: await fullSnapshot(slipway.pid, redis.socketPath, slipway.home) });
  }
  await sleep(3_000);
  await load.stop();
  const after = snapshots[snapshots.length - 1].snapshot;
  const checks = await finalChecks({ apps, apache, slipway, prefix, baselineContainers, samples: load.samples, windows, outcomes });
  const growth = {
    rss: growthPerDeploy(rss, WARMUP_DEPLOYS),
    fds: growthPerDeploy(fds, WARMUP_DEPLOYS),
    containers: containerCounts.length ? containerCounts[containerCounts.length - 1] - baselineContainers.length : Number.NaN,
  };
  const activityLog = activity.stop();
  const report = soakReport({
    facts: [...facts, ['other work during the run', describeActivity(activityLog)]],
    activity: activityLog,
    outcomes,
    checks,
    before,
    after,
    snapshots,
    growth,
    load,
    windows,
    restarts: life,
    baselineContainers: baselineContainers.length,
  });
  console.log(`\n${report}`);
  await fs.mkdir(RESULTS_DIR, { recursive: true });
  await fs.writeFile(path.join(RESULTS_DIR, `${RESULTS_PREFIX}.md`), `# Soak: latest results\n\nWritten by \`npm run soak\` (see docs/benchmark.md).\n\n${report}\n`);
  log(`wrote bench/results/${RESULTS_PREFIX}.md`);
  if (FULL_RUN) {
    const updated = await replaceMarkedSection(DOCS_FILE, report.replace(/^## /gm, '#### ').replace(/^# /gm, '### '), 'soak');
    log(updated ? 'updated the soak section of docs/benchmark.md' : 'docs/benchmark.md has no soak markers: not updated');
  }
  const violated = checks.filter((c) => !c.ok);
  for (const c of checks) console.log(`${c.ok ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`);
  return violated.length === 0 ? 0 : 1;
}

/** Writes `version` (with `fault`'s defect) into the app's work tree and commits it. */
async function writeAndCommit(app: SoakApp, version: string, fault: FaultKind | undefined): Promise<string> {
  await writeBusyboxApp(app.worktree.dir, versionOptions(version, fault));
  const sha = await commit(app.worktree.dir, `soak ${version}${fault ? ` (${fault})` : ''}`);
  app.versions.set(sha, version);
  return sha;
}

/** Pushes one version with its fault injected, and waits until slipway has finished with it. */
async function runOneDeploy(planned: PlannedDeploy, app: SoakApp, stack: { slipway: SlipwayInstance; redis: RedisInstance; onRestart(): void }): Promise<DeployOutcome> {
  const { slipway, redis } = stack;
  const version = `s${planned.index}`;
  const sha = await writeAndCommit(app, version, planned.fault);
  const start = now();
  if (planned.fault === 'kill-slipway') {
    // The seam kills the process right after the step; a clean stop first lets the env change.
    await slipway.shutdown();
    await slipway.restart({ SLIPWAY_TEST_CRASH_AFTER_STEP: planned.step ?? '' });
    stack.onRestart();
  }
  const pushing = timedGitPush(app.worktree.dir, slipway.remoteUrl(app.name), ['main'], PUSH_TIMEOUT_MS);
  if (planned.fault === 'restart-redis') {
    await sleep(planned.delayMs ?? 0);
    await redis.restart();
  }
  if (planned.fault === 'kill-slipway') {
    const died = await Promise.race([slipway.exited().then(() => true), sleep(PUSH_TIMEOUT_MS).then(() => false)]);
    // Started again at once, without the seam, as pm2 or systemd would.
    if (!died) await slipway.shutdown();
    await slipway.restart();
    stack.onRestart();
  }
  const push = await pushing;
  const last = finalLine(push);
  let result: DeployOutcome['result'];
  let reason: string;
  if (last !== undefined && planned.fault !== 'kill-slipway' && planned.fault !== 'restart-redis') {
    result = last.startsWith('✔') ? 'live' : 'failed';
    reason = last;
  } else {
    // The push was cut off (or its stream may have been): the release record says how it ended.
    ({ result, reason } = await settle(slipway, app.name, sha));
  }
  const asExpected = versionIsBad(planned.fault) ? result === 'failed' : result === 'live';
  return { plan: planned, app: app.name, version, sha, push, result, reason, asExpected, start, end: now() };
}

/**
 * Waits until the deploy of `sha` has a release record that is no longer `deploying` and the app
 * has no pending container, twice in a row 2 s apart (a killed deploy is run again ~10 s after
 * the restart, and may first be closed by reconcile); `lost` when that never happens.
 */
async function settle(slipway: SlipwayInstance, app: string, sha: string): Promise<{ result: DeployOutcome['result']; reason: string }> {
  const deadline = now() + SETTLE_TIMEOUT_MS;
  let previous = '';
  while (now() < deadline) {
    const listed = await slipway.cli(['releases', app, '--json']);
    const records = listed.code === 0 ? (JSON.parse(listed.output) as { sha: string; result: string; reason?: string }[]) : [];
    const record = records.filter((r) => r.sha === sha).at(-1);
    const pending = (await appContainerNames(app)).some((n) => n.endsWith('-pending'));
    const state = record && record.result !== 'deploying' && !pending ? `${record.result}|${record.reason ?? ''}` : '';
    if (state !== '' && state === previous) {
      const [result, reason] = state.split('|');
      return { result: result === 'live' ? 'live' : 'failed', reason: reason || `release record: ${result}` };
    }
    previous = state;
    await sleep(2_000);
  }
  return { result: 'lost', reason: `no finished release record for ${sha.slice(0, 7)} after ${seconds(SETTLE_TIMEOUT_MS)}` };
}

async function appContainerNames(app: string): Promise<string[]> {
  const listed = await exec('docker', ['ps', '-a', '--filter', `label=slipway.app=${app}`, '--format', '{{.Names}}']);
  return listed.stdout.split('\n').filter(Boolean);
}

/** Every container of the soak's apps: name, state, image id. */
async function soakContainers(prefix: string): Promise<{ name: string; app: string; running: boolean; image: string }[]> {
  const listed = await exec('docker', ['ps', '-aq', '--filter', 'label=slipway.app']);
  const ids = listed.stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = await exec('docker', ['inspect', '--format', '{{.Name}}\t{{index .Config.Labels "slipway.app"}}\t{{.State.Running}}\t{{.Image}}', ...ids]);
  return inspected.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, app, running, image] = line.split('\t');
      return { name: name.replace(/^\//, ''), app, running: running === 'true', image };
    })
    .filter((c) => c.app.startsWith(prefix));
}

/** The checks the soak exits non-zero on. */
async function finalChecks(input: {
  apps: SoakApp[];
  apache: ApacheInstance;
  slipway: SlipwayInstance;
  prefix: string;
  baselineContainers: { app: string }[];
  samples: Sample[];
  windows: FailureWindow[];
  outcomes: DeployOutcome[];
}): Promise<Check[]> {
  const { apps, apache, slipway, prefix, samples, windows, outcomes } = input;
  const checks: Check[] = [];

  const failed = samples.filter((s) => s.outcome !== 'ok');
  const outside = failed.filter((s) => !inFailureWindow(windows, s.host, s.scheduled));
  const during = (s: Sample): string => {
    const index = outcomes.find((o) => s.scheduled >= o.start && s.scheduled <= o.end)?.plan.index;
    return index === undefined ? 'between deploys' : `during deploy ${index}`;
  };
  checks.push({
    name: 'no failed request outside an injected app failure window',
    ok: outside.length === 0,
    detail: `${samples.length} requests, ${failed.length} failed, ${failed.length - outside.length} of them inside the windows of ${windows.length} app-dies-after-switch deploy(s), ${outside.length} outside${outside.length ? ` (${summarize(outside.map((s) => `${s.outcome} ${during(s)}`))})` : ''}`,
  });

  const unexpected = outcomes.filter((o) => !o.asExpected);
  checks.push({
    name: 'every good version went live and every bad one failed (after restarts too)',
    ok: unexpected.length === 0,
    detail: unexpected.length === 0 ? `${outcomes.length} deploys as expected` : unexpected.map((o) => `deploy ${o.plan.index} (${o.plan.fault ?? 'no fault'}): ${o.result}: ${o.reason}`).join('; '),
  });

  const mismatched: string[] = [];
  for (const app of apps) {
    const releases = JSON.parse((await slipway.cli(['releases', app.name, '--json'])).output) as { sha: string; result: string }[];
    const newestGood = releases.filter((r) => r.result === 'live').at(-1);
    const status = (JSON.parse((await slipway.cli(['status', app.name, '--json'])).output) as { sha?: string }[])[0];
    const served = await httpGet(apache.port, '/', app.host, 5_000).catch((err: Error) => ({ status: 0, body: err.message }));
    const recordVersion = newestGood ? app.versions.get(newestGood.sha) : undefined;
    const problems = [
      recordVersion !== app.expected ? `newest good release is ${recordVersion ?? 'none'}, the soak's newest good push ${app.expected}` : '',
      status?.sha !== newestGood?.sha ? `status says ${status?.sha?.slice(0, 7) ?? 'nothing'}` : '',
      served.body.trim() !== `version=${app.expected}` ? `Apache serves ${served.status} ${served.body.trim().slice(0, 60)}` : '',
    ].filter(Boolean);
    if (problems.length) mismatched.push(`${app.name}: ${problems.join(', ')}`);
  }
  checks.push({
    name: 'every app on its newest good release (record, status and Apache agree)',
    ok: mismatched.length === 0,
    detail: mismatched.length ? mismatched.join('; ') : `${apps.length} apps`,
  });

  const containers = await soakContainers(prefix);
  const odd = containers.filter((c) => c.name.endsWith('-pending') || !c.running);
  const perApp = (list: { app: string }[], app: string) => list.filter((c) => c.app === app).length;
  const countChanged = apps.filter((a) => perApp(containers, a.name) !== perApp(input.baselineContainers, a.name));
  checks.push({
    name: 'no orphan or pending container',
    ok: odd.length === 0 && countChanged.length === 0,
    detail: `${containers.length} containers (${input.baselineContainers.length} after the warm-up)${odd.length ? `; pending or stopped: ${odd.map((c) => c.name).join(', ')}` : ''}${countChanged.length ? `; count changed for ${countChanged.map((a) => a.name).join(', ')}` : ''}`,
  });

  const overKept: string[] = [];
  let imageTotal = 0;
  for (const app of apps) {
    const images = await appImages(app.name);
    imageTotal += images.length;
    const releases = JSON.parse((await slipway.cli(['releases', app.name, '--json'])).output) as { sha: string; result: string }[];
    const lastGood = releases.map((r) => r.result).lastIndexOf('live');
    // Retention runs after a successful deploy: images of versions that failed since the last one are not its business yet.
    const failedSince = new Set(releases.slice(lastGood + 1).map((r) => r.sha));
    const successful = releases
      .filter((r) => r.result === 'live')
      .reverse()
      .map((r) => r.sha);
    const inUse = new Set(containers.filter((c) => c.app === app.name).map((c) => c.image));
    const extra = imagesToRemove(
      images.filter((i) => !failedSince.has(i.sha)),
      successful,
      successful[0] ?? '',
      inUse,
      KEEP_RELEASES,
    );
    if (extra.length) overKept.push(`${app.name}: ${extra.length} image(s) retention would remove (${extra.map((i) => i.tags.join(' ') || i.id.slice(7, 19)).join(', ')})`);
  }
  checks.push({
    name: `images within retention (SLIPWAY_KEEP_RELEASES=${KEEP_RELEASES})`,
    ok: overKept.length === 0,
    detail: overKept.length ? overKept.join('; ') : `${imageTotal} images over ${apps.length} apps`,
  });
  return checks;
}

/** The app's images (`docker images <app>`), grouped by id, with the sha their tag names. */
async function appImages(app: string): Promise<AppImage[]> {
  const listed = await exec('docker', ['images', '--no-trunc', '--format', '{{.ID}}\t{{.Repository}}:{{.Tag}}', app]);
  const byId = new Map<string, string[]>();
  for (const line of listed.stdout.split('\n').filter(Boolean)) {
    const [id, tag] = line.split('\t');
    byId.set(id, [...(byId.get(id) ?? []), tag]);
  }
  return [...byId].map(([id, tags]) => ({ id, tags, sha: shaOfTags(app, tags) }));
}

/** "ECONNRESET during deploy 12 ×3, …" */
function summarize(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => (n > 1 ? `${item} ×${n}` : item)).join(', ');
}

function describeFault(planned: PlannedDeploy): string {
  if (planned.fault === 'kill-slipway') return `kill-slipway after ${planned.step}`;
  if (planned.fault === 'restart-redis') return `restart-redis at +${seconds(planned.delayMs)}`;
  return planned.fault ?? '';
}

/** Waits until Apache answers `expected` for `host`. */
async function waitServed(apache: ApacheInstance, host: string, expected: string): Promise<void> {
  const deadline = now() + 60_000;
  for (;;) {
    const res = await httpGet(apache.port, '/', host, 2_000).catch(() => undefined);
    if (res?.status === 200 && res.body.trim() === expected) return;
    if (now() > deadline) throw new Error(`${host} does not serve ${expected} through Apache after 60 s`);
    await sleep(200);
  }
}

/** The report: parameters, checks, resources, the fault table. */
function soakReport(r: {
  facts: [string, string][];
  activity: ActivityLog;
  outcomes: DeployOutcome[];
  checks: Check[];
  before: FullSnapshot;
  after: FullSnapshot;
  snapshots: { deploy: number; snapshot: FullSnapshot }[];
  growth: { rss: number; fds: number; containers: number };
  load: RunningLoad;
  windows: FailureWindow[];
  restarts: number;
  baselineContainers: number;
}): string {
  const n = r.outcomes.length;
  const per = (a: number, b: number) => (b - a) / Math.max(1, n);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
  const lines: string[] = [];
  lines.push(`## Run`, '');
  lines.push(`- deploys: **${n}** over ${APPS} apps (\`--deploys ${DEPLOYS} --apps ${APPS} --seed ${SEED} --fault-rate ${FAULT_RATE}\`); slipway restarted ${r.restarts} time(s)`);
  lines.push(
    `- request stream: ${RPS_PER_APP} requests/s to \`/\` of each app through Apache (${RPS_PER_APP * APPS}/s in all), open loop, keep-alive, ${REQUEST_TIMEOUT_MS / 1000} s deadline per request; ${r.load.samples.length} requests`,
  );
  for (const [k, v] of r.facts) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Checks', '');
  for (const c of r.checks) lines.push(`- **${c.ok ? 'PASS' : 'FAIL'}** ${c.name}: ${c.detail}`);
  lines.push('', '## Resources (after the warm-up → after the last deploy)', '');
  lines.push('| figure | before | after | growth per deploy | target | verdict |', '| --- | --- | --- | --- | --- | --- |');
  const verdict = (ok: boolean) => (ok ? 'pass' : '**FAIL**');
  lines.push(
    `| slipway RSS (its process and children) | ${mb(r.before.rss)} | ${mb(r.after.rss)} | ${r.growth.rss.toFixed(3)} MB (least squares within each slipway life, first ${WARMUP_DEPLOYS} deploys of each left out) | ≤ ${TARGET.rssMbPerDeploy} MB (flat after warm-up) | ${verdict(r.growth.rss <= TARGET.rssMbPerDeploy)} |`,
  );
  lines.push(
    `| slipway open fds | ${r.before.fds} | ${r.after.fds} | ${r.growth.fds.toFixed(3)} (same fit) | ≤ ${TARGET.fdsPerDeploy} (no growth) | ${verdict(r.growth.fds <= TARGET.fdsPerDeploy)} |`,
  );
  lines.push(
    `| containers of the soak's apps | ${r.baselineContainers} | ${r.baselineContainers + r.growth.containers} | ${per(0, r.growth.containers).toFixed(3)} | 0 | ${verdict(r.growth.containers === 0)} |`,
  );
  lines.push(`| Redis used_memory | ${mb(r.before.redisUsed)} | ${mb(r.after.redisUsed)} | ${kb(per(r.before.redisUsed, r.after.redisUsed))} | – | – |`);
  lines.push(`| Redis used_memory_rss | ${mb(r.before.redisRss)} | ${mb(r.after.redisRss)} | ${kb(per(r.before.redisRss, r.after.redisRss))} | – | – |`);
  lines.push(`| SLIPWAY_HOME size | ${mb(r.before.homeBytes)} | ${mb(r.after.homeBytes)} | ${kb(per(r.before.homeBytes, r.after.homeBytes))} | – | – |`);
  lines.push(
    `| Docker build cache (whole Engine, shared machine) | ${mb(r.before.buildCacheBytes)} | ${mb(r.after.buildCacheBytes)} | ${kb(per(r.before.buildCacheBytes, r.after.buildCacheBytes))} | – | – |`,
  );
  lines.push('', 'Every 10 deploys:', '', '| after deploy | slipway RSS | fds | Redis used | SLIPWAY_HOME | build cache |', '| --- | --- | --- | --- | --- | --- |');
  for (const { deploy, snapshot: s } of r.snapshots) lines.push(`| ${deploy} | ${mb(s.rss)} | ${s.fds} | ${mb(s.redisUsed)} | ${mb(s.homeBytes)} | ${mb(s.buildCacheBytes)} |`);
  lines.push('', '## Faults', '');
  lines.push('| fault | deploys | as expected | failed requests (all apps) while they ran |', '| --- | --- | --- | --- |');
  // Split by app: a fault of slipway's shows on the deploying app; an overloaded machine on every app.
  const failedIn = (o: DeployOutcome, own?: boolean) =>
    r.load.samples.filter((s) => s.outcome !== 'ok' && s.scheduled >= o.start && s.scheduled <= o.end && (own === undefined || (s.host === `${o.app}.localhost`) === own)).length;
  const peakLoad = (o: DeployOutcome) => Math.max(0, ...r.activity.samples.filter((s) => s.at >= o.start && s.at <= o.end).map((s) => s.load1));
  for (const kind of [undefined, ...FAULT_KINDS]) {
    const of = r.outcomes.filter((o) => o.plan.fault === kind);
    if (of.length === 0) continue;
    lines.push(`| ${kind ?? 'none'} | ${of.length} | ${of.filter((o) => o.asExpected).length}/${of.length} | ${of.reduce((a, o) => a + failedIn(o), 0)} |`);
  }
  lines.push(
    '',
    'Deploys with a fault, an unexpected outcome or a failed request (failed requests: of the deploying app / of the other apps, while it ran):',
    '',
    '| # | app | fault | outcome | took | peak load average | failed requests |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const o of r.outcomes.filter((x) => x.plan.fault !== undefined || !x.asExpected || failedIn(x) > 0)) {
    lines.push(
      `| ${o.plan.index} | ${o.app.replace(/^soak-[0-9a-f]+-/, '')} | ${describeFault(o.plan) || 'none'} | ${o.result}${o.asExpected ? '' : ' **unexpected**'}: ${o.reason.replace(/\|/g, '/').slice(0, 140)} | ${seconds(o.end - o.start)} | ${peakLoad(o).toFixed(0)} | ${failedIn(o, true)} / ${failedIn(o, false)} |`,
    );
  }
  return lines.join('\n');
}

function wholeNumber(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} ${text}: must be a whole number ≥ 1`);
  return value;
}
