/**
 * Web replicas on real parts: `scale.web` = 3 web containers of one release behind a real Apache
 * (a `rnd:` port map, no reload), deploys under a request stream, and a SIGKILL of slipway mid-deploy.
 * Each container answers `/cgi-bin/whoami` with its own `$PORT`, so a request says which replica served it.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppConfigStore } from '../../src/apps/app-config-store';
import type { ApacheInstance } from '../support/apache-instance';
import { waitUntil } from '../support/wait-until';
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

const host = () => `${app.name}.localhost`;
const push = (options: { pushOptions?: string[] } = {}) => gitPush(app.dir, slipway.remoteUrl(app.name), ['main'], options);
const webNames = () => [app.name, `${app.name}-web-2`, `${app.name}-web-3`].sort();

interface Release {
  sha: string;
  result: string;
}
const releases = async () => (JSON.parse(await fs.readFile(path.join(slipway.home, 'releases', `${app.name}.json`), 'utf8').catch(() => '{"releases":[]}')) as { releases: Release[] }).releases;

/** Writes and commits `version`, with a CGI that answers the serving container's port. */
async function version(name: string, watch: number): Promise<string> {
  await writeBusyboxApp(app.dir, { version: name, slipwayJson: { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch, drain_timeout: 10 } });
  const whoami = path.join(app.dir, 'www', 'cgi-bin', 'whoami');
  await fs.writeFile(whoami, `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nport=%s\\n' "$PORT"\n`);
  await fs.chmod(whoami, 0o755);
  return commit(app.dir, name);
}

/** The ports that answered `n` requests through Apache. */
async function answeringPorts(n: number): Promise<Set<string>> {
  const ports = new Set<string>();
  for (let i = 0; i < n; i++) {
    const res = await httpGet(apache.port, '/cgi-bin/whoami', host());
    expect(res.status).toBe(200);
    ports.add(res.body.trim());
  }
  return ports;
}

/** The `slipway.port` labels of the app's web containers. */
async function containerPorts(): Promise<string[]> {
  const out = await new Promise<string>((resolve, reject) =>
    execFile('docker', ['inspect', '--format', '{{index .Config.Labels "slipway.port"}}', ...webNames()], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  return out.split('\n').filter(Boolean).sort();
}

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  return waitUntil(what, probe, timeoutMs, () => slipway.output());
}

/** Runs `during` under a 20 requests/s stream lasting 2 s at least; returns the stream's result. */
async function underLoad(during: () => Promise<void>) {
  const stream = startRequestStream(apache.port, host(), '/', 20);
  const started = Date.now();
  await during();
  await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - started))));
  return stream.stop();
}

beforeAll(async () => {
  // A short job lock: after the SIGKILL the interrupted job is redelivered within seconds.
  stack = await startTestStack({ SLIPWAY_JOB_LOCK_MS: '4000' });
  ({ apache, slipway } = stack);
  app = await stack.newApp();
  await version('v1', 0);
  expect((await push()).output).toContain('✔');
});

afterAll(async () => {
  await stack?.stop();
});

describe('web replicas behind Apache', () => {
  it('scale web=3 → three healthy web containers, and requests through Apache are answered by all three', async () => {
    // What `slipway ps:scale <app> web=3` keeps: the app's server-side config.
    await new AppConfigStore(path.join(slipway.home, 'apps')).update(app.name, (c) => ({ ...c, scale: { ...c.scale, web: 3 } }));
    let restart = { code: -1, output: '' };
    const stats = await underLoad(async () => {
      restart = await slipway.cli(['restart', app.name]);
    });
    expect(restart.output).toMatch(/Health OK after [\d.]+ s \(GET \/cgi-bin\/health\) \(all 3 web containers\)/);
    expect(restart.output).toMatch(/✔ .* live on ports \d+, \d+, \d+ in/);
    expect(restart.code).toBe(0);
    expect(stats.failures).toEqual([]);
    expect(await appContainers(app.name)).toEqual(webNames());
    const ports = await containerPorts();
    expect(new Set(ports).size).toBe(3);
    expect([...(await answeringPorts(60))].sort()).toEqual(ports.map((p) => `port=${p}`).sort());
    const status = JSON.parse((await slipway.cli(['status', app.name, '--json'])).output) as { web: { running: number; total: number } }[];
    expect(status[0].web).toEqual({ running: 3, total: 3 });
  });

  it('a deploy at web=3 under a request stream drops no request; the new three replace the old three', async () => {
    const before = await containerPorts();
    await version('v2', 1);
    let result = { code: -1, output: '' };
    const stats = await underLoad(async () => {
      result = await push();
    });
    expect(result.output).toMatch(/-----> Draining 3 previous containers \(\d+ in flight\)/);
    expect(result.output).toMatch(/✔ .* live on ports/);
    expect(stats.failures).toEqual([]);
    expect(stats.bodies.get('version=v2')).toBeGreaterThan(0);
    expect(await appContainers(app.name)).toEqual(webNames());
    const after = await containerPorts();
    expect(after.filter((p) => before.includes(p))).toEqual([]);
    expect([...(await answeringPorts(60))].sort()).toEqual(after.map((p) => `port=${p}`).sort());
  });

  it('SIGKILL of slipway right after the switch at web=3 → after restart one release live with three web containers and no pending one', async () => {
    const sha = await version('v3', 1);
    await slipway.shutdown();
    await slipway.restart({ SLIPWAY_TEST_CRASH_AFTER_STEP: 'switch' });
    const stats = await underLoad(async () => {
      await push({ pushOptions: ['no-wait'] });
      await slipway.exited();
      await slipway.restart();
      await waitFor('v3 to be live', async () => ((await releases()).some((r) => r.sha === sha && r.result === 'live') ? true : undefined));
    });
    expect(stats.failures).toEqual([]);
    // The finishing steps (retire, rename) may still be running when the release reads live.
    await waitFor('three web containers and no pending one', async () => ((await appContainers(app.name)).join() === webNames().join() ? true : undefined));
    const all = await releases();
    expect(all.filter((r) => r.result === 'deploying')).toEqual([]);
    expect(all.filter((r) => r.sha === sha).map((r) => r.result)).toEqual(['live']);
    const ports = await containerPorts();
    const map = await fs.readFile(path.join(slipway.home, 'apache', `${app.name}.map`), 'utf8');
    expect(map).toMatch(/^# slipway port map, format 3\nupstream 127\.0\.0\.1:\d+\|127\.0\.0\.1:\d+\|127\.0\.0\.1:\d+\n$/);
    expect([...map.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]).sort()).toEqual(ports);
    const bodies = new Set<string>();
    for (let i = 0; i < 10; i++) bodies.add((await httpGet(apache.port, '/', host())).body.trim());
    expect([...bodies]).toEqual(['version=v3']);
  });
});
