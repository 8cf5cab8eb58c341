/**
 * A damaged state file on the real stack: two apps live, one app's config file cut short while
 * slipway is stopped, slipway started again. slipway starts, names the file in its log, in
 * `slipway doctor` and on the dashboard, refuses to deploy that app (the push says why, naming the
 * file), keeps serving both apps and deploying the other one by git push, and never rewrites the
 * damaged file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let damaged: AppWorktree;
let healthy: AppWorktree;
let configFile: string;
let damagedBytes: Buffer;

const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 0, drain_timeout: 2 };
const served = async (app: AppWorktree) => (await httpGet(stack.apache.port, '/', `${app.name}.localhost`)).body.trim();
const push = (app: AppWorktree) => gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main']);
async function release(app: AppWorktree, version: string): Promise<string> {
  await writeBusyboxApp(app.dir, { version, slipwayJson: SETTINGS });
  return commit(app.dir, version);
}
const dashboard = (pathname: string) => httpGet(stack.slipway.port, pathname, undefined, 10_000, { authorization: `Bearer ${stack.slipway.token}` });

beforeAll(async () => {
  stack = await startTestStack();
  damaged = await stack.newApp();
  healthy = await stack.newApp();
  for (const app of [damaged, healthy]) {
    await release(app, 'v1');
    const pushed = await push(app);
    expect(pushed.output, pushed.output).toMatch(/✔ .* live/);
  }
  // The app's server-side config file, made by the real CLI, then cut short while slipway is stopped.
  expect((await stack.slipway.cli(['apps:public-fetch', damaged.name, 'off'])).code).toBe(0);
  configFile = path.join(stack.slipway.home, 'apps', `${damaged.name}.json`);
  await stack.slipway.shutdown();
  const whole = await fs.readFile(configFile);
  damagedBytes = whole.subarray(0, Math.floor(whole.length / 2));
  await fs.writeFile(configFile, damagedBytes);
  await stack.slipway.restart();
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a damaged app config file', () => {
  it('slipway starts and names the file and the problem in its log; both apps keep serving', async () => {
    expect(stack.slipway.output()).toContain(`${configFile}: not valid JSON`);
    expect(await served(damaged)).toBe('version=v1');
    expect(await served(healthy)).toBe('version=v1');
  });

  it('the other app still deploys by git push', async () => {
    const sha = await release(healthy, 'v2');
    const pushed = await push(healthy);
    expect(pushed.output, pushed.output).toContain(`✔ ${healthy.name} ${sha.slice(0, 7)} live`);
    expect(await served(healthy)).toBe('version=v2');
  }, 120_000);

  it("the damaged app's push is refused in plain words naming the file; its old version keeps serving", async () => {
    await release(damaged, 'v2');
    const pushed = await push(damaged);
    expect(pushed.output).toContain(`slipway will not touch ${damaged.name} until this is repaired: ${configFile}: not valid JSON`);
    expect(pushed.output).not.toMatch(/✔ .* live/);
    expect(await served(damaged)).toBe('version=v1');
  }, 120_000);

  it('slipway doctor names the file and the problem', async () => {
    const doctor = await stack.slipway.cli(['doctor', '--json']);
    const report = JSON.parse(doctor.output.slice(doctor.output.indexOf('{'))) as { checks: { name: string; status: string; detail: string; fix?: string }[] };
    const state = report.checks.filter((c) => c.name === 'state');
    expect(state).toHaveLength(1);
    expect(state[0].status).toBe('fail');
    expect(state[0].detail).toContain(`${configFile}: not valid JSON`);
  }, 120_000);

  it('the dashboard names the file on the overview and the app page, and still shows the other app', async () => {
    const overview = await dashboard('/');
    expect(overview.status).toBe(200);
    expect(overview.body).toContain(`${configFile}: not valid JSON`);
    expect(overview.body).toContain(`href="/apps/${healthy.name}"`);
    const page = await dashboard(`/apps/${damaged.name}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`${configFile}: not valid JSON`);
  });

  it('the damaged file is byte-identical afterwards, with no backup or temp file beside it', async () => {
    expect(await fs.readFile(configFile)).toEqual(damagedBytes);
    expect((await fs.readdir(path.dirname(configFile))).sort()).toEqual([`${damaged.name}.json`]);
  });
});
