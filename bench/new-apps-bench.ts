/**
 * What creating and destroying apps costs the apps that already serve (a script that prints
 * figures, not a test):
 *
 *   npx tsc -p tsconfig.json && npm run bench:new-apps
 *
 * Starts a private Apache, Redis and slipway, deploys one live app, puts it under fixed-rate
 * open-loop load through Apache (100 rps to `/`), measures a steady window, then pushes the first
 * deploy of BENCH_NEW_APPS (default 5) new apps one after another and destroys them
 * (`slipway apps:destroy`), and, for contrast, creates and destroys BENCH_TEMPLATE_APPS (default 2)
 * apps with a template of their own (their own vhost: a graceful reload each time), then measures
 * a second steady window (BENCH_RPS changes the rate). Prints, per window, the live app's requests, failures, p50/p99/max and
 * the Apache reloads counted in its error log, and writes bench/results/new-apps.md. Everything it
 * starts is removed again, also on failure or Ctrl-C. About 3-4 minutes on 2 cores.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startApache, type ApacheInstance } from '../test/support/apache-instance';
import { gitPush } from '../test/support/git-client';
import { startRedis } from '../test/support/redis-instance';
import { removeAppArtifacts, startSlipway, type SlipwayInstance } from '../test/support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp } from '../test/support/test-app';
import { Cleanup } from './cleanup';
import { execOk } from './exec';
import { writeNodeApp } from './node-app-image';
import { now, seconds, sleep } from './clock';
import { startLoadInThread } from './load-thread';
import { formatKinds, summarizeWindow, totalFailed, type WindowSummary } from './stats';
import { TARGETS } from './report';

const REPO = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO, 'bench', 'results', 'new-apps.md');
const NEW_APPS = countFromEnv('BENCH_NEW_APPS', 5);
const TEMPLATE_APPS = countFromEnv('BENCH_TEMPLATE_APPS', 2);
const ROUTE = '/';
/** The live app's load; BENCH_RPS lowers it on a machine too busy to serve 100 rps at all. */
const RPS = countFromEnv('BENCH_RPS', 100);
const STEADY_MS = 15_000;
const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 30 }, watch: 2, drain_timeout: 5 };

/** One measured stretch of time: what happened, when, and how many reloads Apache logged in it. */
interface Window {
  what: string;
  from: number;
  to: number;
  reloads: number;
  ok: boolean;
}

async function main(): Promise<number> {
  const started = now();
  const log = (line: string): void => console.log(`[new-apps +${((now() - started) / 1000).toFixed(1)}s] ${line}`);
  const cleanup = new Cleanup();
  const interrupt = (): void => void cleanup.runAll().finally(() => process.exit(130));
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    const apache = await startApache();
    cleanup.add('Apache', () => apache.stop());
    const redis = await startRedis();
    cleanup.add('Redis', () => redis.stop());
    const apps: string[] = [];
    cleanup.add('containers and images', async () => {
      for (const app of apps) await removeAppArtifacts(app);
    });
    const slipway = await startSlipway({ apache, redis: redis.socketPath, env: { SLIPWAY_LOG_LEVEL: 'info' } });
    cleanup.add('slipway', () => slipway.stop());
    // The live app is the main benchmark's Node app (busybox httpd forks per request and cannot
    // take 100 rps on a busy 2-core machine); the new apps are busybox ones, which build in seconds.
    const create = async (kind: 'node' | 'busybox' | 'template'): Promise<{ name: string; ok: boolean }> => {
      const tree = await createAppWorktree({ name: `bench-new-${Math.random().toString(36).slice(2, 8)}` });
      cleanup.add(`work tree ${tree.name}`, () => tree.remove());
      apps.push(tree.name);
      if (kind === 'template') await fs.writeFile(path.join(apache.sitesDir, `${tree.name}.conf.template`), ownTemplate(apache, tree.name));
      if (kind === 'node') {
        await execOk('git', ['-C', tree.dir, 'config', 'core.bigFileThreshold', '1m']);
        await writeNodeApp(tree.dir, { version: 'n1', bootDelayMs: 1_000, slowMs: 1_000, slipwayJson: { ...SETTINGS, healthcheck: { path: '/health', timeout: 60 } } });
      } else await writeBusyboxApp(tree.dir, { version: 'n1', slipwayJson: SETTINGS });
      await commit(tree.dir, 'n1');
      const push = await gitPush(tree.dir, slipway.remoteUrl(tree.name), ['main']);
      const ok = push.code === 0 && push.output.includes('✔');
      if (!ok) log(`push of ${tree.name} failed:\n${push.output.trimEnd().split('\n').slice(-8).join('\n')}`);
      return { name: tree.name, ok };
    };
    const destroy = async (name: string): Promise<boolean> => {
      const done = await slipway.cli(['apps:destroy', name, '--confirm', name]);
      await fs.rm(path.join(apache.sitesDir, `${name}.conf.template`), { force: true });
      return done.code === 0;
    };

    log('deploying the live app');
    const live = await create('node');
    if (!live.ok) throw new Error('the live app did not deploy');
    const load = startLoadInThread({ port: apache.port, host: `${live.name}.localhost`, routes: [{ path: ROUTE, rps: RPS }], timeoutMs: 10_000, maxSockets: 50 });
    cleanup.add('load', () => load.stop());
    await sleep(2_000);
    const windows: Window[] = [];
    const measure = async (what: string, action: () => Promise<boolean>): Promise<void> => {
      const before = await reloadCount(apache);
      const from = now();
      const ok = await action();
      // At least 2 s per window, so a fast action still has enough requests to judge.
      await sleep(Math.max(0, 2_000 - (now() - from)));
      windows.push({ what, from, to: now(), reloads: (await reloadCount(apache)) - before, ok });
      log(`${what}: ${ok ? 'ok' : 'FAILED'} in ${seconds(now() - from)}`);
    };
    await measure('steady state (before)', () => sleep(STEADY_MS).then(() => true));
    const created: string[] = [];
    for (let i = 1; i <= NEW_APPS; i += 1) {
      await measure(`new app ${i}: first deploy`, async () => {
        const app = await create('busybox');
        created.push(app.name);
        return app.ok;
      });
    }
    for (const [i, name] of created.entries()) await measure(`new app ${i + 1}: apps:destroy`, () => destroy(name));
    for (let i = 1; i <= TEMPLATE_APPS; i += 1) {
      let name = '';
      await measure(`app with its own template ${i}: first deploy`, async () => {
        const app = await create('template');
        name = app.name;
        return app.ok;
      });
      await measure(`app with its own template ${i}: apps:destroy`, () => destroy(name));
    }
    await measure('steady state (after)', () => sleep(STEADY_MS).then(() => true));
    await load.stop();

    const report = renderReport(windows, load.samples, slipway);
    console.log(`\n${report}`);
    await fs.mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await fs.writeFile(RESULTS_FILE, report);
    log(`wrote ${path.relative(REPO, RESULTS_FILE)}`);
    return windows.every((w) => w.ok) ? 0 : 1;
  } catch (err) {
    console.error(`benchmark failed: ${(err as Error).stack ?? String(err)}`);
    return 1;
  } finally {
    await cleanup.runAll();
  }
}

/** A template of an app's own: routes through its port map (so deploys don't reload) but is a vhost (so creating it does). */
function ownTemplate(apache: ApacheInstance, app: string): string {
  return [
    `<VirtualHost *:${apache.port}>`,
    `    ServerName ${app}.localhost`,
    '    ProxyPreserveHost On',
    '    RewriteEngine On',
    '    RewriteMap ${MAP_NAME} "txt:${PORT_MAP}"',
    '    RewriteRule "^/(.*)$" "http://${${MAP_NAME}:upstream}/$1" [P,NE]',
    '</VirtualHost>',
    '',
  ].join('\n');
}

async function reloadCount(apache: ApacheInstance): Promise<number> {
  return ((await fs.readFile(path.join(apache.dir, 'error.log'), 'utf8').catch(() => '')).match(/AH00493/g) ?? []).length;
}

/** The markdown table: one row per window, p99 against the steady state's, and the verdict against the targets. */
function renderReport(windows: Window[], samples: Parameters<typeof summarizeWindow>[0], slipway: SlipwayInstance): string {
  const summaries = windows.map((w) => ({ w, s: summarizeWindow(samples, w.from, w.to, [ROUTE]) }));
  const steady = summaries.filter(({ w }) => w.what.startsWith('steady'));
  const steadyP99 = Math.max(...steady.map(({ s }) => s.latency[ROUTE].p99));
  const row = ({ w, s }: { w: Window; s: WindowSummary }) => {
    const l = s.latency[ROUTE];
    return `| ${w.what} | ${w.ok ? 'yes' : '**no**'} | ${s.requests} | ${totalFailed(s)} | ${formatKinds(s.failedByKind)} | ${l.p50.toFixed(1)} ms | ${l.p99.toFixed(1)} ms (${(l.p99 / steadyP99).toFixed(1)}×) | ${l.max.toFixed(0)} ms | ${w.reloads} |`;
  };
  const routed = summaries.filter(({ w }) => w.what.startsWith('new app'));
  const failed = routed.reduce((n, { s }) => n + totalFailed(s), 0);
  const within = routed.filter(({ s }) => s.latency[ROUTE].p99 <= TARGETS.p99Factor * steadyP99).length;
  return [
    `## Creating and destroying apps while another app serves (${RPS} rps to \`${ROUTE}\`, open loop, keep-alive)`,
    '',
    `_${new Date().toISOString()}, slipway pid ${slipway.pid}; apps without a template are routed by the routes vhost through the host map._`,
    '',
    '| window | ok | requests | failed | failure kinds | p50 | p99 (× steady) | max | Apache reloads |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summaries.map(row),
    '',
    `Apps routed by the host map (${routed.length} windows): ${failed} failed requests of the live app; p99 ≤ ${TARGETS.p99Factor}× steady in ${within}/${routed.length}.`,
    '',
  ].join('\n');
}

function countFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

void main().then((code) => process.exit(code));
