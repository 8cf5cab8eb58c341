/**
 * Releases through git, on real parts: redeploying an older SHA by pushing it (no build), deploy
 * by tag, release tags, rollback, newest push wins, image retention, env:set without a build.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApacheInstance } from '../support/apache-instance';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import type { RedisInstance } from '../support/redis-instance';
import { type SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let apache: ApacheInstance;
let redis: RedisInstance;
let slipway: SlipwayInstance;
let app: AppWorktree;
const sha: Record<string, string> = {};

const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 0 };
const served = async () => (await httpGet(apache.port, '/', `${app.name}.localhost`)).body.trim();
const short = (s: string) => s.slice(0, 7);
const push = (refspecs: string[], pushOptions?: string[]) => gitPush(app.dir, slipway.remoteUrl(app.name), refspecs, { pushOptions });
const liveSeconds = (output: string) => Number(/live on port \d+ in ([\d.]+) s/.exec(output)?.[1]);
const git = (args: string[]) =>
  new Promise<string>((resolve, reject) => execFile('git', args, { cwd: app.dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (e, out, err) => (e ? reject(new Error(err)) : resolve(out))));
const appImages = () =>
  new Promise<string[]>((resolve) =>
    execFile('docker', ['images', '--format', '{{.Tag}}', '--filter', `reference=${app.name}`], (_e, out) =>
      resolve(
        out
          .split('\n')
          .filter((t) => t && t !== 'latest' && t !== '<none>')
          .sort(),
      ),
    ),
  );

async function release(version: string): Promise<string> {
  await writeBusyboxApp(app.dir, { version, slipwayJson: SETTINGS });
  sha[version] = await commit(app.dir, version);
  return sha[version];
}

beforeAll(async () => {
  stack = await startTestStack({ SLIPWAY_KEEP_RELEASES: '3' });
  ({ apache, redis, slipway } = stack);
  app = await stack.newApp();
});

afterAll(async () => {
  await stack?.stop();
});

describe('releases through git', () => {
  it('pushing an older SHA redeploys its image without a build, much faster than a build', async () => {
    await release('v1');
    const first = await push(['main']);
    await release('v2');
    const second = await push(['main']);
    expect(second.output).toContain('-----> Building');
    expect(await served()).toBe('version=v2');

    const again = await push([`+${sha.v1}:refs/heads/main`]);
    expect(again.output).toContain(`image for ${short(sha.v1)} exists, not rebuilding`);
    expect(again.output).not.toContain('-----> Building');
    expect(again.output).toMatch(new RegExp(`✔ ${app.name} ${short(sha.v1)} live`));
    expect(await served()).toBe('version=v1');
    console.log(`[figures] push→live: fresh build v1 ${liveSeconds(first.output)} s, v2 ${liveSeconds(second.output)} s; redeploy of v1 by push ${liveSeconds(again.output)} s`);
    expect(liveSeconds(again.output)).toBeLessThan(liveSeconds(second.output));
  });

  it('git push -o rebuild forces a build of an existing image', async () => {
    const forced = await push([`+${sha.v2}:refs/heads/main`], ['rebuild']);
    expect(forced.output).toContain('-----> Building');
    expect(await served()).toBe('version=v2');
  });

  it('pushing a release tag deploys the tagged commit; a branch and tag together deploy once', async () => {
    await git(['reset', '-q', '--hard', sha.v2]);
    await release('v3');
    await git(['tag', '-a', 'v3', '-m', 'release v3']);
    const tagged = await push(['refs/tags/v3']);
    expect(tagged.output).toMatch(new RegExp(`Deploying ${app.name} ${short(sha.v3)} \\(v3\\)`));
    expect(tagged.output).toMatch(/✔ .* live/);
    expect(await served()).toBe('version=v3');

    await release('v4');
    await git(['tag', 'v4']);
    // node-git-server announces this push twice (once per ref); it must still start one deploy.
    const startedEarly = () => slipway.output().split('deploy started from the receive-pack report').length - 1;
    const before = startedEarly();
    const both = await push(['+main', 'refs/tags/v4']);
    expect(startedEarly()).toBe(before + 1);
    expect(both.output.match(/-----> Deploying/g)).toHaveLength(1);
    expect(both.output).toContain('refs/tags/v4: same commit as refs/heads/main, deployed once');
    expect(await served()).toBe('version=v4');

    const notRelease = await push(['HEAD:refs/tags/nightly']);
    expect(notRelease.output).toContain('tag does not match the release pattern (v*), not deployed');
  });

  it('every successful deploy is an annotated release tag that git fetch --tags shows', async () => {
    await git(['fetch', '-q', '--tags', slipway.remoteUrl(app.name)]);
    const tags = (await git(['tag', '--list', 'release/*'])).split('\n').filter(Boolean);
    expect(tags.length).toBeGreaterThanOrEqual(5);
    const message = await git(['tag', '-n20', '--list', tags.at(-1) as string]);
    expect(message).toContain(`sha:      ${sha.v4}`);
    expect(message).toMatch(/duration: [\d.]+ s/);
    const releases = await slipway.cli(['releases', app.name, '--json']);
    const records = JSON.parse(releases.output) as { number: number; sha: string; result: string; pushedBy: string }[];
    expect(records.at(-1)).toMatchObject({ sha: sha.v4, result: 'live' });
    expect((await slipway.cli(['releases', app.name])).output).toMatch(/#\s+sha\s+ref/);
  });

  it('slipway rollback serves the previous release again, without a build', async () => {
    const rollback = await slipway.cli(['rollback', app.name]);
    expect(rollback.code).toBe(0);
    expect(rollback.output).toContain(`image for ${short(sha.v3)} exists, not rebuilding`);
    expect(rollback.output).toMatch(/✔ .* live/);
    expect(await served()).toBe('version=v3');
    const status = JSON.parse((await slipway.cli(['status', app.name, '--json'])).output) as { sha: string; container: string }[];
    expect(status[0]).toMatchObject({ sha: sha.v3, container: 'running' });
  });

  it('three pushes in quick succession: the last SHA goes live, the middle one is superseded', async () => {
    await git(['reset', '-q', '--hard', sha.v4]);
    const a = await release('a');
    const pushA = push(['+main']);
    await waitForDeployStarted(a);
    const b = await release('b');
    const pushB = push(['main']);
    await waitForRef(b);
    const c = await release('c');
    const pushC = push(['main']);
    const [outA, outB, outC] = (await Promise.all([pushA, pushB, pushC])).map((r) => r.output);
    expect(outA).toMatch(new RegExp(`✔ ${app.name} ${short(a)} live`));
    expect(outB).toContain(`superseded by ${short(c)}`);
    expect(outB).not.toContain('-----> Building');
    expect(outC).toMatch(new RegExp(`✔ ${app.name} ${short(c)} live`));
    expect(await served()).toBe('version=c');
    expect(b).not.toBe(c);
  });

  it('after many deploys only the images of the last N releases remain, and the live one is never removed', async () => {
    // Successful releases so far, newest first: c, a, v3 (rollback), v4, v3, v2 (rebuild), v1, v2, v1; N = 3.
    expect(await appImages()).toEqual([sha.a, sha.c, sha.v3].sort());
  });

  it('env:set redeploys the live image without a build, and the value appears in no log or output', async () => {
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    const set = await slipway.cli(['env:set', app.name, `API_SECRET=${secret}`, 'PLAIN=1']);
    expect(set.code).toBe(0);
    expect(set.output).not.toContain('-----> Building');
    expect(set.output).toMatch(/✔ .* live/);
    const env = await new Promise<string>((resolve) => execFile('docker', ['inspect', '--format', '{{json .Config.Env}}', app.name], (_e, out) => resolve(out)));
    expect(env).toContain(`API_SECRET=${secret}`);
    expect((await slipway.cli(['env:get', app.name])).output).toContain('API_SECRET=(set)');

    const places: [string, string][] = [
      ['CLI output', set.output],
      ['slipway log', slipway.output()],
    ];
    for (const file of await walk(slipway.home)) {
      if (file.includes(`${path.sep}apps${path.sep}`) || file.includes(`${path.sep}repos${path.sep}`)) continue;
      places.push([file, await fs.readFile(file, 'latin1')]);
    }
    places.push(['Redis', await dumpRedis(redis.socketPath)]);
    for (const [where, text] of places) expect(text.includes(secret), `secret found in ${where}`).toBe(false);
  });
});

describe('notifications', () => {
  it('webhooks are told about the start and the success of a deploy, with a Slack-compatible text', async () => {
    const received: Record<string, unknown>[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
      expect((await slipway.cli(['webhooks:add', app.name, url])).code).toBe(0);
      expect((await slipway.cli(['webhooks:add', app.name, 'file:///etc/passwd'])).output).toContain('not an http(s) URL');
      const sha = await release('w1');
      expect((await push(['main'])).output).toContain('✔');
      const deadline = Date.now() + 10_000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(received.map((e) => e.event)).toEqual(['deploy.started', 'deploy.succeeded']);
      expect(received[1]).toMatchObject({ app: app.name, sha, ref: 'refs/heads/main' });
      expect(String(received[1].text)).toMatch(new RegExp(`^${app.name}: ✔ ${app.name} ${short(sha)} live on port \\d+ in [\\d.]+ s · http://${app.name}.localhost/`));
      expect(typeof received[1].release).toBe('number');
    } finally {
      receiver.close();
    }
  });
});

async function waitForRef(expected: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const out = await git(['ls-remote', slipway.remoteUrl(app.name), 'refs/heads/main']).catch(() => '');
    if (out.startsWith(expected)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`main never became ${expected}`);
}

/** Waits until the worker is running a's deploy (its log file says it is building). */
async function waitForDeployStarted(commitSha: string): Promise<void> {
  const dir = path.join(slipway.home, 'deploys', app.name);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
      if (file.includes(commitSha.slice(0, 12)) && (await fs.readFile(path.join(dir, file), 'utf8')).includes('-----> Building')) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the deploy of ${commitSha} never started`);
}

async function walk(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function dumpRedis(socketPath: string): Promise<string> {
  const redisClient = new Redis({ path: socketPath });
  try {
    const parts: string[] = [];
    for (const key of await redisClient.keys('*')) {
      const type = await redisClient.type(key);
      if (type === 'string') parts.push(String(await redisClient.get(key)));
      if (type === 'hash') parts.push(JSON.stringify(await redisClient.hgetall(key)));
      if (type === 'list') parts.push(JSON.stringify(await redisClient.lrange(key, 0, -1)));
    }
    return parts.join('\n');
  } finally {
    redisClient.disconnect();
  }
}
