/**
 * Procfile worker process types on real parts: a `worker:` that appends `<version> alive` to a file
 * in a mounted volume every 200 ms and `<version> bye` on SIGTERM. A push replaces the workers
 * start-first (the new ones run before the old get SIGTERM) or stop-first (the reverse), with zero
 * failed requests on web; a release whose worker dies in the watch window is reverted and the
 * previous workers run again; `ps:scale` changes the count without a build and without touching
 * web, and bad input changes nothing. A workers-only app (no `web:` line) runs no web container;
 * reconcile restores its worker count after slipway was down.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApacheInstance } from '../support/apache-instance';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startRequestStream } from '../support/request-stream';
import { appContainers, type SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';
import { waitUntil } from '../support/wait-until';

const execFileAsync = promisify(execFile);

let stack: TestStack;
let apache: ApacheInstance;
let slipway: SlipwayInstance;
let app: AppWorktree;
let dataDir: string;
const sha: Record<string, string> = {};

/** The worker: `alive` every 200 ms, `bye` on SIGTERM; with DIE_AFTER set it exits 1 after ~2 s. */
const WORKER_SCRIPT = [
  '#!/bin/sh',
  'trap \'echo "$VERSION bye" >> /data/workers.log; exit 0\' TERM',
  'i=0',
  'while true; do',
  '  echo "$VERSION alive" >> /data/workers.log',
  '  i=$((i+1))',
  '  if [ -n "$DIE_AFTER" ] && [ "$i" -ge 10 ]; then echo "worker giving up on purpose" >&2; exit 1; fi',
  '  sleep 0.2',
  'done',
  '',
].join('\n');

const containerId = async (name: string) => (await execFileAsync('docker', ['inspect', '-f', '{{.Id}}', name])).stdout.trim();
const served = async () => (await httpGet(apache.port, '/', `${app.name}.localhost`)).body.trim();
const push = () => gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
const workerLog = async () => (await fs.readFile(path.join(dataDir, 'workers.log'), 'utf8').catch(() => '')).split('\n');
const psJson = async () =>
  JSON.parse((await slipway.cli(['ps', app.name, '--json'])).output) as {
    types: { type: string; scale: number; running: number }[];
    containers: { name: string; type: string; state: string; sha: string }[];
  };

/** The web line that runs the test image's own CMD: a Procfile with process types but no `web:` is a workers-only app. */
const WEB_AND_WORKER = 'web: exec /bin/sh /start.sh\nworker: exec sh /ctx/worker.sh\n';

async function release(version: string, options: { strategy?: 'start-first' | 'stop-first'; dies?: boolean; target?: AppWorktree; data?: string; procfile?: string } = {}): Promise<string> {
  const target = options.target ?? app;
  await writeBusyboxApp(target.dir, {
    version,
    slipwayJson: {
      healthcheck: { path: '/cgi-bin/health', timeout: 20 },
      watch: options.dies ? 5 : 2,
      env: { VERSION: version, ...(options.dies ? { DIE_AFTER: '2' } : {}) },
      volumes: [`${options.data ?? dataDir}:/data`],
      processes: { worker: { strategy: options.strategy ?? 'start-first', stop_grace: 5 } },
    },
  });
  await fs.writeFile(path.join(target.dir, 'worker.sh'), WORKER_SCRIPT);
  await fs.writeFile(path.join(target.dir, 'Procfile'), options.procfile ?? WEB_AND_WORKER);
  sha[version] = await commit(target.dir, version);
  return sha[version];
}

/** Pushes under a request stream (kept up 2 s at least) and returns the push output and the stream's result. */
async function pushUnderLoad() {
  const stream = startRequestStream(apache.port, `${app.name}.localhost`, '/', 20);
  const started = Date.now();
  const result = await push();
  const seenPromise = (async () => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2000 - (Date.now() - started))));
    return stream.stop();
  })();
  console.log(`[workers] push took ${((Date.now() - started) / 1000).toFixed(1)} s:\n${result.output}`);
  const seen = await seenPromise;
  console.log(`[workers] request stream: ${seen.total} requests, ${seen.failed} failed`);
  return { output: result.output, seen };
}

beforeAll(async () => {
  stack = await startTestStack({});
  ({ apache, slipway } = stack);
  app = await stack.newApp();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-workers-data-'));
});

afterAll(async () => {
  await stack?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('worker process types', () => {
  it('a Procfile worker: line runs as <app>-worker-1 beside web', async () => {
    await release('v1');
    const result = await push();
    expect(result.output).toMatch(new RegExp(`✔ ${app.name} ${sha.v1.slice(0, 7)} live`));
    expect(result.output).toContain('-----> Starting worker ×1');
    expect(await served()).toBe('version=v1');
    expect(await appContainers(app.name)).toEqual([app.name, `${app.name}-worker-1`]);
    expect(await workerLog()).toContain('v1 alive');
  }, 300_000);

  it('start-first: v2 workers are alive before v1 workers say bye; 0 failed requests', async () => {
    await release('v2');
    const { output, seen } = await pushUnderLoad();
    expect(output).toMatch(new RegExp(`✔ ${app.name} ${sha.v2.slice(0, 7)} live`));
    expect(seen.failed).toBe(0);
    expect(seen.total).toBeGreaterThan(20);
    expect(await served()).toBe('version=v2');
    const log = await workerLog();
    expect(log).toContain('v1 bye');
    expect(log.indexOf('v2 alive')).toBeGreaterThan(-1);
    expect(log.indexOf('v2 alive')).toBeLessThan(log.indexOf('v1 bye'));
    expect(await appContainers(app.name)).toEqual([app.name, `${app.name}-worker-1`]);
    expect((await psJson()).containers.map((c) => [c.name, c.sha])).toEqual([
      [app.name, sha.v2],
      [`${app.name}-worker-1`, sha.v2],
    ]);
  }, 300_000);

  it('stop-first: v2 workers have said bye before v3 workers are alive; 0 failed requests', async () => {
    await release('v3', { strategy: 'stop-first' });
    const { output, seen } = await pushUnderLoad();
    expect(output).toMatch(new RegExp(`✔ ${app.name} ${sha.v3.slice(0, 7)} live`));
    expect(output).toContain('first (stop-first)');
    expect(seen.failed).toBe(0);
    const log = await workerLog();
    expect(log).toContain('v2 bye');
    expect(log.indexOf('v3 alive')).toBeGreaterThan(log.indexOf('v2 bye'));
    expect(await appContainers(app.name)).toEqual([app.name, `${app.name}-worker-1`]);
  }, 300_000);

  it('a worker that exits in the watch window reverts the release: v3 web and workers serve again (stop-first: v3 workers start again)', async () => {
    await release('v4', { strategy: 'stop-first', dies: true });
    const { output, seen } = await pushUnderLoad();
    expect(output).toMatch(new RegExp(`✘ reverted: the new worker ${app.name}-worker-1-next exited .*worker giving up on purpose.*; ${sha.v3.slice(0, 7)} still serving`));
    expect(output).toContain(`${sha.v3.slice(0, 7)} still serving`);
    expect(output).toContain("started the previous release's worker ×1");
    expect(seen.failed).toBe(0);
    console.log('[workers] revert: checking what serves');
    expect(await served()).toBe('version=v3');
    console.log('[workers] revert: checking containers');
    expect(await appContainers(app.name)).toEqual([app.name, `${app.name}-worker-1`]);
    const ps = await psJson();
    expect(ps.containers.map((c) => [c.name, c.sha, c.state])).toEqual([
      [app.name, sha.v3, 'running'],
      [`${app.name}-worker-1`, sha.v3, 'running'],
    ]);
    // The v3 worker that came back writes again.
    const before = (await workerLog()).filter((l) => l === 'v3 alive').length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await workerLog()).filter((l) => l === 'v3 alive').length).toBeGreaterThan(before);
  }, 300_000);

  it('ps:scale worker=2 runs two workers without a build and without touching web; ps and status agree; 0 stops the type', async () => {
    const webBefore = await containerId(app.name);
    const workerBefore = await containerId(`${app.name}-worker-1`);
    const scaled = await slipway.cli(['ps:scale', app.name, 'worker=2']);
    expect(scaled.code).toBe(0);
    expect(scaled.output).toContain('scale worker=2');
    expect(scaled.output).not.toContain('Building');
    expect(scaled.output).toContain('web unchanged (1 container keeps serving); only worker counts change');
    expect(scaled.output).toContain('-----> Starting worker ×1 more');
    expect(scaled.output).not.toContain('-pending');
    // The same web container (and the worker that ran) before and after: only the new worker started.
    expect(await containerId(app.name)).toBe(webBefore);
    expect(await containerId(`${app.name}-worker-1`)).toBe(workerBefore);
    expect((await slipway.cli(['status', app.name])).output).toMatch(/web 1\/1, worker 2\/2/);
    const status = JSON.parse((await slipway.cli(['status', app.name, '--json'])).output) as { processes: { type: string; scale: number; running: number }[] }[];
    expect(status[0].processes).toEqual([
      { type: 'web', scale: 1, running: 1 },
      { type: 'worker', scale: 2, running: 2 },
    ]);
    expect(await appContainers(app.name)).toEqual([app.name, `${app.name}-worker-1`, `${app.name}-worker-2`]);
    const ps = await psJson();
    expect(ps.types).toEqual([
      { type: 'web', scale: 1, running: 1 },
      { type: 'worker', scale: 2, running: 2 },
    ]);
    expect(ps.containers.map((c) => c.name)).toEqual([app.name, `${app.name}-worker-1`, `${app.name}-worker-2`]);
    const text = (await slipway.cli(['ps', app.name])).output;
    expect(text).toContain('worker=2 (2 running)');
    expect(text).toMatch(new RegExp(`worker +${app.name}-worker-2 +running`));

    const zero = await slipway.cli(['ps:scale', app.name, 'worker=0']);
    expect(zero.code).toBe(0);
    expect(await appContainers(app.name)).toEqual([app.name]);
    expect(await served()).toBe('version=v3');
    expect((await slipway.cli(['ps:scale', app.name, 'worker=1'])).code).toBe(0);
    expect(await appContainers(app.name)).toEqual([app.name, `${app.name}-worker-1`]);
  }, 600_000);

  it('bad ps:scale input: a clear error, and nothing changes', async () => {
    const before = await psJson();
    const containersBefore = await appContainers(app.name);
    const cases: [string[], RegExp][] = [
      [['nope=1'], /the live release's Procfile has no "nope" process type \(it has: web, worker\)/],
      [['worker=-1'], /the count must be a whole number from 0 to 16/],
      [['worker=1.5'], /the count must be a whole number from 0 to 16/],
      [['worker=17'], /at most 16 containers of a type \(SLIPWAY_MAX_SCALE\)/],
      [['worker'], /is not type=count/],
      [['worker=2', 'worker=3'], /"worker" is named twice/],
    ];
    for (const [args, message] of cases) {
      const result = await slipway.cli(['ps:scale', app.name, ...args]);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(message);
    }
    const after = await psJson();
    expect(after.types).toEqual(before.types);
    expect(after.containers.map((c) => [c.name, c.sha, c.state])).toEqual(before.containers.map((c) => [c.name, c.sha, c.state]));
    expect(await appContainers(app.name)).toEqual(containersBefore);
  }, 300_000);
});

describe('a workers-only app (a Procfile with process types but no web:)', () => {
  let only: AppWorktree;
  let onlyData: string;
  const onlyLog = async () => (await fs.readFile(path.join(onlyData, 'workers.log'), 'utf8').catch(() => '')).split('\n');
  const running = async () => (await execFileAsync('docker', ['ps', '--format', '{{.Names}}', '--filter', `label=slipway.app=${only.name}`])).stdout.split('\n').filter(Boolean).sort();
  const WORKERS_ONLY = 'worker: exec sh /ctx/worker.sh\n';

  beforeAll(async () => {
    only = await stack.newApp();
    onlyData = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-workers-only-'));
  });
  afterAll(async () => {
    await fs.rm(onlyData, { recursive: true, force: true });
  });

  it('deploys its workers and no web container; the next push replaces them', async () => {
    await release('w1', { target: only, data: onlyData, procfile: WORKERS_ONLY });
    const first = await gitPush(only.dir, slipway.remoteUrl(only.name), ['main']);
    expect(first.output).toMatch(new RegExp(`✔ ${only.name} ${sha.w1.slice(0, 7)} live workers only in [\\d.]+ s · worker 1/1`));
    expect(first.output).toContain('No web process in the Procfile');
    expect(first.output).not.toContain('Switching Apache');
    expect(await appContainers(only.name)).toEqual([`${only.name}-worker-1`]);
    expect(await onlyLog()).toContain('w1 alive');

    await release('w2', { target: only, data: onlyData, procfile: WORKERS_ONLY });
    const second = await gitPush(only.dir, slipway.remoteUrl(only.name), ['main']);
    expect(second.output).toMatch(new RegExp(`✔ ${only.name} ${sha.w2.slice(0, 7)} live workers only`));
    expect(await appContainers(only.name)).toEqual([`${only.name}-worker-1`]);
    const log = await onlyLog();
    expect(log).toContain('w1 bye');
    expect(log.indexOf('w2 alive')).toBeGreaterThan(-1);
    const ps = JSON.parse((await slipway.cli(['ps', only.name, '--json'])).output) as { types: unknown[]; containers: { name: string; sha: string }[] };
    expect(ps.types).toEqual([{ type: 'worker', scale: 1, running: 1 }]);
    expect(ps.containers.map((c) => [c.name, c.sha])).toEqual([[`${only.name}-worker-1`, sha.w2]]);
    expect((await slipway.cli(['ps:scale', only.name, 'web=1'])).output).toMatch(/has no "web" process type \(it has: worker\)/);
  }, 300_000);

  it('stop and start work without web; scale to 2; after slipway restarts, reconcile brings a worker removed meanwhile back', async () => {
    const stopped = await slipway.cli(['stop', only.name]);
    expect(stopped.code, stopped.output).toBe(0);
    expect(await running()).toEqual([]);
    const started = await slipway.cli(['start', only.name]);
    expect(started.code, started.output).toBe(0);
    expect(await running()).toEqual([`${only.name}-worker-1`]);

    expect((await slipway.cli(['ps:scale', only.name, 'worker=2'])).code).toBe(0);
    expect(await running()).toEqual([`${only.name}-worker-1`, `${only.name}-worker-2`]);
    expect((await slipway.cli(['status', only.name])).output).toMatch(/worker 2\/2/);

    await slipway.shutdown();
    await execFileAsync('docker', ['rm', '-f', `${only.name}-worker-2`]);
    expect(await running()).toEqual([`${only.name}-worker-1`]);
    await slipway.restart();
    // The log line comes once reconcile has finished (the new worker healthy), after the container exists.
    const restored = new RegExp(`${only.name}: restored the worker counts of release \\d+ \\([0-9a-f]{7}\\): Starting worker ×1 more`);
    await waitUntil(
      'reconcile to start the missing worker',
      async () => (restored.test(slipway.output()) ? true : undefined),
      60_000,
      () => slipway.output(),
    );
    expect(await running()).toEqual([`${only.name}-worker-1`, `${only.name}-worker-2`]);
  }, 300_000);
});
