/**
 * App control on real parts: maintenance on/off through Apache without a reload (another app's
 * visitors see nothing), restart with zero downtime, stop (maintenance page, no running container,
 * still stopped after slipway restarts) and start, and the audit log of all of it.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES_VHOST_FILE } from '../../src/apache/apache-sites';
import type { ApacheInstance } from '../support/apache-instance';
import { gitPush } from '../support/git-client';
import { startRequestStream } from '../support/request-stream';
import type { SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let apache: ApacheInstance;
let slipway: SlipwayInstance;
let app: AppWorktree;
let other: AppWorktree;
const SECRET = 'hunter2-never-in-the-audit-log';

const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 2, drain_timeout: 10 };
function get(target: AppWorktree, urlPath = '/'): Promise<{ status: number; body: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: apache.port, path: urlPath, headers: { host: `${target.name}.localhost` }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim(), retryAfter: res.headers['retry-after'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
const running = (name: string) => new Promise<string>((resolve) => execFile('docker', ['inspect', '--format', '{{.State.Running}}', name], (_e, out) => resolve(out.trim() || 'missing')));

async function deploy(target: AppWorktree, version: string): Promise<void> {
  await writeBusyboxApp(target.dir, { version, slipwayJson: SETTINGS });
  await commit(target.dir, version);
  const result = await gitPush(target.dir, slipway.remoteUrl(target.name), ['main']);
  expect(result.output).toContain('✔');
}

beforeAll(async () => {
  stack = await startTestStack({});
  ({ apache, slipway } = stack);
  app = await stack.newApp();
  other = await stack.newApp();
  await deploy(app, 'v1');
  await deploy(other, 'o1');
});

afterAll(async () => {
  await stack?.stop();
});

describe('app control', () => {
  it('maintenance on answers 503 with Retry-After through Apache, off serves again; no reload, another app sees no failure', async () => {
    // Apps without a template of their own are routed by slipway's one routes vhost.
    const vhost = path.join(apache.sitesDir, ROUTES_VHOST_FILE);
    const vhostBefore = await fs.stat(vhost);
    const stream = startRequestStream(apache.port, `${other.name}.localhost`, '/', 20);
    const on = await slipway.cli(['maintenance', app.name, 'on']);
    expect(on.code).toBe(0);
    const page = await get(app, '/some/page');
    expect(page.status).toBe(503);
    expect(page.retryAfter).toBe('60');
    expect(page.body).toContain('Down for maintenance');
    // The operator's own page replaces the built-in one.
    await fs.mkdir(path.join(slipway.home, 'maintenance'), { recursive: true });
    await fs.writeFile(path.join(slipway.home, 'maintenance', `${app.name}.html`), '<h1>Back at noon</h1>\n');
    expect((await get(app)).body).toBe('<h1>Back at noon</h1>');
    expect(await running(app.name)).toBe('true');
    const off = await slipway.cli(['maintenance', app.name, 'off']);
    expect(off.code).toBe(0);
    expect(await get(app)).toMatchObject({ status: 200, body: 'version=v1' });
    const seen = await stream.stop();
    expect(seen.failures).toEqual([]);
    expect(seen.total).toBeGreaterThan(10);
    expect((await fs.stat(vhost)).mtimeMs).toBe(vhostBefore.mtimeMs);
    const bad = await slipway.cli(['maintenance', app.name, 'maybe']);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('say on or off');
  });

  it('env:set, then restart under a request stream drops nothing and records a release of kind restart', async () => {
    expect((await slipway.cli(['env:set', app.name, `API_SECRET=${SECRET}`])).code).toBe(0);
    const stream = startRequestStream(apache.port, `${app.name}.localhost`, '/', 20);
    const restart = await slipway.cli(['restart', app.name]);
    const seen = await stream.stop();
    expect(restart.code).toBe(0);
    expect(restart.output).toMatch(/✔ .* live on port/);
    expect(seen.failures).toEqual([]);
    expect(seen.total).toBeGreaterThan(20);
    const releases = JSON.parse((await slipway.cli(['releases', app.name, '--json'])).output) as { kind: string; result: string }[];
    expect(releases.at(-1)).toMatchObject({ kind: 'restart', result: 'live' });
  });

  it('stop: the maintenance page, no running container, still stopped after slipway restarts; start brings it back', async () => {
    const stop = await slipway.cli(['stop', app.name]);
    expect(stop.code).toBe(0);
    expect((await get(app)).status).toBe(503);
    expect(await running(app.name)).toBe('false');
    expect((await slipway.cli(['stop', app.name])).output).toContain('already stopped');
    expect((await slipway.cli(['maintenance', app.name, 'off'])).output).toContain('is stopped');

    await slipway.shutdown();
    await slipway.restart();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await running(app.name)).toBe('false');
    expect((await get(app)).status).toBe(503);

    const start = await slipway.cli(['start', app.name]);
    expect(start.code).toBe(0);
    expect(await get(app)).toMatchObject({ status: 200, body: 'version=v1' });
    expect(await running(app.name)).toBe('true');
    expect((await slipway.cli(['start', app.name])).output).toContain('running already');
  });

  it('audit lists everything in order, with env names and never their values', async () => {
    expect((await slipway.cli(['run', app.name, '--', 'sh', '-c', 'exit 4'])).code).toBe(4);
    const audit = await slipway.cli(['audit', app.name, '--json']);
    expect(audit.code).toBe(0);
    const events = JSON.parse(audit.output) as { v: number; action: string; actor: string; outcome: string; detail: string }[];
    expect(events.map((e) => `${e.action} ${e.outcome}`)).toEqual(['push ok', 'maintenance ok', 'maintenance ok', 'env:set ok', 'config ok', 'restart ok', 'stop ok', 'start ok', 'run exit 4']);
    expect(events.every((e) => e.v === 1)).toBe(true);
    expect(events[3].detail).toBe('API_SECRET');
    expect(events[8].detail).toBe('sh -c "exit 4"');
    expect(await fs.readFile(path.join(slipway.home, 'audit.log'), 'utf8')).not.toContain(SECRET);
    expect((await slipway.cli(['audit'])).output).toContain(other.name);
  });
});

describe('app control from the dashboard', () => {
  const post = (urlPath: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: slipway.port,
          path: urlPath,
          method: 'POST',
          headers: { authorization: `Bearer ${slipway.token}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end('');
    });

  it('maintenance on and off through the dashboard; a cross-site post changes nothing', async () => {
    expect(await post(`/apps/${app.name}/maintenance-on`, { origin: 'http://evil.example' })).toBe(403);
    expect((await get(app)).status).toBe(200);
    expect(await post(`/apps/${app.name}/maintenance-on`)).toBe(303);
    expect((await get(app)).status).toBe(503);
    expect(await post(`/apps/${app.name}/maintenance-off`)).toBe(303);
    expect(await get(app)).toMatchObject({ status: 200, body: 'version=v1' });
    const last = JSON.parse((await slipway.cli(['audit', app.name, '--json'])).output) as { actor: string; action: string; detail: string }[];
    expect(last.slice(-2).map((e) => `${e.actor} ${e.action} ${e.detail}`)).toEqual(['dashboard maintenance on', 'dashboard maintenance off']);
  });
});
