/**
 * Attacks against the running server: nobody deploys without a token, hostile names and refs
 * change nothing, broken pushes and hook requests queue nothing, the embedded Redis is out of a
 * deployed app's reach.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApacheInstance } from '../support/apache-instance';
import { gitPush } from '../support/git-client';
import { hookExchange } from '../support/hook-socket-client';
import { rawRequest } from '../support/raw-http';
import type { RedisInstance } from '../support/redis-instance';
import { removeAppArtifacts, startSlipway, type SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let apache: ApacheInstance;
let redis: RedisInstance;
let slipway: SlipwayInstance;
let app: AppWorktree;
const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 0 };
const PWN = `/tmp/slipway-pwn-${randomBytes(4).toString('hex')}`;

/** A raw HTTP request to slipway, optionally from another loopback source address. */
const raw = (options: { method?: string; path: string; auth?: string; body?: Buffer | string; localAddress?: string; timeoutMs?: number }) =>
  rawRequest(slipway.port, { ...options, headers: { ...(options.auth ? { authorization: options.auth } : {}), 'content-type': 'application/x-git-receive-pack-request' } });

const basic = (password: string) => `Basic ${Buffer.from(`git:${password}`).toString('base64')}`;
const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
const remoteMain = () =>
  new Promise<string>((resolve) =>
    execFile('git', ['ls-remote', slipway.remoteUrl(app.name), 'refs/heads/main'], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (e, out, err) =>
      resolve(e ? `ls-remote failed: ${err}` : (out.split('\t')[0] ?? '')),
    ),
  );
const hookSocket = () => path.join(slipway.home, 'run', 'hook.sock');
/** A hook request that redeploys the live commit, from a push no HTTP receive-pack registered (so: ssh). */
const redeployRequest = async () => ({ app: app.name, refUpdates: `${'0'.repeat(40)} ${await remoteMain()} refs/heads/main\n`, pushOptions: [], receivePackPid: 1, user: 'mallory' });
async function jobCount(): Promise<number> {
  const connection = new Redis({ path: redis.socketPath, maxRetriesPerRequest: null });
  const queue = new Queue(slipway.queueName, { connection });
  try {
    const counts = await queue.getJobCounts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

beforeAll(async () => {
  stack = await startTestStack({ SLIPWAY_MAX_PUSH_BYTES: String(4 * 1024 * 1024), SLIPWAY_AUTH_MAX_FAILURES: '20' });
  ({ apache, redis, slipway } = stack);
  app = await stack.newApp();
  await writeBusyboxApp(app.dir, { version: 'v1', slipwayJson: SETTINGS });
  await commit(app.dir, 'v1');
  const first = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
  expect(first.output).toContain('✔');
});

afterAll(async () => {
  await stack?.stop();
  await fs.rm(PWN, { force: true });
});

describe('authentication', () => {
  it('an unauthenticated, hand-made receive-pack POST gets 401 and changes no ref', async () => {
    const before = await remoteMain();
    const body = `${pkt(`${before} ${'0'.repeat(40)} refs/heads/main\0 report-status\n`)}0000`;
    const res = await raw({ method: 'POST', path: `/${app.name}.git/git-receive-pack`, body });
    expect(res.status).toBe(401);
    expect(await remoteMain()).toBe(before);
  });

  it('a wrong password, a bad Bearer token and a non-Basic scheme get 401 at once, no hang', async () => {
    for (const auth of [basic('wrong'), 'Bearer not-the-token', 'Digest username="git"', 'Basic %%%notbase64']) {
      const res = await raw({ path: `/${app.name}.git/info/refs?service=git-receive-pack`, auth, timeoutMs: 3000, localAddress: '127.0.0.9' });
      expect(res.status, auth).toBe(401);
    }
  });

  it('100 bad attempts from one address get 429 with Retry-After, while a good client from another address still pushes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      statuses.push((await raw({ path: `/${app.name}.git/info/refs?service=git-upload-pack`, auth: basic(`guess-${i}`), localAddress: '127.0.0.3' })).status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    const limited = await raw({ path: `/${app.name}.git/info/refs?service=git-upload-pack`, auth: basic(slipway.token), localAddress: '127.0.0.3' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    await writeBusyboxApp(app.dir, { version: 'v2', slipwayJson: SETTINGS });
    const v2 = await commit(app.dir, 'v2');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toContain('✔');
    expect(await remoteMain()).toBe(v2);
    expect(slipway.output()).toContain('slipway auth failure from 127.0.0.3');
  });

  it('named tokens: the name is recorded as the pusher, and a revoked token pushes no more', async () => {
    const added = await slipway.cli(['tokens', 'add', 'alice']);
    const token = /^\s{4}(\S+)$/m.exec(added.output)?.[1] as string;
    expect(token).toBeTruthy();
    expect((await slipway.cli(['tokens', 'list'])).output).not.toContain(token);
    const url = slipway.remoteUrl(app.name).replace(slipway.token, token);
    await writeBusyboxApp(app.dir, { version: 'v3', slipwayJson: SETTINGS });
    await commit(app.dir, 'v3');
    expect((await gitPush(app.dir, url, ['main'])).output).toContain('✔');
    const releases = JSON.parse((await slipway.cli(['releases', app.name, '--json'])).output) as { pushedBy: string }[];
    expect(releases.at(-1)?.pushedBy).toBe('alice');

    await slipway.cli(['tokens', 'revoke', 'alice']);
    await commit(app.dir, 'v3 again');
    const refused = await gitPush(app.dir, url, ['main']);
    expect(refused.code).not.toBe(0);
  });
});

describe('hostile input', () => {
  it('hostile app names are refused before anything is created', async () => {
    const names = [
      '$(touch%20' + encodeURIComponent(PWN) + ')',
      '%60touch%20' + encodeURIComponent(PWN) + '%60',
      'a%3Btouch%20x',
      '-rf',
      '..%2F..%2Fetc',
      '%2e%2e',
      '..',
      'a%00b',
      'UPPER',
      'x'.repeat(1024),
    ];
    const before = await fs.readdir(path.join(slipway.home, 'repos'));
    for (const name of names) {
      const res = await raw({ path: `/${name}.git/info/refs?service=git-receive-pack`, auth: basic(slipway.token) });
      expect([400, 404, 414], name).toContain(res.status);
    }
    const viaGit = await gitPush(app.dir, `http://git:${slipway.token}@127.0.0.1:${slipway.port}/$(touch ${PWN}).git`, ['main']);
    expect(viaGit.code).not.toBe(0);
    expect(await fs.readdir(path.join(slipway.home, 'repos'))).toEqual(before);
    await expect(fs.access(PWN)).rejects.toThrow();
  });

  it('hostile ref names are stored as git allows but never deployed, and nothing runs', async () => {
    const live = await remoteMain();
    const refs = ['refs/heads/$(touch${IFS}pwned)', 'refs/heads/`touch${IFS}pwned`', 'refs/heads/a;touch${IFS}pwned', 'refs/heads/-rf', 'refs/heads/main00x', `refs/heads/${'r'.repeat(240)}`];
    const push = await gitPush(
      app.dir,
      slipway.remoteUrl(app.name),
      refs.map((r) => `HEAD:${r}`),
    );
    for (const ref of refs) expect(push.output).toContain(`${ref}: not the deploy branch (main), not deployed`);
    expect(push.output).not.toContain('-----> Deploying');
    expect(await remoteMain()).toBe(live);
    const created = (await fs.readdir(slipway.home, { recursive: true })).filter((f) => path.basename(String(f)) === 'pwned');
    expect(created).toEqual([]);
  });
});

describe('broken pushes', () => {
  it('a truncated pack and a client that disconnects mid-push change no ref and queue nothing', async () => {
    const before = await remoteMain();
    const jobsBefore = await jobCount();
    const fake = randomBytes(40).toString('hex').slice(0, 40);
    const commands = `${pkt(`${before} ${fake} refs/heads/main\0 report-status\n`)}0000`;
    const truncated = Buffer.concat([Buffer.from(commands), Buffer.from('PACK\0\0\0\x02\0\0\0\x03'), randomBytes(64)]);
    const res = await raw({ method: 'POST', path: `/${app.name}.git/git-receive-pack`, auth: basic(slipway.token), body: truncated });
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('ok refs/heads/main');

    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port: slipway.port,
        method: 'POST',
        path: `/${app.name}.git/git-receive-pack`,
        headers: { authorization: basic(slipway.token), 'transfer-encoding': 'chunked' },
      });
      req.on('error', () => resolve());
      req.write(commands);
      req.write(Buffer.from('PACK\0\0\0\x02\0\0\0\x05'));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await remoteMain()).toBe(before);
    expect(await jobCount()).toBe(jobsBefore);
  });

  it('the hook socket: owner only; a malformed request gets a plain error, exit 1 and queues nothing', async () => {
    expect((await fs.stat(path.dirname(hookSocket()))).mode & 0o777).toBe(0o700);
    expect((await fs.stat(hookSocket())).mode & 0o777).toBe(0o600);
    const jobsBefore = await jobCount();
    const valid = await redeployRequest();
    const bad: [string, string][] = [
      ['not json\n', 'not valid JSON ('],
      [`${JSON.stringify({ ...valid, receivePackPid: undefined })}\n`, 'receivePackPid: is required'],
      [`${JSON.stringify({ ...valid, exec: `touch ${PWN}` })}\n`, 'unknown field "exec" (known: app, refUpdates, pushOptions, receivePackPid, user)'],
      [`${JSON.stringify({ ...valid, user: 'mallory\nslipway: forged' })}\n`, 'user: expected printable text, got "mallory\\nslipway: forged"'],
    ];
    for (const [request, problem] of bad) {
      const [line, exit] = (await hookExchange(hookSocket(), request)) as [{ line: string }, { exit: number }];
      expect(line.line.startsWith(`slipway: bad hook request: ${problem}`), line.line).toBe(true);
      expect(exit).toEqual({ exit: 1 });
    }
    expect(await jobCount()).toBe(jobsBefore);
    await expect(fs.access(PWN)).rejects.toThrow();
  });

  it('a hook that hangs up mid-deploy: the deploy goes on, the server keeps serving', async () => {
    // The first line names slipway's version, the second the queued job; then the hook hangs up.
    const lines = (await hookExchange(hookSocket(), `${JSON.stringify(await redeployRequest())}\n`, { hangUpAfter: 2 })) as { line: string }[];
    const jobId = lines.map((l) => /, job (\S+)$/.exec(l.line)?.[1]).find((id) => id !== undefined) as string;
    expect(jobId).toBeTruthy();
    expect((await slipway.cli(['deploys', app.name, jobId])).output).toMatch(/✔ .* live/);
    const releases = JSON.parse((await slipway.cli(['releases', app.name, '--json'])).output) as { pushedBy: string }[];
    expect(releases.at(-1)?.pushedBy).toBe('ssh:mallory');
    expect(slipway.output()).not.toMatch(/hook request failed|hook socket error|uncaught|unhandled/i);
  });

  it('a push over the size limit is cut off and changes nothing', async () => {
    const before = await remoteMain();
    await fs.writeFile(path.join(app.dir, 'big.bin'), randomBytes(8 * 1024 * 1024));
    await commit(app.dir, 'too big');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.code).not.toBe(0);
    expect(await remoteMain()).toBe(before);
    await fs.rm(path.join(app.dir, 'big.bin'));
  });
});

describe('the embedded Redis', () => {
  let embedded: SlipwayInstance;
  let other: AppWorktree;

  afterAll(async () => {
    await embedded?.stop();
    if (other) await removeAppArtifacts(other.name);
    await other?.remove();
  });

  it('listens on a private unix socket only: a deployed app cannot reach it', async () => {
    embedded = await startSlipway({ apache });
    other = await createAppWorktree();
    await writeBusyboxApp(other.dir, { version: 'e1', slipwayJson: SETTINGS });
    await commit(other.dir, 'e1');
    expect((await gitPush(other.dir, embedded.remoteUrl(other.name), ['main'])).output).toContain('✔');
    const socket = path.join(embedded.home, 'redis', 'redis.sock');
    expect((await fs.stat(socket)).isSocket()).toBe(true);
    const tryFromApp = (script: string) =>
      new Promise<{ code: number; out: string }>((resolve) => execFile('docker', ['exec', other.name, 'sh', '-c', script], (e, out, err) => resolve({ code: e ? 1 : 0, out: `${out}${err}` })));
    expect((await tryFromApp(`ls ${socket}`)).code).not.toBe(0);
    expect((await tryFromApp('printf "PING\\r\\n" | nc -w 2 127.0.0.1 6379')).out).not.toContain('PONG');
    const listeners = await fs.readFile('/proc/net/tcp', 'utf8');
    expect(listeners).not.toMatch(/:18EB 00000000:0000 0A/);
  });
});
