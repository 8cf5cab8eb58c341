/**
 * Upgrading in place from release 0.1.0 (commit 7379769, tag v0.1.0; found by commit id, since a
 * clean clone may carry no tags). The release is built from this repo's own history in a temp
 * worktree, runs on a fresh SLIPWAY_HOME with its embedded Redis, and makes real state: two apps
 * with releases and a rollback, a named token, env:set secrets, a domain override, a webhook,
 * public fetch. Then, under a request stream through Apache on both apps: a deploy running when
 * 0.1.0 gets a clean stop finishes first, a push made while slipway is down is stored, and the
 * current code starts on the same home (and the same embedded Redis directory). After that every
 * app serves the same release, the release history is the same, the named token pushes, the env
 * values reach the new containers, the webhook is told, a rollback works and the stored push and
 * the next pushes deploy. Finally the backup taken between the two versions restores into an
 * empty home that 0.1.0 serves again: the way back.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheInstance } from '../support/apache-instance';
import { freePort } from '../support/free-port';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { buildOldRelease, type OldRelease } from '../support/old-release';
import { startRedis, type RedisInstance } from '../support/redis-instance';
import { startRequestStream, type RequestStream } from '../support/request-stream';
import { removeAppArtifacts, startSlipway, type SlipwayInstance } from '../support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree } from '../support/test-app';

/** Release 0.1.0: the last commit before the architecture issue. */
const RELEASE_0_1_0 = '7379769';
const ROOT = path.resolve(__dirname, '..', '..');
const CURRENT_CLI = path.join(ROOT, 'dist', 'cli.js');
const CURRENT_VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SLIPWAY_JSON = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 0, drain_timeout: 5 };
const SECRET = 's3cret value=with spaces';
const DATABASE_URL = 'postgres://u:p@127.0.0.1:5432/shop';

interface Release {
  number: number;
  sha: string;
  result: string;
  pushedBy: string;
  kind?: string;
}

let old: OldRelease;
let apache: ApacheInstance;
let slipway: SlipwayInstance;
let appA: AppWorktree;
let appB: AppWorktree;
let domainA = '';
let aliceToken = '';
let hookServer: http.Server;
let hookUrl = '';
const hookBodies: { event: string; app: string; sha: string }[] = [];
const sha: Record<string, string> = {};
let backupDir = '';
let restoredRedis: RedisInstance | undefined;
const releasesBefore: Record<string, Release[]> = {};
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

async function writeApp(app: AppWorktree, version: string, extra: { buildSleepSeconds?: number } = {}): Promise<string> {
  await writeBusyboxApp(app.dir, { version, slipwayJson: SLIPWAY_JSON, ...extra });
  // The env the container got, through Apache: proves env:set values reach the containers.
  await fs.writeFile(path.join(app.dir, 'www', 'cgi-bin', 'env'), '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\nSECRET_KEY=%s\\nDATABASE_URL=%s\\n\' "$SECRET_KEY" "$DATABASE_URL"\n', {
    mode: 0o755,
  });
  sha[`${app.name}:${version}`] = await commit(app.dir, version);
  return sha[`${app.name}:${version}`];
}

const urlWith = (user: string, token: string, app: string) => `http://${user}:${token}@127.0.0.1:${slipway.port}/${app}.git`;

/** Writes `version`, pushes it (admin token unless `url`) and expects it live. */
async function pushLive(app: AppWorktree, version: string, url = slipway.remoteUrl(app.name)): Promise<string> {
  const pushed = await writeApp(app, version);
  const push = await gitPush(app.dir, url, ['main']);
  expect(push.output, `${push.output}\n--- slipway ---\n${slipway.output().slice(-4000)}`).toMatch(new RegExp(`✔ ${app.name} ${pushed.slice(0, 7)} live on port \\d+`));
  return push.output;
}

async function served(app: AppWorktree, host = `${app.name}.localhost`, route = '/'): Promise<string> {
  return (await httpGet(apache.port, route, host)).body.trim();
}

async function waitUntilServed(app: AppWorktree, version: string, host?: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await served(app, host).catch((err: Error) => err.message);
    if (last === `version=${version}`) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${app.name} did not serve ${version} within ${timeoutMs} ms (last: ${last})\n${slipway.output().slice(-4000)}`);
}

async function cli(args: string[]): Promise<string> {
  const result = await slipway.cli(args);
  expect(result.code, `slipway ${args.join(' ')}:\n${result.output}`).toBe(0);
  return result.output;
}

async function releases(app: AppWorktree): Promise<Release[]> {
  return JSON.parse(await cli(['releases', app.name, '--json'])) as Release[];
}

/** `git ls-remote` without credentials (what public fetch allows) or with them. */
function lsRemote(url: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('git', ['ls-remote', url, 'refs/heads/main'], { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, output: `${stdout}${stderr}` }),
    );
  });
}

function runFile(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/**
 * Waits until the worker runs the deploy of `commitSha` and has reached its build (its deploy log,
 * named after the deploy id that carries the sha, says so): a clean stop now must let it finish.
 */
async function waitForBuilding(app: AppWorktree, commitSha: string, timeoutMs = 60_000): Promise<void> {
  const dir = path.join(slipway.home, 'deploys', app.name);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const file of (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.includes(commitSha.slice(0, 12)))) {
      if (/building/i.test(await fs.readFile(path.join(dir, file), 'utf8').catch(() => ''))) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the deploy of ${app.name} ${commitSha.slice(0, 7)} did not start building within ${timeoutMs} ms\n${slipway.output().slice(-3000)}`);
}

/**
 * Starts only the git server of `cliPath` on the restored `home` (a worker would deploy onto this
 * machine's live apps), on its own port and Redis, and checks it lists the apps with the releases
 * they had before the upgrade and serves their repos to the admin and the named token.
 */
async function expectRestoredHomeServed(home: string, cliPath: string, redis: string): Promise<void> {
  const port = await freePort();
  const env = {
    ...process.env,
    SLIPWAY_HOME: home,
    SLIPWAY_PORT: String(port),
    SLIPWAY_HOST: '127.0.0.1',
    SLIPWAY_TOKEN: slipway.token,
    REDIS_URL: redis,
    SLIPWAY_QUEUE: `restored-${randomBytes(4).toString('hex')}`,
    SLIPWAY_LOG_LEVEL: 'warn',
  };
  const server = spawn(process.execPath, [cliPath, 'server'], { env, stdio: 'ignore' });
  try {
    const deadline = Date.now() + 30_000;
    let refs = { code: 1, output: '' };
    while (Date.now() < deadline && refs.code !== 0) {
      refs = await lsRemote(`http://git:${slipway.token}@127.0.0.1:${port}/${appB.name}.git`);
      if (refs.code !== 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(refs.output, `${cliPath} on the restored home`).toContain(sha[`${appB.name}:v3`]);
    expect((await lsRemote(`http://alice:${aliceToken}@127.0.0.1:${port}/${appA.name}.git`)).output).toContain(sha[`${appA.name}:v3`]);
    const apps = JSON.parse((await runFile(process.execPath, [cliPath, 'apps', '--json'], env)).output) as { app: string }[];
    expect(apps.map((a) => a.app).sort()).toEqual([appA.name, appB.name].sort());
    for (const app of [appA, appB]) {
      const listed = JSON.parse((await runFile(process.execPath, [cliPath, 'releases', app.name, '--json'], env)).output) as Release[];
      releasesBefore[app.name].forEach((r, i) => expect(listed[i]).toMatchObject(r));
      expect(listed).toHaveLength(releasesBefore[app.name].length);
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once('exit', r)));
  }
}

beforeAll(async () => {
  old = await buildOldRelease(RELEASE_0_1_0);
  console.log(`[upgrade] 0.1.0 built from ${RELEASE_0_1_0}: checkout ${old.buildMs.checkout} ms, npm ci ${old.buildMs.npmCi} ms, build ${old.buildMs.build} ms`);
  apache = await startApache();
  hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hookBodies.push(JSON.parse(body) as { event: string; app: string; sha: string });
      res.end('ok');
    });
  });
  const hookPort = await freePort();
  await new Promise<void>((resolve) => hookServer.listen(hookPort, '127.0.0.1', () => resolve()));
  hookUrl = `http://127.0.0.1:${hookPort}/hook`;
  // A private block of app ports: other slipway instances on this Docker engine use the default range.
  const portBase = 20_000 + 50 * Math.floor(Math.random() * 200);
  // No REDIS_URL: 0.1.0 runs its embedded Redis under SLIPWAY_HOME, as an operator's default
  // install does, and the current code must start it again from the same directory.
  slipway = await startSlipway({ apache, cli: old.cli, env: { SLIPWAY_PORT_RANGE: `${portBase}-${portBase + 49}`, SLIPWAY_LOG_LEVEL: 'info' } });
  const suffix = randomBytes(3).toString('hex');
  appA = await createAppWorktree({ name: `upg-a-${suffix}` });
  appB = await createAppWorktree({ name: `upg-b-${suffix}` });
  domainA = `${appA.name}.example.test`;
  backupDir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-upgrade-backup-'));
}, 600_000);

afterAll(async () => {
  await slipway?.stop();
  await restoredRedis?.stop();
  for (const app of [appA, appB]) {
    if (!app) continue;
    await removeAppArtifacts(app.name);
    await app.remove();
  }
  await apache?.stop();
  await new Promise<void>((resolve) => (hookServer ? hookServer.close(() => resolve()) : resolve()));
  await old?.remove();
  if (backupDir) await fs.rm(backupDir, { recursive: true, force: true });
  console.log(`[upgrade] whole file took ${elapsed()}`);
}, 300_000);

describe(`upgrade in place from 0.1.0 (${RELEASE_0_1_0}) to this tree`, () => {
  const liveBefore: Record<string, number> = {};
  let streams: RequestStream[] = [];

  it('0.1.0, built from the repo history, makes real state: releases and a rollback, a named token, env secrets, a domain, a webhook, public fetch', async () => {
    expect((await runFile(process.execPath, [old.cli, '--help'], process.env)).output).toContain('slipway');
    await pushLive(appA, 'v1');
    const added = await cli(['tokens', 'add', 'alice']);
    aliceToken = /\n\n\s+(\S+)\n/.exec(added)?.[1] ?? '';
    expect(aliceToken, added).not.toBe('');
    await pushLive(appA, 'v2', urlWith('alice', aliceToken, appA.name));
    expect(await served(appA)).toBe('version=v2');
    await cli(['rollback', appA.name]);
    expect(await served(appA)).toBe('version=v1');
    await cli(['env:set', appA.name, `SECRET_KEY=${SECRET}`, `DATABASE_URL=${DATABASE_URL}`]);
    await cli(['domains:set', appA.name, domainA]);
    await cli(['webhooks:add', appA.name, hookUrl]);
    expect(await served(appA, domainA)).toBe('version=v1');
    expect(await served(appA, domainA, '/cgi-bin/env')).toBe(`SECRET_KEY=${SECRET}\nDATABASE_URL=${DATABASE_URL}`);

    await pushLive(appB, 'v1');
    await pushLive(appB, 'v2');
    await cli(['apps:public-fetch', appB.name, 'on']);
    expect((await lsRemote(`http://127.0.0.1:${slipway.port}/${appB.name}.git`)).output).toContain(sha[`${appB.name}:v2`]);

    const a = await releases(appA);
    expect(a.map((r) => [r.number, r.result, r.pushedBy])).toEqual([
      [1, 'live', 'admin'],
      [2, 'live', 'alice'],
      [3, 'live', expect.any(String)],
      [4, 'live', expect.any(String)],
      [5, 'live', expect.any(String)],
    ]);
    expect(a[2].sha).toBe(sha[`${appA.name}:v1`]);
    console.log(`[upgrade] 0.1.0 state made at ${elapsed()}`);
  }, 300_000);

  it('a deploy running when 0.1.0 gets a clean stop finishes first; a push made while slipway is down is stored; apps keep serving', async () => {
    // The current code's first start moves each app from 0.1.0's vhost to the routes vhost: one
    // graceful reload each, which closes idle kept-alive connections; a GET reset on one is sent
    // again on a fresh connection, as a browser does, and counted apart (see request-stream.ts).
    const stream = (host: string) => startRequestStream(apache.port, host, '/', 20, { retryReusedReset: true });
    streams = [stream(domainA), stream(`${appB.name}.localhost`)];
    const v3 = await writeApp(appA, 'v3', { buildSleepSeconds: 3 });
    const pushing = gitPush(appA.dir, slipway.remoteUrl(appA.name), ['main']);
    await waitForBuilding(appA, v3);
    const stopAt = Date.now();
    await slipway.shutdown();
    const stoppedAt = Date.now();
    const push = await pushing;
    expect(push.output).toMatch(new RegExp(`✔ ${appA.name} ${sha[`${appA.name}:v3`].slice(0, 7)} live`));
    console.log(`[upgrade] clean stop of 0.1.0 waited ${stoppedAt - stopAt} ms for the running deploy`);
    expect(await served(appA, domainA)).toBe('version=v3');

    // Taken with 0.1.0's tools while slipway is down: the records as 0.1.0 left them.
    for (const app of [appA, appB]) {
      releasesBefore[app.name] = await releases(app);
      liveBefore[app.name] = releasesBefore[app.name].filter((r) => r.result === 'live').at(-1)?.number ?? 0;
    }
    expect(releasesBefore[appA.name].at(-1)).toMatchObject({ number: 6, sha: sha[`${appA.name}:v3`], result: 'live' });

    // What an ssh push runs: git stores it, 0.1.0's hook finds no server.
    await writeApp(appB, 'v3');
    const stored = await gitPush(appB.dir, path.join(slipway.home, 'repos', `${appB.name}.git`), ['main']);
    expect(stored.code, stored.output).toBe(0);
    expect(stored.output).toContain('no running slipway server found');

    // The current CLI's backup of 0.1.0's state, before the current code touches it.
    const backup = await runFile(process.execPath, [CURRENT_CLI, 'backup', '--output', path.join(backupDir, 'before-upgrade.tar.gz'), '--with-repos'], { ...process.env, SLIPWAY_HOME: slipway.home });
    expect(backup.code, backup.output).toBe(0);
  }, 180_000);

  it('the current code starts on the same home: 0 failed requests across the version change, the stored push deploys', async () => {
    await slipway.restart({}, CURRENT_CLI);
    console.log(`[upgrade] current code (${CURRENT_VERSION}) started at ${elapsed()}`);
    await waitUntilServed(appB, 'v3');
    await new Promise((r) => setTimeout(r, 1000));
    const [a, b] = await Promise.all(streams.map((s) => s.stop()));
    console.log(
      `[upgrade] request streams across the version change: ${appA.name} ${a.total} requests, ${a.failed} failed, ${a.retried} retried after a reset of a kept-alive connection; ${appB.name} ${b.total} requests, ${b.failed} failed, ${b.retried} retried`,
    );
    expect(a.failures).toEqual([]);
    expect(b.failures).toEqual([]);
    expect([...a.bodies.keys()]).toEqual(expect.arrayContaining(['version=v1', 'version=v3']));
    expect([...b.bodies.keys()]).toEqual(expect.arrayContaining(['version=v2', 'version=v3']));
    // port-maps-beside-sites: 0.1.0's port maps moved beside the sites directory, a symlink left in
    // their place; 0.1.0's per-app vhosts went (the routes vhost serves both apps through the host map).
    const maps = path.join(path.dirname(apache.sitesDir), 'slipway-maps');
    for (const app of [appA, appB]) {
      expect(await fs.readlink(path.join(slipway.home, 'apache', `${app.name}.map`))).toBe(path.join(maps, `${app.name}.map`));
      expect(await fs.readdir(apache.sitesDir)).not.toContain(`${app.name}.conf`);
    }
    expect(await fs.readFile(path.join(maps, 'hosts.map'), 'utf8')).toContain(`${domainA} `);
  }, 180_000);

  it('every app serves the same release, the release history is the same, tokens, env, domain, webhooks and public fetch are kept', async () => {
    const a = await releases(appA);
    expect(a).toHaveLength(releasesBefore[appA.name].length);
    releasesBefore[appA.name].forEach((r, i) => expect(a[i]).toMatchObject(r));
    const b = await releases(appB);
    releasesBefore[appB.name].forEach((r, i) => expect(b[i]).toMatchObject(r));
    expect(b.slice(releasesBefore[appB.name].length)).toMatchObject([{ sha: sha[`${appB.name}:v3`], result: 'live' }]);

    const status = JSON.parse(await cli(['status', appA.name, '--json'])) as { release: number; sha: string; container: string }[];
    expect(status[0]).toMatchObject({ release: liveBefore[appA.name], sha: sha[`${appA.name}:v3`], container: 'running' });
    expect(await served(appA, domainA)).toBe('version=v3');
    expect(await served(appA, domainA, '/cgi-bin/env')).toBe(`SECRET_KEY=${SECRET}\nDATABASE_URL=${DATABASE_URL}`);

    expect((JSON.parse(await cli(['tokens', 'list', '--json'])) as { name: string }[]).map((t) => t.name)).toContain('alice');
    expect(JSON.parse(await cli(['env:get', appA.name, '--reveal', '--json']))).toEqual({ SECRET_KEY: SECRET, DATABASE_URL });
    expect(JSON.parse(await cli(['webhooks', appA.name, '--json']))).toEqual([hookUrl]);
    expect((await lsRemote(`http://127.0.0.1:${slipway.port}/${appB.name}.git`)).output).toContain(sha[`${appB.name}:v3`]);
    expect((await lsRemote(`http://127.0.0.1:${slipway.port}/${appA.name}.git`)).code).not.toBe(0);
    expect((await cli(['--version'])).trim()).toBe(CURRENT_VERSION);
  }, 120_000);

  it("alice's token pushes, the env reaches the new container, the webhook is told, a rollback works, the next push deploys", async () => {
    const output = await pushLive(appA, 'v4', urlWith('alice', aliceToken, appA.name));
    expect(output).toContain(`remote: -----> slipway ${CURRENT_VERSION}`);
    expect(await served(appA, domainA)).toBe('version=v4');
    expect(await served(appA, domainA, '/cgi-bin/env')).toBe(`SECRET_KEY=${SECRET}\nDATABASE_URL=${DATABASE_URL}`);
    expect((await releases(appA)).at(-1)).toMatchObject({ sha: sha[`${appA.name}:v4`], pushedBy: 'alice', result: 'live' });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !hookBodies.some((h) => h.event === 'deploy.succeeded' && h.sha === sha[`${appA.name}:v4`])) await new Promise((r) => setTimeout(r, 100));
    expect(hookBodies.filter((h) => h.sha === sha[`${appA.name}:v4`]).map((h) => h.event)).toContain('deploy.succeeded');

    await cli(['rollback', appA.name]);
    expect(await served(appA, domainA)).toBe('version=v3');
    await pushLive(appB, 'v4');
    expect(await served(appB)).toBe('version=v4');
  }, 180_000);

  it("the current code's clean stop also lets a running deploy finish, with 0 failed requests across its restart", async () => {
    const stream = startRequestStream(apache.port, `${appB.name}.localhost`, '/', 20);
    const v5 = await writeApp(appB, 'v5', { buildSleepSeconds: 3 });
    const pushing = gitPush(appB.dir, slipway.remoteUrl(appB.name), ['main']);
    await waitForBuilding(appB, v5);
    await slipway.shutdown();
    expect((await pushing).output).toMatch(new RegExp(`✔ ${appB.name} ${v5.slice(0, 7)} live`));
    await slipway.restart();
    expect(await served(appB)).toBe('version=v5');
    const result = await stream.stop();
    console.log(`[upgrade] request stream across the current code's stop and start: ${result.total} requests, ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    expect((await releases(appB)).at(-1)).toMatchObject({ sha: v5, result: 'live' });
  }, 180_000);

  it('the backup taken before the upgrade restores into an empty home: 0.1.0 serves it (the way back), and so does the current code', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-restored-'));
    const untar = await runFile('tar', ['-xzf', path.join(backupDir, 'before-upgrade.tar.gz'), '-C', home], process.env);
    expect(untar.code, untar.output).toBe(0);
    restoredRedis = await startRedis();
    try {
      for (const cliPath of [old.cli, CURRENT_CLI]) await expectRestoredHomeServed(home, cliPath, restoredRedis.socketPath);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  }, 120_000);
});
