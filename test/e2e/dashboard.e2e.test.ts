/**
 * The dashboard in a real browser (Debian's headless Chromium driven by playwright-core) against
 * a real slipway, Redis, Docker Engine and Apache: log in through the form, watch a deploy's log
 * lines arrive while the push is still running, roll back with the button, and see the previous
 * release served again. Screenshots go to test-artifacts/.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDeployQueue, type DeployQueue } from '../../src/queue/deploy-queue';
import { connectRedis } from '../../src/queue/redis-connection';
import { readRuntimeInfo } from '../../src/runtime-file';
import type { ApacheInstance } from '../support/apache-instance';
import { gitPush, type GitPushResult } from '../support/git-client';
import { httpGet } from '../support/http-get';
import type { RedisInstance } from '../support/redis-instance';
import { type SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
// watch: 3 keeps each deploy running a few seconds after the switch, so there is a live log to watch.
const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 3 };

let stack: TestStack;
let apache: ApacheInstance;
let redis: RedisInstance;
let slipway: SlipwayInstance;
let app: AppWorktree;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let queue: DeployQueue;
let queueConnection: ReturnType<typeof connectRedis>;
const sha: Record<string, string> = {};

const base = () => `http://127.0.0.1:${slipway.port}`;
const served = async () => (await httpGet(apache.port, '/', `${app.name}.localhost`)).body.trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logText = () => page.locator('#log').innerText();

async function release(version: string): Promise<string> {
  await writeBusyboxApp(app.dir, { version, slipwayJson: SETTINGS });
  sha[version] = await commit(app.dir, version);
  return sha[version];
}

/** Every job of the app in the queue, whatever its state. */
async function appJobIds(): Promise<string[]> {
  const jobs = await queue.getJobs(['active', 'waiting', 'delayed', 'completed', 'failed', 'prioritized']);
  return jobs
    .filter((j) => j?.data?.app === app.name)
    .map((j) => j.id as string)
    .sort();
}

async function screenshot(name: string): Promise<string> {
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  const stat = await fs.stat(file);
  expect(stat.size).toBeGreaterThan(1000);
  expect((await fs.readFile(file)).subarray(1, 4).toString('latin1')).toBe('PNG');
  return file;
}

/** Waits (up to the test's timeout) until the deploy page's log has a final ✔ or ✘ line. */
async function waitForDeployEnd(): Promise<string> {
  await page.waitForFunction(() => !!document.querySelector('#log .l-ok, #log .l-bad'), undefined, { timeout: 120_000, polling: 100 });
  return logText();
}

beforeAll(async () => {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  stack = await startTestStack({});
  ({ apache, redis, slipway } = stack);
  app = await stack.newApp();
  const runtime = await readRuntimeInfo(path.join(slipway.home, 'runtime.json'));
  queueConnection = connectRedis(redis.socketPath, { maxRetriesPerRequest: 3 });
  queue = openDeployQueue(runtime!.queueName, queueConnection);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await queue?.close().catch(() => undefined);
  queueConnection?.disconnect();
  await stack?.stop();
});

describe('dashboard', () => {
  it('without a login, pages redirect to /login and the API says 401', async () => {
    const home = await fetch(`${base()}/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/login');
    const appPage = await fetch(`${base()}/apps/${app.name}`, { redirect: 'manual' });
    expect(appPage.headers.get('location')).toBe(`/login?next=${encodeURIComponent(`/apps/${app.name}`)}`);
    const rollback = await fetch(`${base()}/apps/${app.name}/rollback`, { method: 'POST', redirect: 'manual' });
    expect(rollback.status).toBe(401);
    const login = await fetch(`${base()}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'nonce-/);
    expect(login.headers.get('x-frame-options')).toBe('DENY');
    expect(login.headers.get('cache-control')).toBe('no-store');

    await page.goto(`${base()}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('logs in through the form (a wrong token is refused)', async () => {
    await release('v1');
    expect((await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'])).output).toMatch(/✔ .* live/);
    await release('v2');
    expect((await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'])).output).toMatch(/✔ .* live/);

    await page.goto(`${base()}/login`);
    await page.fill('#token', 'not-the-token');
    const wrong = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(wrong[0]?.status()).toBe(401);
    expect(await page.locator('.notice.bad').innerText()).toContain('Wrong token');

    await page.fill('#token', slipway.token);
    await Promise.all([page.waitForURL(`${base()}/`), page.click('button[type=submit]')]);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'slipway_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const row = page.locator('table.apps tr', { hasText: app.name });
    expect(await row.innerText()).toMatch(/v2/);
    expect(await row.innerText()).toContain(sha.v2.slice(0, 7));
    expect(await row.innerText()).toContain('running');
    expect(await row.innerText()).toContain('healthy');
    await screenshot('dashboard-overview.png');
  });

  it("streams a running deploy's log into the page while the push runs", async () => {
    await release('v3');
    let pushFinished = false;
    const pushing: Promise<GitPushResult> = gitPush(app.dir, slipway.remoteUrl(app.name), ['main']).then((r) => {
      pushFinished = true;
      return r;
    });

    // The app page links the running deploy as soon as it is queued.
    const deadline = Date.now() + 60_000;
    for (;;) {
      await page.goto(`${base()}/apps/${app.name}`);
      const link = page.locator('a.running-deploy').first();
      if ((await link.count()) > 0) {
        await Promise.all([page.waitForURL(/\/deploys\/deploy-/), link.click()]);
        break;
      }
      if (Date.now() > deadline || pushFinished) throw new Error(`no running deploy appeared on the app page (push finished: ${pushFinished})`);
      await sleep(200);
    }
    expect(page.url()).toMatch(new RegExp(`/apps/${app.name}/deploys/deploy-${app.name}-${sha.v3.slice(0, 12)}-\\d+$`));
    // The page was rendered while the deploy ran, so it listens for more lines.
    expect(await page.locator('#log').getAttribute('data-live')).toBe('1');
    const rendered = await page.locator('#log > span').count();

    await page.waitForFunction(() => (document.getElementById('log')?.textContent ?? '').includes('-----> Building'), undefined, { timeout: 60_000, polling: 50 });
    expect(pushFinished).toBe(false);
    await page.waitForFunction((n) => document.querySelectorAll('#log > span').length > n, rendered, { timeout: 60_000, polling: 50 });
    expect(pushFinished, 'a line arrived over SSE while the push was still running').toBe(false);
    await page.waitForFunction(() => document.getElementById('deploy-state')?.textContent === 'running', undefined, { timeout: 10_000 });
    await screenshot('dashboard-deploy-running.png');

    const log = await waitForDeployEnd();
    expect(log).toMatch(new RegExp(`✔ ${app.name} ${sha.v3.slice(0, 7)} live on port \\d+`));
    // The ✔ line is in the job's log just before the job completes; the badge follows on `end`.
    await page.waitForFunction(() => document.getElementById('deploy-state')?.textContent === 'live', undefined, { timeout: 10_000 });
    await screenshot('dashboard-deploy.png');
    const push = await pushing;
    expect(push.output).toMatch(/✔ .* live/);
    expect(await served()).toBe('version=v3');
  });

  it('a rollback POST without the CSRF token is refused and queues nothing', async () => {
    const before = await appJobIds();
    const noToken = await page.request.post(`${base()}/apps/${app.name}/rollback`, { form: {}, maxRedirects: 0 });
    expect(noToken.status()).toBe(403);
    const wrongToken = await page.request.post(`${base()}/apps/${app.name}/rollback`, { form: { csrf: 'forged', release: '1' }, maxRedirects: 0 });
    expect(wrongToken.status()).toBe(403);
    // The token in an Authorization header works without a session, but not from another site's form.
    const bearer = { authorization: `Bearer ${slipway.token}` };
    expect((await fetch(`${base()}/apps/${app.name}`, { headers: bearer })).status).toBe(200);
    const crossSite = await fetch(`${base()}/apps/${app.name}/rollback`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...bearer, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'release=1',
    });
    expect(crossSite.status).toBe(403);
    await sleep(500);
    expect(await appJobIds()).toEqual(before);
    expect(await served()).toBe('version=v3');
  });

  it('"Rollback to previous" deploys the previous release and shows its log', async () => {
    await page.goto(`${base()}/apps/${app.name}`);
    expect(await page.locator('.actions').innerText()).toContain(sha.v2.slice(0, 7));
    await Promise.all([page.waitForURL(/\/deploys\/deploy-/), page.click('#rollback-previous')]);
    expect(page.url()).toContain(`/apps/${app.name}/deploys/deploy-${app.name}-${sha.v2.slice(0, 12)}-`);
    const log = await waitForDeployEnd();
    expect(log).toMatch(new RegExp(`✔ ${app.name} ${sha.v2.slice(0, 7)} live on port \\d+`));
    expect(log).not.toContain('-----> Building');
    expect(await served()).toBe('version=v2');
    await screenshot('dashboard-rollback-deploy.png');

    await page.goto(`${base()}/apps/${app.name}`);
    const newest = page.locator('table.releases tbody tr').first();
    expect(await newest.innerText()).toContain('rollback to release 2');
    expect(await newest.innerText()).toContain('dashboard');
    expect(await newest.innerText()).toContain('live now');
    expect(await page.locator('svg.duration-chart rect.bar').count()).toBe(4);
    await screenshot('dashboard-app.png');
  });
});
