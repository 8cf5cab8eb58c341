/**
 * Apache killed mid-deploy (issue 18 item 3), on the real stack: the test's private Apache is
 * SIGKILLed (its parent and its children, by pid) at an exact point of a deploy, through slipway's
 * pause seam (SLIPWAY_TEST_PAUSE_AFTER_STEPS). slipway never reports `live` while Apache does not
 * answer for the app: the deploy fails, the port map goes back to the release that was live, and
 * once Apache is started again it serves exactly the release slipway reports as live.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushThroughPauses } from '../support/deploy-pauses';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startRequestStream } from '../support/request-stream';
import { appContainers } from '../support/slipway-instance';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';
import { startTestStack, type TestStack } from '../support/test-stack';

const PAUSES = ['health', 'switch'];
const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 1, drain_timeout: 5 };
/** A request stream runs at least this long before its failures are counted (a quiet machine is fast). */
const STREAM_MS = 2000;

let stack: TestStack;
let app: AppWorktree;

const short = (sha: string) => sha.slice(0, 7);
const host = () => `${app.name}.localhost`;
const served = async () => (await httpGet(stack.apache.port, '/', host()).catch(() => ({ body: 'unreachable' }))).body.trim();
const releases = async () =>
  (JSON.parse(await fs.readFile(path.join(stack.slipway.home, 'releases', `${app.name}.json`), 'utf8')) as { releases: { sha: string; result: string; reason?: string }[] }).releases;
const liveSha = async () => (await releases()).filter((r) => r.result === 'live').at(-1)?.sha;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function version(name: string): Promise<string> {
  await writeBusyboxApp(app.dir, { version: name, slipwayJson: SETTINGS });
  return commit(app.dir, name);
}

/** Pushes, letting the deploy go on at each pause after running the action given for that step. */
function push(actions: Record<string, () => Promise<void>> = {}) {
  return pushThroughPauses(stack.slipway.home, PAUSES, gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main']), actions);
}

/** The port the app's live container listens on (its label) and the one the port map sends traffic to. */
async function ports(): Promise<{ container: number; map: number }> {
  const label = await new Promise<string>((resolve) => execFile('docker', ['inspect', '--format', '{{index .Config.Labels "slipway.port"}}', app.name], (_e, out) => resolve(out)));
  const map = await fs.readFile(path.join(stack.slipway.home, 'apache', `${app.name}.map`), 'utf8');
  return { container: Number(label.trim()), map: Number(/127\.0\.0\.1:(\d+)/.exec(map)?.[1]) };
}

/** Streams requests through Apache for at least STREAM_MS while `during` runs; returns what the stream saw. */
async function streamWhile(during: () => Promise<void> = async () => undefined) {
  const stream = startRequestStream(stack.apache.port, host(), '/', 20);
  const started = Date.now();
  await during();
  await sleep(Math.max(0, STREAM_MS - (Date.now() - started)));
  return stream.stop();
}

beforeAll(async () => {
  stack = await startTestStack({ SLIPWAY_TEST_PAUSE_AFTER_STEPS: PAUSES.join(','), SLIPWAY_STOP_GRACE: '2' });
  app = await stack.newApp();
  await version('v1');
  expect((await push()).output).toContain('✔');
});

afterAll(async () => {
  await stack?.stop();
});

describe('Apache killed mid-deploy', () => {
  it('killed after the health check: the deploy fails before anything is live; Apache started again serves the release slipway reports as live', async () => {
    const v1 = await liveSha();
    const v2 = await version('v2');
    let before: Awaited<ReturnType<typeof streamWhile>> | undefined;
    const result = await push({
      health: async () => {
        // Traffic before the fault: all of it to v1, none failed.
        before = await streamWhile();
        await stack.apache.kill();
      },
    });
    expect(before?.failures).toEqual([]);
    expect([...(before?.bodies.keys() ?? [])]).toEqual(['version=v1']);

    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`✘ Apache switch failed: Apache is not answering on :${stack.apache.port} (connect ECONNREFUSED`);
    expect(result.output).toContain('the port map goes back as it was, so Apache serves the previous release once it runs again');
    expect(result.output).toContain('undone: switch');
    expect(result.output).toContain(`${short(v1 ?? '')} still serving`);
    expect(result.output).not.toMatch(/✔ .* live on port/);
    expect(result.output).toMatch(/! \[remote rejected\] main -> main \(Apache switch failed: Apache is not answering/);

    // The record and the routing say v1, and only v1's container runs.
    expect(await liveSha()).toBe(v1);
    expect((await releases()).find((r) => r.sha === v2)).toMatchObject({ result: 'failed', reason: expect.stringContaining('Apache is not answering') });
    expect(await appContainers(app.name)).toEqual([app.name]);
    const { container, map } = await ports();
    expect(map).toBe(container);

    // Apache back: it serves v1, the release slipway reports as live, to every request.
    await stack.apache.start();
    const after = await streamWhile();
    expect(after.failures).toEqual([]);
    expect([...after.bodies.keys()]).toEqual(['version=v1']);
    expect(await served()).toBe('version=v1');

    // The same commit pushed again (its ref was put back) deploys now that Apache answers.
    const again = await push();
    expect(again.output).toMatch(new RegExp(`✔ ${app.name} ${short(v2)} live on port`));
    expect(await liveSha()).toBe(v2);
    expect(await served()).toBe('version=v2');
  });

  it('killed right after the switch: the watch finds Apache gone and reverts; never live, and Apache started again serves the old release', async () => {
    const v2 = await liveSha();
    const v3 = await version('v3');
    const result = await push({ switch: () => stack.apache.kill() });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`✘ Apache is not answering on :${stack.apache.port}`);
    expect(result.output).toContain(`${short(v2 ?? '')} still serving`);
    expect(result.output).not.toMatch(/✔ .* live on port/);
    expect(await liveSha()).toBe(v2);
    expect((await releases()).find((r) => r.sha === v3)).toMatchObject({ result: 'failed' });
    expect(await appContainers(app.name)).toEqual([app.name]);

    await stack.apache.start();
    const after = await streamWhile();
    expect(after.failures).toEqual([]);
    expect([...after.bodies.keys()]).toEqual(['version=v2']);
    const { container, map } = await ports();
    expect(map).toBe(container);
  });
});
