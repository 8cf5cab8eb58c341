/**
 * Routing on real parts (issue 18 items 1 and 7): apps without a template of their own are routed
 * by slipway's one routes vhost through a host map Apache re-reads, so creating and destroying an
 * app reloads nothing and costs other apps nothing; Apache's config does not depend on
 * SLIPWAY_HOME, so losing it (rm -rf) leaves every app serving, a new app deploys, and an Apache
 * restart brings everything back; a broken vhost slipway did not write blocks no port switch and no
 * new app, and is named when a reload is needed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES_VHOST_FILE } from '../../src/apache/apache-sites';
import { AppConfigStore } from '../../src/apps/app-config-store';
import type { ApacheInstance } from '../support/apache-instance';
import { run } from '../support/daemon-process';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startRequestStream, type RequestStream, type StreamResult } from '../support/request-stream';
import type { SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let apache: ApacheInstance;
let slipway: SlipwayInstance;
let live: AppWorktree;
let second: AppWorktree;

const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 1, drain_timeout: 5 };
const reloads = async () => ((await fs.readFile(path.join(apache.dir, 'error.log'), 'utf8')).match(/AH00493/g) ?? []).length;
const body = async (app: AppWorktree) => (await httpGet(apache.port, '/', `${app.name}.localhost`)).body.trim();

async function deploy(target: AppWorktree, version: string, template?: string): Promise<{ code: number; output: string }> {
  await writeBusyboxApp(target.dir, { version, slipwayJson: SETTINGS });
  if (template !== undefined) await fs.writeFile(path.join(apache.sitesDir, `${target.name}.conf.template`), template);
  await commit(target.dir, version);
  return gitPush(target.dir, slipway.remoteUrl(target.name), ['main']);
}

/** Every answer the stream got was the app's page (a 404 of an unrouted host is no 5xx, but is a failure here). */
function expectServed(seen: StreamResult, version: string, minimum: number): void {
  expect(seen.failures).toEqual([]);
  expect([...seen.bodies.keys()]).toEqual([`version=${version}`]);
  expect(seen.total).toBeGreaterThan(minimum);
}

/** Streams for at least 2 s whatever `during` takes, so a fast machine still sends enough requests. */
async function streamed(stream: RequestStream, startedAt: number): Promise<StreamResult> {
  await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - startedAt))));
  return stream.stop();
}

beforeAll(async () => {
  stack = await startTestStack({});
  ({ apache, slipway } = stack);
  live = await stack.newApp();
  second = await stack.newApp();
  expect((await deploy(live, 'l1')).output).toContain('✔');
});

afterAll(async () => {
  await stack?.stop();
});

describe('routing without reloads', () => {
  it('a new app is created and destroyed while another app serves: 0 failed requests, no reload', async () => {
    const sites = await fs.readdir(apache.sitesDir);
    expect(sites).toContain(ROUTES_VHOST_FILE);
    expect(sites).not.toContain(`${live.name}.conf`);
    const before = await reloads();
    const started = Date.now();
    const stream = startRequestStream(apache.port, `${live.name}.localhost`, '/', 20);
    const created = await deploy(second, 's1');
    expect(created.output).toContain('(no reload)');
    expect(created.code, created.output).toBe(0);
    expect(await body(second)).toBe('version=s1');
    const destroyed = await slipway.cli(['apps:destroy', second.name, '--confirm', second.name]);
    expect(destroyed.code, destroyed.output).toBe(0);
    expect((await httpGet(apache.port, '/', `${second.name}.localhost`)).status).toBe(404);
    expectServed(await streamed(stream, started), 'l1', 40);
    expect(await reloads()).toBe(before);
  });
});

describe('a lost SLIPWAY_HOME', () => {
  let third: AppWorktree;
  beforeAll(async () => {
    second = await stack.newApp();
    third = await stack.newApp();
    // Two web replicas: reconcile must route both from their labels once the home is gone.
    await new AppConfigStore(path.join(slipway.home, 'apps')).update(second.name, (c) => ({ ...c, scale: { ...c.scale, web: 2 } }));
    expect((await deploy(second, 's1')).output).toContain('✔');
  });

  it('rm -rf of the home with two apps live: they keep serving, slipway restarts, a third app deploys, an Apache restart serves all three', async () => {
    const started = Date.now();
    const streams = [startRequestStream(apache.port, `${live.name}.localhost`, '/', 20), startRequestStream(apache.port, `${second.name}.localhost`, '/', 20)];
    await slipway.shutdown();
    await fs.rm(slipway.home, { recursive: true, force: true });
    await slipway.restart();
    const pushed = await deploy(third, 't1');
    expect(pushed.code, pushed.output).toBe(0);
    expect(await body(third)).toBe('version=t1');
    const [a, b] = await Promise.all(streams.map((s) => streamed(s, started)));
    expectServed(a, 'l1', 40);
    expectServed(b, 's1', 40);
    // Reconcile said what it found: containers that serve with no app behind them.
    expect(slipway.output()).toContain(`container ${live.name} serves ${live.name}.localhost`);
    expect(slipway.output()).toContain(`containers ${second.name}, ${second.name}-web-2 serve ${second.name}.localhost`);
    const hostMap = await fs.readFile(path.join(path.dirname(apache.sitesDir), 'slipway-maps', 'hosts.map'), 'utf8');
    expect(hostMap).toMatch(new RegExp(`^${second.name}\\.localhost 127\\.0\\.0\\.1:\\d+\\|127\\.0\\.0\\.1:\\d+ ${second.name}$`, 'm'));

    // Apache's config on disk stands alone: a full restart (not a reload) serves all three.
    expect((await run(apache.apachectl[0], ['configtest'])).code).toBe(0);
    expect((await run(apache.apachectl[0], ['stop'])).code).toBe(0);
    await waitFor(async () => (await httpGet(apache.port, '/', 'x.invalid', 500).catch(() => undefined)) === undefined);
    expect((await run(apache.apachectl[0], ['start'])).code).toBe(0);
    await waitFor(async () => (await httpGet(apache.port, '/', `${third.name}.localhost`, 1000).catch(() => undefined))?.status === 200);
    expect(await body(live)).toBe('version=l1');
    expect(await body(second)).toBe('version=s1');
    expect(await body(third)).toBe('version=t1');
  });

  it('a vhost slipway did not write that breaks configtest blocks no port switch and no new app, and is named when a reload is needed', async () => {
    const broken = path.join(apache.sitesDir, 'operator-broken.conf');
    await fs.writeFile(broken, '<VirtualHost *:1>\n  NoSuchDirective on\n</VirtualHost>\n');
    try {
      const switched = await deploy(live, 'l2');
      expect(switched.code, switched.output).toBe(0);
      expect(await body(live)).toBe('version=l2');
      const fresh = await stack.newApp();
      const created = await deploy(fresh, 'f1');
      expect(created.code, created.output).toBe(0);
      // An app with its own template needs a reload, and the push says which file blocks it.
      const custom = await stack.newApp();
      const template = `<VirtualHost *:${apache.port}>\n  ServerName ${custom.name}.localhost\n  ProxyPass / http://127.0.0.1:\${PORT}/\n</VirtualHost>\n`;
      const refused = await deploy(custom, 'c1', template);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(`because of ${broken} (line 2`);
      expect(refused.output).toContain('a file slipway did not write');
      await fs.rm(broken);
      const accepted = await deploy(custom, 'c2');
      expect(accepted.code, accepted.output).toBe(0);
      // A seed-style template costs a reload per deploy: the push says so and names the line.
      expect(accepted.output).toContain(`${custom.name}.conf.template line 3 writes the port into the vhost: ProxyPass / http://127.0.0.1:\${PORT}/`);
      await fs.rm(path.join(apache.sitesDir, `${custom.name}.conf.template`));
    } finally {
      await fs.rm(broken, { force: true });
    }
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
