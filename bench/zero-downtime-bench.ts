/**
 * Zero-downtime benchmark for slipway (a script that prints figures, not a test).
 *
 *   npx tsc -p tsconfig.json && npx tsx bench/zero-downtime-bench.ts
 *
 * Starts a private Apache, Redis and slipway (`node dist/cli.js up`), deploys a Node app built
 * FROM scratch, and measures, under fixed-rate open-loop load through Apache:
 *  1. the default template (port switch by rewriting a RewriteMap file, no reload): 10 deploys;
 *  2. a seed-style template (port in the vhost: configtest + graceful reload every deploy): 3 deploys;
 * plus the floor (the same change built and started by hand with docker). Prints markdown tables,
 * writes bench/results/latest.md and the marked section of docs/benchmark.md. Everything it starts
 * is removed again, also on failure or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApache, type ApacheInstance } from '../test/support/apache-instance';
import { startRedis } from '../test/support/redis-instance';
import { startSlipway, type SlipwayInstance } from '../test/support/slipway-instance';
import { analyzeMode } from './analysis';
import type { Cleanup } from './cleanup';
import { now, seconds } from './clock';
import { measureApp, prepareApp, type ModeConfig, type ScenarioEnv } from './deploy-scenario';
import { removeDockerArtifacts } from './exec';
import { chooseFloorBuilder, measureFloor, type FloorSample } from './floor';
import { describeBuildCli, type BuildCli } from '../src/docker/build-cli';
import { describeActivity, startActivityMonitor, type ActivityMonitor } from './machine-activity';
import { machineFacts } from './machine-facts';
import { writeNodeApp } from './node-app-image';
import { runScript, type AbortFlag } from './script-main';
import { pushTranscripts, replaceMarkedSection, resultsBody, resultsDocument, summaryTable, type ReportInput } from './report';

const REPO = path.resolve(__dirname, '..');
const DOCS_FILE = path.join(REPO, 'docs', 'benchmark.md');
const SLOW_ROUTE = '/slow';

/**
 * The whole run must end well within 10 minutes. No deploy starts after DEPLOY_DEADLINE_MS (the
 * report then says how many were skipped); RUN_DEADLINE_MS is the hard stop behind it, and
 * cleanup gets its own bounded time after that.
 */
const DEPLOY_DEADLINE_MS = 8 * 60_000;
const RUN_DEADLINE_MS = 9 * 60_000;
/** A deploy (build, boot, 10 s watch, drain, stop) takes 22-30 s on 2 cores; never start one without room. */
const MIN_DEPLOY_BUDGET_MS = 35_000;
/** A push normally takes under 30 s; one that takes 3 times as long is broken and must not hold the run. */
const PUSH_TIMEOUT_MS = 90_000;
/** Deploys per mode; the environment can change them for a quick check of the script itself. */
const MAP_DEPLOYS = countFromEnv('BENCH_MAP_DEPLOYS', 10);
const RELOAD_DEPLOYS = countFromEnv('BENCH_RELOAD_DEPLOYS', 3);
/** slipway's builder for the run (SLIPWAY_BUILDER); the floor builds by hand with the same one. */
const BUILDER = builderFromEnv();
/**
 * A run with other deploy counts is a check, not a result: it writes `quick*` files and leaves
 * `latest*` and docs/benchmark.md alone.
 */
const FULL_RUN = MAP_DEPLOYS === 10 && RELOAD_DEPLOYS === 3;
const RESULTS_DIR = path.join(REPO, 'bench', 'results');
const RESULTS_PREFIX = FULL_RUN ? 'latest' : 'quick';
const RESULTS_FILE = path.join(RESULTS_DIR, `${RESULTS_PREFIX}.md`);
const SLIPWAY_LOG_FILE = path.join(RESULTS_DIR, `${RESULTS_PREFIX}-slipway.log`);
const PUSHES_LOG_FILE = path.join(RESULTS_DIR, `${RESULTS_PREFIX}-pushes.log`);

/** The app and load every mode uses. */
const SCENARIO = {
  routes: [
    { path: '/', rps: 100 },
    { path: SLOW_ROUTE, rps: 5 },
  ],
  app: { bootDelayMs: 3_000, slowMs: 1_000, slipwayJson: { healthcheck: { path: '/health', timeout: 60 } } },
  requestTimeoutMs: 10_000,
  maxSockets: 50,
  warmupMs: 2_000,
  steadyMs: 15_000,
  gapMs: 500,
  pushTimeoutMs: PUSH_TIMEOUT_MS,
} as const;

/** The private stack one run deploys to, and the names it uses. */
interface Stack {
  apache: ApacheInstance;
  slipway: SlipwayInstance;
  apps: { map: string; reload: string };
  /** `slipway.bench=<runId>`: on the floor's image and containers, for cleanup. */
  benchLabel: string;
  /** Throws once the run was given up or slipway exited on its own. */
  assertCanContinue(): void;
  activity: ActivityMonitor;
}

/**
 * Starts private Apache, Redis and slipway (as test/e2e does, with `SLIPWAY_STOP_GRACE=10`) and
 * the activity monitor, registering an undo for each as soon as it exists.
 */
async function startStack(runId: string, cleanup: Cleanup, log: (line: string) => void, abort: AbortFlag): Promise<Stack> {
  const apps = { map: `bench-map-${runId}`, reload: `bench-reload-${runId}` };
  const benchLabel = `slipway.bench=${runId}`;
  log('starting private Apache, Redis and slipway');
  const apache = await startApache();
  cleanup.add('Apache', () => apache.stop());
  const redis = await startRedis();
  cleanup.add('Redis', () => redis.stop());
  // Registered before slipway so that it runs after slipway has stopped (cleanup is LIFO).
  cleanup.add('containers and images', async () => {
    for (const app of [apps.map, apps.reload]) await removeDockerArtifacts(`slipway.app=${app}`, [app]);
    await removeDockerArtifacts(benchLabel, [`bench-floor-${runId}`]);
  });
  const slipway = await startSlipway({ apache, redis: redis.socketPath, env: { SLIPWAY_STOP_GRACE: '10', SLIPWAY_LOG_LEVEL: 'info', SLIPWAY_BUILDER: BUILDER } });
  cleanup.add('slipway', () => slipway.stop());
  // Runs before slipway stops (LIFO), on success and on failure alike.
  cleanup.add('slipway log', async () => {
    await fs.mkdir(path.dirname(SLIPWAY_LOG_FILE), { recursive: true });
    await fs.writeFile(SLIPWAY_LOG_FILE, slipway.output());
  });
  log(`Apache :${apache.port}, slipway :${slipway.port} (pid ${slipway.pid})`);

  let slipwayExitedAt: number | undefined;
  void slipway.exited().then(() => (slipwayExitedAt = now()));
  const assertCanContinue = (): void => {
    if (abort.reason !== undefined) throw new Error(`run given up: ${abort.reason}`);
    if (slipwayExitedAt === undefined) return;
    const tail = slipway.output().trimEnd().split('\n').slice(-5).join('\n');
    throw new Error(`slipway (pid ${slipway.pid}) exited ${seconds(now() - slipwayExitedAt)} ago, not stopped by the benchmark; its last lines:\n${tail}`);
  };
  const activity = startActivityMonitor(() => [slipway.pid], [apps.map, apps.reload, `bench-floor-${runId}`]);
  cleanup.add('activity monitor', async () => void activity.stop());
  return { apache, slipway, apps, benchLabel, assertCanContinue, activity };
}

/** Everything between setup and report. */
async function run(runId: string, started: number, cleanup: Cleanup, log: (line: string) => void, abort: AbortFlag): Promise<void> {
  const facts = await machineFacts(REPO);
  const stack = await startStack(runId, cleanup, log, abort);
  const env: ScenarioEnv = {
    ...SCENARIO,
    routes: [...SCENARIO.routes],
    apache: stack.apache,
    slipway: stack.slipway,
    cleanup,
    log,
    assertCanContinue: stack.assertCanContinue,
    deadline: started + DEPLOY_DEADLINE_MS,
    minDeployBudgetMs: MIN_DEPLOY_BUDGET_MS,
  };
  const mapMode: ModeConfig = { title: 'slipway default template (port map, no reload)', appName: stack.apps.map, versionPrefix: 'v', deploys: MAP_DEPLOYS, seedTemplate: false };
  const reloadMode: ModeConfig = { title: 'seed-style template (port in vhost: graceful reload)', appName: stack.apps.reload, versionPrefix: 'r', deploys: RELOAD_DEPLOYS, seedTemplate: true };

  // Both first deploys before any measurement, one after the other, so that neither first push
  // (the 100 MB runtime) competes with a measured window.
  log('deploying version 0 of both apps');
  const mapApp = await prepareApp(env, mapMode);
  const reloadApp = await prepareApp(env, reloadMode);
  // The floor is measured under the same load as the deploys, one sample after each deploy, so
  // both compete for the same CPU and drift on the machine (disk writeback, Docker's growing
  // image store) affects both alike.
  const floorBuild = await chooseFloorBuilder(BUILDER);
  const floor = await floorSampler(floorBuild, runId, stack.benchLabel, cleanup, log);
  const mapRun = await measureApp(env, mapApp, async (index) => {
    stack.assertCanContinue();
    await floor.measure(index);
  });
  const reloadRun = await measureApp(env, reloadApp);

  const activity = stack.activity.stop();
  const routes = SCENARIO.routes.map((r) => r.path);
  await publish(
    {
      facts: [...facts, ['builder', `slipway SLIPWAY_BUILDER=${BUILDER}; slipway and the floor build with ${describeBuildCli(floorBuild)}`], ['other work during the run', describeActivity(activity)]],
      activity,
      modes: [analyzeMode(mapRun, routes), analyzeMode(reloadRun, routes)],
      floor: floor.samples,
      loadText: `${SCENARIO.routes.map((r) => `${r.rps} rps to \`${r.path}\``).join(', ')}, open loop, keep-alive`,
      slowRoute: SLOW_ROUTE,
    },
    log,
  );
}

/**
 * Builds and starts the app by hand, one sample per call, each with a new version (so the
 * `server.js` layer is rebuilt while the runtime layer comes from cache, as in a deploy).
 */
async function floorSampler(build: BuildCli, runId: string, label: string, cleanup: Cleanup, log: (line: string) => void): Promise<{ samples: FloorSample[]; measure(index: number): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-bench-floor-'));
  cleanup.add('floor build context', () => fs.rm(dir, { recursive: true, force: true }));
  const samples: FloorSample[] = [];
  return {
    samples,
    async measure(index) {
      await writeNodeApp(dir, { ...SCENARIO.app, version: `floor${index}` });
      const sample = await measureFloor({
        build,
        contextDir: dir,
        tag: `bench-floor-${runId}:f${index}`,
        containerName: `bench-floor-${runId}-${index}`,
        label,
        healthPath: SCENARIO.app.slipwayJson.healthcheck.path,
        timeoutMs: 120_000,
      });
      log(`floor ${index}: build ${seconds(sample.buildMs)} + boot ${seconds(sample.bootMs)} = ${seconds(sample.totalMs)}`);
      samples.push(sample);
    },
  };
}

/**
 * Prints the tables, writes bench/results/latest.md (+ latest-pushes.log) and the marked section
 * of docs/benchmark.md; `quick*` files only for a run with other deploy counts. (The slipway log
 * is written by cleanup, also after a failure.)
 */
async function publish(input: ReportInput, log: (line: string) => void): Promise<void> {
  const body = resultsBody(input);
  console.log(`\n${body}`);
  console.log(`\n## Summary\n\n${summaryTable(input)}\n`);
  await fs.mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await fs.writeFile(RESULTS_FILE, resultsDocument(input));
  // Every push's timed output, for digging into a surprising figure after the temp dirs are gone.
  await fs.writeFile(PUSHES_LOG_FILE, pushTranscripts(input.modes));
  log(`wrote ${path.relative(REPO, RESULTS_FILE)}`);
  if (!FULL_RUN) {
    log(`not the full run (BENCH_MAP_DEPLOYS/BENCH_RELOAD_DEPLOYS set): ${path.relative(REPO, DOCS_FILE)} left alone`);
    return;
  }
  const facts = input.facts.map(([k, v]) => `${k}: ${v}`).join('; ');
  const docsBlock = `_Last run: ${facts}._\n\n${body.replace(/^## /gm, '### ')}`;
  if (await replaceMarkedSection(DOCS_FILE, docsBlock)) log(`updated the results section of ${path.relative(REPO, DOCS_FILE)}`);
  else log(`${path.relative(REPO, DOCS_FILE)} has no <!-- bench:start --> / <!-- bench:end --> markers: not updated`);
}

/** A positive whole number from the environment, else `fallback`. */
function builderFromEnv(): 'buildkit' | 'legacy' {
  const value = process.env.BENCH_BUILDER ?? 'buildkit';
  if (value !== 'buildkit' && value !== 'legacy') throw new Error(`BENCH_BUILDER=${value}: must be buildkit or legacy`);
  return value;
}

function countFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

runScript('bench', RUN_DEADLINE_MS, async ({ started, cleanup, log, abort }) => {
  await run(randomBytes(3).toString('hex'), started, cleanup, log, abort);
  return 0;
});
