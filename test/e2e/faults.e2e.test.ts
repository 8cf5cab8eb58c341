/**
 * Fault injection on the real stack: crashes at every point of a deploy, a Redis restart, apps
 * that never get healthy, a stranger on the chosen port, concurrent pushes, an old app that
 * ignores SIGTERM, an unwritable state directory. After each: exactly one container serves, the
 * pushed commit is live or reported failed with a reason, nothing is left behind.
 *
 * Request streams: every crash case keeps a stream through Apache running across the crash and
 * the restart and allows 0 failed requests — the old or the new container serves at every moment
 * (the crash stops slipway, not the containers or Apache).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheInstance } from '../support/apache-instance';
import { waitUntil } from '../support/wait-until';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startRedis, type RedisInstance } from '../support/redis-instance';
import { startRequestStream } from '../support/request-stream';
import { appContainers, removeAppArtifacts, startSlipway, type SlipwayInstance } from '../support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree, type BusyboxAppOptions } from '../support/test-app';

let apache: ApacheInstance;
let redis: RedisInstance;
let slipway: SlipwayInstance;
let app: AppWorktree;
const extraApps: AppWorktree[] = [];
const PORT_RANGE = { first: 18300, last: 18399 };
const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 1, drain_timeout: 5 };

const host = (name = app.name) => `${name}.localhost`;
const served = async (name = app.name) => (await httpGet(apache.port, '/', host(name)).catch(() => ({ body: 'unreachable' }))).body.trim();
const short = (sha: string) => sha.slice(0, 7);

interface Release {
  sha: string;
  result: string;
  reason?: string;
  port?: number;
}
const releases = async (name = app.name) =>
  (JSON.parse(await fs.readFile(path.join(slipway.home, 'releases', `${name}.json`), 'utf8').catch(() => '{"releases":[]}')) as { releases: Release[] }).releases;

async function version(name: string, options: Partial<BusyboxAppOptions> = {}, worktree = app): Promise<string> {
  await writeBusyboxApp(worktree.dir, { version: name, slipwayJson: SETTINGS, ...options });
  return commit(worktree.dir, name);
}

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  return waitUntil(what, probe, timeoutMs, () => slipway.output());
}

/** The app's deploy log that mentions `sha`, once it contains `text`. */
async function waitForLog(sha: string, text: string): Promise<void> {
  const dir = path.join(slipway.home, 'deploys', app.name);
  await waitFor(`"${text}" in the deploy log of ${short(sha)}`, async () => {
    for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
      if (file.includes(sha.slice(0, 12)) && (await fs.readFile(path.join(dir, file), 'utf8')).includes(text)) return true;
    }
    return undefined;
  });
}

/** What must hold after every fault: one container, nothing pending, no leftovers, Apache on the live port. */
async function expectCleanState(liveSha: string): Promise<void> {
  expect(await appContainers(app.name)).toEqual([app.name]);
  const live = (await releases()).filter((r) => r.result === 'live').at(-1);
  expect(live?.sha).toBe(liveSha);
  expect((await releases()).filter((r) => r.result === 'deploying')).toEqual([]);
  const map = await fs.readFile(path.join(slipway.home, 'apache', `${app.name}.map`), 'utf8');
  const label = await docker(['inspect', '--format', '{{index .Config.Labels "slipway.port"}}', app.name]);
  expect(map).toBe(`# slipway port map, format 3\nupstream 127.0.0.1:${label.trim()}\n`);
  // Build work trees are kept between deploys, one per app (their git data in worktrees/.git); nothing else is left in there.
  const apps = (await fs.readdir(path.join(slipway.home, 'repos'))).map((repo) => repo.replace(/\.git$/, ''));
  const trees = (await fs.readdir(path.join(slipway.home, 'worktrees'))).filter((name) => name !== '.git');
  expect(trees).toContain(app.name);
  expect(apps).toEqual(expect.arrayContaining(trees));
  expect(apps).toEqual(expect.arrayContaining(await fs.readdir(path.join(slipway.home, 'worktrees', '.git'))));
}

/**
 * Pushes a new version to a slipway that SIGKILLs itself right after `step`, optionally wipes
 * Redis while it is down, restarts it, and waits until the version is live. Returns its sha.
 */
async function crashAfter(step: string, version_: string, options: { wipeRedis?: boolean } = {}): Promise<string> {
  const sha = await version(version_);
  await slipway.shutdown();
  await slipway.restart({ SLIPWAY_TEST_CRASH_AFTER_STEP: step });
  await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'], { pushOptions: ['no-wait'] });
  await slipway.exited();
  if (options.wipeRedis) {
    const client = new Redis({ path: redis.socketPath });
    await client.flushall();
    client.disconnect();
  }
  await slipway.restart();
  await waitFor('the commit to be live', async () => ((await releases()).some((r) => r.sha === sha && r.result === 'live') ? true : undefined));
  expect(await served()).toBe(`version=${version_}`);
  return sha;
}

function docker(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('docker', args, (_e, out) => resolve(out)));
}

beforeAll(async () => {
  apache = await startApache();
  redis = await startRedis();
  slipway = await startSlipway({
    apache,
    redis: redis.socketPath,
    env: { SLIPWAY_JOB_LOCK_MS: '4000', SLIPWAY_PORT_RANGE: `${PORT_RANGE.first}-${PORT_RANGE.last}`, SLIPWAY_STOP_GRACE: '2' },
  });
  app = await createAppWorktree();
  await version('v0');
  expect((await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'])).output).toContain('✔');
});

afterAll(async () => {
  await slipway?.stop();
  for (const a of [app, ...extraApps]) {
    if (!a) continue;
    await removeAppArtifacts(a.name);
    await a.remove();
  }
  await apache?.stop();
  await redis?.stop();
});

describe('worker killed mid-deploy (SIGKILL), then restarted', () => {
  it('(a) during the build: the pushed commit goes live after the restart; no request dropped', async () => {
    const stream = startRequestStream(apache.port, host(), '/', 10);
    // The sleep keeps the build running for the 5 s in which the worker is killed.
    const sha = await version('crash-build', { buildSleepSeconds: 5 });
    await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'], { pushOptions: ['no-wait'] });
    await waitForLog(sha, 'RUN ["/bin/sleep","5"]');
    await slipway.crash();
    await slipway.restart();
    await waitFor('the commit to be served', async () => ((await served()) === 'version=crash-build' ? true : undefined));
    await waitFor('the release record', async () => ((await releases()).some((r) => r.sha === sha && r.result === 'live') ? true : undefined));
    const stats = await stream.stop();
    expect(stats.failures).toEqual([]);
    await expectCleanState(sha);
  });

  for (const step of ['start', 'switch', 'retire'] as const) {
    const label = { start: '(b) after the pending container started', switch: '(c) right after the Apache switch', retire: '(d) between stopping the old container and the rename' }[step];
    it(`${label}: the re-run adopts what was done, one container serves; no request dropped`, async () => {
      const stream = startRequestStream(apache.port, host(), '/', 10);
      const sha = await crashAfter(step, `crash-${step}`);
      const stats = await stream.stop();
      expect(stats.failures).toEqual([]);
      await expectCleanState(sha);
      if (step === 'start') await waitForLog(sha, `-----> Adopting ${app.name}-pending`);
    });
  }
});

describe('a newer push reaches a deploy cut off after its switch', () => {
  it('the interrupted deploy is settled first (never removed while it serves), then the newer commit goes live; no request dropped', async () => {
    const stream = startRequestStream(apache.port, host(), '/', 10);
    const cut = await version('cut-after-switch');
    await slipway.shutdown();
    await slipway.restart({ SLIPWAY_TEST_CRASH_AFTER_STEP: 'switch' });
    await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'], { pushOptions: ['no-wait'] });
    await slipway.exited();
    // Traffic is on the cut-off deploy's pending container now; the newer push arrives with the
    // restart, and its job may get the app before the killed job is run again.
    const newer = await version('newer-than-cut');
    await slipway.restart();
    await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'], { pushOptions: ['no-wait'] });
    await waitFor('the newer commit to be live', async () => ((await releases()).some((r) => r.sha === newer && r.result === 'live') ? true : undefined));
    await waitFor('the cut-off deploy to be closed', async () => ((await releases()).some((r) => r.sha === cut && r.result === 'deploying') ? undefined : true));
    const stats = await stream.stop();
    expect(stats.failures).toEqual([]);
    expect(await served()).toBe('version=newer-than-cut');
    await expectCleanState(newer);
  });
});

describe('crash and a lost Redis (queue wiped) at once', () => {
  it('crash right after the switch, queue lost: reconcile finishes the deploy (traffic was already on it)', async () => {
    const sha = await crashAfter('switch', 'lost-after-switch', { wipeRedis: true });
    // The record is closed before reconcile logs what it did: wait for the line, not just the record.
    await waitFor('reconcile to report', async () => (slipway.output().includes('finished the interrupted deploy') ? true : undefined), 20_000);
    await expectCleanState(sha);
  });

  it('crash after the pending container started, queue lost: the pending container is removed and the push is deployed again from the refs', async () => {
    const sha = await crashAfter('start', 'lost-after-start', { wipeRedis: true });
    await waitFor('reconcile to report', async () => (slipway.output().includes(`removed ${app.name}-pending`) ? true : undefined), 20_000);
    expect(slipway.output()).toContain('it was pushed but never deployed');
    await expectCleanState(sha);
  });
});

describe('other faults', () => {
  it('Redis restarted (AOF) with a deploy queued: it still runs', async () => {
    const slow = await version('slow', { slipwayJson: { ...SETTINGS, watch: 5 } });
    const first = gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    await waitForLog(slow, 'Watching the new version');
    const queued = await version('after-redis-restart');
    const enqueue = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'], { pushOptions: ['no-wait'] });
    expect(enqueue.output).toContain('queued; follow it with');
    await redis.restart();
    await first;
    await waitFor('the queued deploy to go live', async () => ((await releases()).some((r) => r.sha === queued && r.result === 'live') ? true : undefined));
    expect(await served()).toBe('version=after-redis-restart');
    await expectCleanState(queued);
  });

  it('an app that never becomes healthy times out; the old version serves', async () => {
    const live = (await releases()).filter((r) => r.result === 'live').at(-1)?.sha as string;
    await version('never', { health: 'never', slipwayJson: { ...SETTINGS, healthcheck: { path: '/cgi-bin/health', timeout: 3 } } });
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toContain('✘ health check failed: GET /cgi-bin/health → 503 after 3 s');
    expect(push.output).toContain(`${short(live)} still serving`);
    expect(await served()).toBe('version=after-redis-restart');
    await expectCleanState(live);
  });

  it('an app that binds its port late (after the timeout) times out; the old version serves', async () => {
    const live = (await releases()).filter((r) => r.result === 'live').at(-1)?.sha as string;
    await writeBusyboxApp(app.dir, { version: 'late', slipwayJson: { ...SETTINGS, healthcheck: { path: '/cgi-bin/health', timeout: 3 } } });
    const start = await fs.readFile(path.join(app.dir, 'start.sh'), 'utf8');
    await fs.writeFile(path.join(app.dir, 'start.sh'), `sleep 6\n${start}`);
    await commit(app.dir, 'late binder');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toMatch(/✘ health check failed: GET \/cgi-bin\/health: connection refused .* after 3 s/);
    expect(await served()).toBe('version=after-redis-restart');
    await new Promise((r) => setTimeout(r, 4000));
    expect(await served()).toBe('version=after-redis-restart');
    await expectCleanState(live);
  });

  it('a stranger already listening on the next port: another port is used, the stranger gets no traffic', async () => {
    const held = Number(await docker(['inspect', '--format', '{{index .Config.Labels "slipway.port"}}', app.name]));
    const strangerPort = held === PORT_RANGE.first ? PORT_RANGE.first + 1 : PORT_RANGE.first;
    let strangerHits = 0;
    const stranger = net.createServer((socket) => {
      strangerHits++;
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nstranger');
    });
    await new Promise<void>((resolve) => stranger.listen(strangerPort, '0.0.0.0', () => resolve()));
    try {
      const sha = await version('not-the-stranger');
      const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
      const port = Number(/live on port (\d+)/.exec(push.output)?.[1]);
      expect(port).not.toBe(strangerPort);
      expect(port).not.toBe(held);
      expect(await served()).toBe('version=not-the-stranger');
      expect(strangerHits).toBe(0);
      await expectCleanState(sha);
    } finally {
      stranger.close();
    }
  });

  it('two pushes 1 s apart while a second app deploys: the newest commit is live, ports are distinct', async () => {
    const other = await createAppWorktree();
    extraApps.push(other);
    await writeBusyboxApp(other.dir, { version: 'o1', slipwayJson: SETTINGS });
    await commit(other.dir, 'o1');
    await version('first-of-two');
    const first = gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    const otherPush = gitPush(other.dir, slipway.remoteUrl(other.name), ['main']);
    await new Promise((r) => setTimeout(r, 1000));
    const newest = await version('second-of-two');
    const second = gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    const outputs = await Promise.all([first, otherPush, second]);
    expect(outputs[2].output).toMatch(new RegExp(`✔ ${app.name} ${short(newest)} live`));
    expect(outputs[1].output).toContain('✔');
    expect(await served()).toBe('version=second-of-two');
    expect(await served(other.name)).toBe('version=o1');
    const status = JSON.parse((await slipway.cli(['status', '--json'])).output) as { app: string; port: number }[];
    const ports = status.filter((s) => s.app === app.name || s.app === other.name).map((s) => s.port);
    expect(new Set(ports).size).toBe(2);
    await expectCleanState(newest);
  });

  it('an old app that ignores SIGTERM is killed only after the drain and the grace period', async () => {
    await writeBusyboxApp(app.dir, { version: 'stubborn', slipwayJson: SETTINGS });
    const start = await fs.readFile(path.join(app.dir, 'start.sh'), 'utf8');
    await fs.writeFile(path.join(app.dir, 'start.sh'), `trap '' TERM\n${start.replace(/trap [^\n]*TERM[^\n]*\n/g, '')}`);
    await commit(app.dir, 'stubborn');
    expect((await gitPush(app.dir, slipway.remoteUrl(app.name), ['main'])).output).toContain('✔');
    const sha = await version('after-stubborn');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    const drain = push.output.indexOf('-----> Draining previous container');
    const stop = push.output.indexOf('-----> Stopping previous container');
    expect(drain).toBeGreaterThan(0);
    expect(stop).toBeGreaterThan(drain);
    const killed = /it ignored SIGTERM: killed after the 2 s grace period \(([\d.]+) s\)/.exec(push.output);
    expect(killed).not.toBeNull();
    expect(Number(killed?.[1])).toBeGreaterThanOrEqual(1.9);
    expect(await served()).toBe('version=after-stubborn');
    await expectCleanState(sha);
  });

  it('the state directory made unwritable mid-deploy: a clean failure, the old version serves', async () => {
    const live = (await releases()).filter((r) => r.result === 'live').at(-1)?.sha as string;
    const dir = path.join(slipway.home, 'releases');
    const sha = await version('unwritable');
    const push = gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    await waitForLog(sha, '-----> Building');
    await chattr('+i', dir);
    try {
      const output = (await push).output;
      expect(output).toMatch(/✘ could not write the release record \(nothing was switched\): .*(EPERM|operation not permitted)/i);
      expect(output).toContain(`${short(live)} still serving`);
      expect(await served()).toBe('version=after-stubborn');
      expect(await appContainers(app.name)).toEqual([app.name]);
    } finally {
      await chattr('-i', dir);
    }
    await expectCleanState(live);
  });
});

function chattr(flag: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => execFile('chattr', [flag, dir], (e) => (e ? reject(e) : resolve())));
}
