/**
 * Procfile worker process types on real parts: a `worker:` that appends `<version> alive` to a file
 * in a mounted volume every 200 ms and `<version> bye` on SIGTERM. A push replaces the workers
 * start-first (the new ones run before the old get SIGTERM) or stop-first (the reverse), with zero
 * failed requests on web; a release whose worker dies in the watch window is reverted and the
 * previous workers run again; `ps:scale` changes the count without a build, and bad input changes
 * nothing.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApacheInstance } from '../support/apache-instance';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startRequestStream } from '../support/request-stream';
import { appContainers, type SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

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

const served = async () => (await httpGet(apache.port, '/', `${app.name}.localhost`)).body.trim();
const push = () => gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
const workerLog = async () => (await fs.readFile(path.join(dataDir, 'workers.log'), 'utf8').catch(() => '')).split('\n');
const psJson = async () =>
  JSON.parse((await slipway.cli(['ps', app.name, '--json'])).output) as {
    types: { type: string; scale: number; running: number }[];
    containers: { name: string; type: string; state: string; sha: string }[];
  };

async function release(version: string, options: { strategy?: 'start-first' | 'stop-first'; dies?: boolean } = {}): Promise<string> {
  await writeBusyboxApp(app.dir, {
    version,
    slipwayJson: {
      healthcheck: { path: '/cgi-bin/health', timeout: 20 },
      watch: options.dies ? 5 : 2,
      env: { VERSION: version, ...(options.dies ? { DIE_AFTER: '2' } : {}) },
      volumes: [`${dataDir}:/data`],
      processes: { worker: { strategy: options.strategy ?? 'start-first', stop_grace: 5 } },
    },
  });
  await fs.writeFile(path.join(app.dir, 'worker.sh'), WORKER_SCRIPT);
  await fs.writeFile(path.join(app.dir, 'Procfile'), 'worker: exec sh /ctx/worker.sh\n');
  sha[version] = await commit(app.dir, version);
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

  it('ps:scale worker=2 runs two workers without a build; ps agrees; 0 stops the type', async () => {
    const scaled = await slipway.cli(['ps:scale', app.name, 'worker=2']);
    expect(scaled.code).toBe(0);
    expect(scaled.output).toContain('scale worker=2');
    expect(scaled.output).not.toContain('Building');
    expect(scaled.output).toContain('-----> Starting worker ×2');
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
