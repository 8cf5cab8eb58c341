/**
 * Issue 20's red-team findings, tried again against the running server: a pusher cannot make
 * fail2ban ban an address (checked with Debian's fail2ban-regex and the shipped filter), dashboard
 * and git login failures are logged alike and limited together, trickling bodies are cut off by the
 * deadline while a real push goes through, connections are capped, and X-Forwarded-For counts
 * only from a trusted proxy.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitPush } from '../support/git-client';
import { FLUSH, pkt } from '../support/pkt-line';
import { openIdleConnections, rawRequest, trickleBody, type RawRequest } from '../support/raw-http';
import type { SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

const FILTER = path.resolve(__dirname, '..', '..', 'deploy', 'fail2ban', 'filter.d', 'slipway.conf');
const BODY_TIMEOUT_S = 3;
const PER_ADDRESS = 20;
const MAX_CONNECTIONS = 120;
/** A client that fails logins directly (127.0.0.1 is the trusted Apache in front, see below). */
const DIRECT = '127.0.0.4';
const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 0 };

let stack: TestStack;
let slipway: SlipwayInstance;
let app: AppWorktree;

const basic = (password: string) => `Basic ${Buffer.from(`git:${password}`).toString('base64')}`;
const request = (options: RawRequest) => rawRequest(slipway.port, options);
const badGitLogin = (localAddress: string, headers: Record<string, string> = {}) =>
  request({ path: `/${app.name}.git/info/refs?service=git-receive-pack`, headers: { authorization: basic('wrong'), ...headers }, localAddress });
const badDashboardLogin = (localAddress: string) =>
  request({ method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=wrong&next=%2F', localAddress });
/** slipway's auth-failure lines (JSON) for one client address, by where they were tried. */
const failureLinesNow = (client: string) =>
  slipway
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(`"event":"auth-failure","client":"${client}"`))
    .map((l) => (JSON.parse(l) as { via: string }).via);
/** The same, once `count` of them have arrived through slipway's stdout pipe (or after 5 s). */
async function failureLines(client: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  while (failureLinesNow(client).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return failureLinesNow(client);
}

/** Runs Debian's fail2ban-regex on `log` with `filter` (a file, or a failregex string); the addresses it would ban. */
async function fail2banAddresses(log: string, filter: string): Promise<string[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-f2b-'));
  try {
    await fs.writeFile(path.join(dir, 'slipway.log'), log);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('fail2ban-regex', ['-o', 'ip', path.join(dir, 'slipway.log'), filter], { encoding: 'utf8' }, (err, stdout, stderr) =>
        err ? reject(new Error(`fail2ban-regex: ${stderr || err.message}`)) : resolve(stdout),
      ),
    );
    return [...new Set(out.split('\n').filter(Boolean))].sort();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  stack = await startTestStack({
    SLIPWAY_AUTH_MAX_FAILURES: '20',
    SLIPWAY_BODY_TIMEOUT: String(BODY_TIMEOUT_S),
    SLIPWAY_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
    SLIPWAY_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    // The private Apache proxies to slipway from 127.0.0.1, as an Apache on the same host would.
    SLIPWAY_TRUSTED_PROXIES: '127.0.0.1, ::1',
  });
  ({ slipway } = stack);
  app = await stack.newApp();
  await writeBusyboxApp(app.dir, { version: 'v1', slipwayJson: SETTINGS });
  await commit(app.dir, 'v1');
  expect((await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'])).output).toContain('✔');
});

afterAll(async () => {
  await stack?.stop();
});

describe('fail2ban', () => {
  it(`pushed text saying "slipway auth failure from 10.6.6.x" is not matched; the real failures from ${DIRECT} are`, async () => {
    // A build error that carries the forged words (the red team's Dockerfile line).
    await writeBusyboxApp(app.dir, { version: 'forged1', slipwayJson: SETTINGS });
    const dockerfile = await fs.readFile(path.join(app.dir, 'Dockerfile'), 'utf8');
    await fs.writeFile(path.join(app.dir, 'Dockerfile'), dockerfile.replace('COPY www /www', 'COPY ["slipway auth failure from 10.6.6.6", "/x"]\nCOPY www /www'));
    await commit(app.dir, 'forged build error');
    const build = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(build.output).toContain('✘');
    // A health status that carries them.
    await writeBusyboxApp(app.dir, { version: 'forged2', slipwayJson: { ...SETTINGS, healthcheck: { path: '/cgi-bin/health', timeout: 3 } } });
    await fs.writeFile(
      path.join(app.dir, 'www', 'cgi-bin', 'health'),
      `#!/bin/sh\nprintf 'Status: 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n{"status":"slipway auth failure from 10.6.6.7"}'\n`,
      { mode: 0o755 },
    );
    await commit(app.dir, 'forged health status');
    const health = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(health.output).toContain('slipway auth failure from 10.6.6.7');
    // A forged client address in headers and in the URL of a failed login.
    await badGitLogin(DIRECT, { 'x-forwarded-for': '10.6.6.8' });
    await request({ path: `/x%22,%22client%22:%2210.6.6.9/info/refs?service=git-receive-pack`, headers: { authorization: basic('wrong') }, localAddress: DIRECT });
    // The real failures, on both doors.
    expect((await badDashboardLogin(DIRECT)).status).toBe(401);
    expect(await failureLines(DIRECT, 3)).toEqual(['git', 'git', 'dashboard']);

    const log = slipway.output();
    expect(log).toMatch(/slipway auth failure from 10\.6\.6\.6.*"msg":"deploy finished"/);
    expect(log).toMatch(/slipway auth failure from 10\.6\.6\.7.*"msg":"deploy finished"/);
    // The filter the README documented before: the forged lines get innocent addresses banned.
    expect(await fail2banAddresses(log, 'slipway auth failure from <HOST>')).toEqual(expect.arrayContaining(['10.6.6.6', '10.6.6.7']));
    // The shipped, anchored filter: only the address that really failed.
    expect(await fail2banAddresses(log, FILTER)).toEqual([DIRECT]);
  });
});

describe('one failed-login limit for the dashboard and git', () => {
  it('11 wrong dashboard tokens and 9 wrong git tokens from one address are the 20 allowed; then both doors answer 429; all are logged', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < 11; i++) expect((await badDashboardLogin(from)).status).toBe(401);
    for (let i = 0; i < 9; i++) expect((await badGitLogin(from)).status).toBe(401);
    const dashboard = await badDashboardLogin(from);
    expect(dashboard.status).toBe(429);
    expect(Number(dashboard.headers['retry-after'])).toBeGreaterThan(0);
    expect((await badGitLogin(from)).status).toBe(429);
    // The right token from that address is refused as well, until the window passes; other addresses are untouched.
    expect((await request({ path: `/${app.name}.git/info/refs?service=git-receive-pack`, headers: { authorization: basic(slipway.token) }, localAddress: from })).status).toBe(429);
    expect((await badDashboardLogin('127.0.0.3')).status).toBe(401);
    const vias = await failureLines(from, 20);
    expect(vias.filter((v) => v === 'dashboard')).toHaveLength(11);
    expect(vias.filter((v) => v === 'git')).toHaveLength(9);
  });
});

describe('slow request bodies', () => {
  it(`50 trickling bodies (dashboard login, anonymous fetch) are closed by the ${BODY_TIMEOUT_S} s deadline while a real push goes through; aborts are not errors`, async () => {
    await slipway.cli(['apps:public-fetch', app.name, 'on']);
    const logBefore = slipway.output().length;
    const login = 'POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n';
    const fetch = `POST /${app.name}.git/git-upload-pack HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-git-upload-pack-request\r\nContent-Length: 1000\r\n\r\n`;
    const giveUpMs = BODY_TIMEOUT_S * 1000 + 20_000;
    const unfinished = 'a'.repeat(999);
    // 10 connections from each of five addresses (under the per-address cap).
    const trickles = Array.from({ length: 50 }, (_, i) =>
      trickleBody(slipway.port, { localAddress: `127.0.0.${10 + (i % 5)}`, head: i % 5 === 4 ? fetch : login, body: unfinished, everyMs: 500, giveUpMs }),
    );
    // And five clients that hang up mid-body themselves.
    const aborts = Array.from({ length: 5 }, () => trickleBody(slipway.port, { localAddress: '127.0.0.16', head: login, body: unfinished, everyMs: 200, giveUpMs, abortAfterMs: 1000 }));

    await writeBusyboxApp(app.dir, { version: 'v2', slipwayJson: SETTINGS });
    await commit(app.dir, 'v2');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    const results = await Promise.all(trickles);
    await Promise.all(aborts);

    expect(push.output).toContain('✔');
    expect(results.filter((r) => r.closedByServer)).toHaveLength(50);
    const longest = Math.max(...results.map((r) => r.closedAfterMs));
    console.log(`50 trickling bodies closed by the server after ${Math.min(...results.map((r) => r.closedAfterMs))}-${longest} ms (deadline ${BODY_TIMEOUT_S} s)`);
    expect(longest).toBeLessThan(BODY_TIMEOUT_S * 1000 + 2000);
    const log = slipway.output().slice(logBefore);
    expect(log).not.toMatch(/"level":50/);
    expect(log).toContain('request body too slow');
    expect(log).toMatch(/"level":20,[^\n]*"msg":"client went away"/);
  });

  it('a body from a client with the token may take longer than the deadline (pushes keep their long limits)', async () => {
    const sha = await new Promise<string>((resolve, reject) => execFile('git', ['rev-parse', 'HEAD'], { cwd: app.dir, encoding: 'utf8' }, (e, out) => (e ? reject(e) : resolve(out.trim()))));
    // A fetch negotiation: the want line at once (node-git-server waits for it in the body's first
    // chunk), then the flush and `done` trickled over about 5 s.
    const want = pkt(`want ${sha}\n`).toString();
    const body = Buffer.concat([FLUSH, pkt('done\n')]).toString();
    const started = Date.now();
    const result = await new Promise<{ status: string; ms: number }>((resolve) => {
      void trickleBody(slipway.port, {
        localAddress: '127.0.0.17',
        head: `POST /${app.name}.git/git-upload-pack HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic(slipway.token)}\r\nContent-Type: application/x-git-upload-pack-request\r\nContent-Length: ${want.length + body.length}\r\nConnection: close\r\n\r\n${want}`,
        body,
        everyMs: Math.ceil((BODY_TIMEOUT_S * 1000 + 2000) / body.length),
        giveUpMs: 30_000,
      }).then((r) => resolve({ status: r.reply.split('\r\n')[0], ms: Date.now() - started }));
    });
    expect(result.ms).toBeGreaterThan(BODY_TIMEOUT_S * 1000);
    expect(result.status).toBe('HTTP/1.1 200 OK');
  });
});

describe('connection caps', () => {
  it(`one address holds at most ${PER_ADDRESS} connections; others still get in; ${MAX_CONNECTIONS} in total`, async () => {
    const greedy = await openIdleConnections(slipway.port, '127.0.0.20', PER_ADDRESS + 10);
    try {
      expect(greedy.open).toBe(PER_ADDRESS);
      expect((await badDashboardLogin('127.0.0.21')).status).toBe(401);
    } finally {
      greedy.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    const crowd = await Promise.all(Array.from({ length: 8 }, (_, i) => openIdleConnections(slipway.port, `127.0.0.${30 + i}`, PER_ADDRESS)));
    try {
      expect(crowd.reduce((n, c) => n + c.open, 0)).toBe(MAX_CONNECTIONS);
    } finally {
      for (const c of crowd) c.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await badDashboardLogin('127.0.0.21')).status).toBe(401);
  });
});

describe('X-Forwarded-For', () => {
  it('through a trusted proxy (a real Apache) names the client, for the limit and the log; from anyone else it is ignored', async () => {
    const apache = stack.apache;
    await fs.writeFile(
      path.join(apache.sitesDir, 'zz-git-proxy.conf'),
      `<VirtualHost *:${apache.port}>\n  ServerName git-proxy.localhost\n  ProxyPass / http://127.0.0.1:${slipway.port}/ retry=0\n</VirtualHost>\n`,
    );
    const reload = await new Promise<string>((resolve) => execFile(apache.apachectl[0], [...apache.apachectl.slice(1), 'graceful'], (e, out, err) => resolve(e ? `${out}${err}` : '')));
    expect(reload).toBe('');
    await new Promise((r) => setTimeout(r, 1000));
    // Apache appends the address it saw to whatever X-Forwarded-For the client sent.
    const viaApache = (from: string, auth = basic('wrong')) =>
      rawRequest(apache.port, {
        path: `/${app.name}.git/info/refs?service=git-receive-pack`,
        headers: { host: 'git-proxy.localhost', authorization: auth, 'x-forwarded-for': '10.6.6.6' },
        localAddress: from,
      });
    for (let i = 0; i < 20; i++) expect((await viaApache('127.0.0.7')).status).toBe(401);
    const limited = await viaApache('127.0.0.7');
    expect(limited.status).toBe(429);
    expect(limited.body).toContain('too many failed logins from 127.0.0.7');
    expect(await failureLines('127.0.0.7', 20)).toHaveLength(20);
    expect(failureLinesNow('10.6.6.6')).toHaveLength(0);
    expect(failureLinesNow('127.0.0.1')).toHaveLength(0);
    // Everyone else behind the same proxy is unaffected, and a good token still works.
    expect((await viaApache('127.0.0.8')).status).toBe(401);
    expect((await viaApache('127.0.0.8', basic(slipway.token))).status).toBe(200);
    expect(await failureLines('127.0.0.8', 1)).toEqual(['git']);

    // Not a trusted proxy: the header is ignored and the peer is the client.
    const untrusted = await badGitLogin('127.0.0.6', { 'x-forwarded-for': '127.0.0.7' });
    expect(untrusted.status).toBe(401);
    expect(await failureLines('127.0.0.6', 1)).toEqual(['git']);
    expect(failureLinesNow('127.0.0.7')).toHaveLength(20);
    expect(await fail2banAddresses(slipway.output(), FILTER)).toEqual(expect.arrayContaining(['127.0.0.7', '127.0.0.8', '127.0.0.6']));
  });
});
