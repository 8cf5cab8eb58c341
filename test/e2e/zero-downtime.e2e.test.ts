/**
 * Zero downtime on real parts: requests through a real Apache while real pushes deploy.
 * Correctness, not timing: the benchmark (bench/) measures latency.
 */
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

const settings = (watch: number) => ({ healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch, drain_timeout: 20 });
const host = () => `${app.name}.localhost`;
const served = async () => (await httpGet(apache.port, '/', host())).body.trim();
const push = () => gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);

beforeAll(async () => {
  stack = await startTestStack({});
  ({ apache, slipway } = stack);
  app = await stack.newApp();
  await writeBusyboxApp(app.dir, { version: 'v1', slowSeconds: 8, slipwayJson: settings(0) });
  await commit(app.dir, 'v1');
  const first = await push();
  expect(first.output).toContain('✔');
});

afterAll(async () => {
  await stack?.stop();
});

describe('zero downtime', () => {
  it('a deploy under a request stream drops no request, and a slow request in flight across the switch completes from the old version', async () => {
    expect(await served()).toBe('version=v1');
    const stream = startRequestStream(apache.port, host(), '/', 20);
    // The slow route takes 8 s on v1: it is still running when the switch happens.
    const slowStarted = Date.now();
    const slow = httpGet(apache.port, '/cgi-bin/slow', host(), 30_000).then((r) => ({ ...r, endedAt: Date.now() }));
    let firstV2At = 0;
    const watcher = setInterval(() => {
      void served()
        .then((body) => {
          if (body === 'version=v2' && firstV2At === 0) firstV2At = Date.now();
        })
        .catch(() => undefined);
    }, 50);

    await writeBusyboxApp(app.dir, { version: 'v2', slowSeconds: 8, slipwayJson: settings(1) });
    await commit(app.dir, 'v2');
    const result = await push();
    const slowResult = await slow;
    clearInterval(watcher);
    const stats = await stream.stop();

    expect(result.output).toMatch(/✔ .* live on port/);
    expect(result.output).toMatch(/-----> Draining previous container \(\d+ in flight\)/);
    expect(result.output).toMatch(/probe: \d+ requests, 0 failed, longest gap \d+ ms/);
    expect(stats.failures).toEqual([]);
    expect(stats.total).toBeGreaterThan(50);
    expect(stats.bodies.get('version=v2')).toBeGreaterThan(0);
    expect(slowResult.status).toBe(200);
    expect(slowResult.body.trim()).toBe('version=v1');
    expect(firstV2At).toBeGreaterThan(slowStarted);
    expect(slowResult.endedAt).toBeGreaterThan(firstV2At);
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('a new version that passes its first health check and then dies inside the watch window is reverted', async () => {
    await writeBusyboxApp(app.dir, { version: 'v3', health: 'die-after-first', slipwayJson: settings(8) });
    await commit(app.dir, 'v3 dies after its first health check');
    // Between the new container's death and the revert, requests routed to it can fail: this
    // case checks the revert, not zero failures.
    const result = await push();
    expect(result.output).toMatch(/✘ reverted: the new version failed [\d.]+ s after the switch/);
    expect(result.output).toContain('undone: switch');
    expect(result.output).toMatch(/[0-9a-f]{7} still serving/);
    expect(await served()).toBe('version=v2');
    expect(await appContainers(app.name)).toEqual([app.name]);
  });
});
