/**
 * A reboot (issue 18 item 4), on the real stack: slipway with its embedded Redis (as `slipway up`
 * runs it under systemd), a private Apache and a PRIVATE dockerd (test/support/dockerd-instance.ts,
 * live-restore off as Debian ships it). With three apps live, one of them stopped (`slipway stop`),
 * one deploy held by the pause seam and another queued behind it (one worker slot), every process
 * is SIGKILLed at once — slipway, its Redis, dockerd with its containerd, the containers and their
 * shims, Apache — as a power cut would. Then they start again in the order deploy/slipway.service
 * declares (After=docker.service apache2.service; slipway starts its Redis itself). Afterwards every
 * app serves its newest release, the stopped app stays stopped, and both deploys pending at the cut
 * (the held one and the queued one, which lived only in Redis's append-only file) have run.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApache, type ApacheInstance } from '../support/apache-instance';
import { readPid, safeKill } from '../support/daemon-process';
import { pushThroughPauses, waitForPause } from '../support/deploy-pauses';
import { startDockerd, type DockerdInstance } from '../support/dockerd-instance';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startSlipway, type SlipwayInstance } from '../support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree } from '../support/test-app';

const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 1, drain_timeout: 5 };

let dockerd: DockerdInstance;
let apache: ApacheInstance;
let slipway: SlipwayInstance;
const apps: AppWorktree[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const served = async (app: AppWorktree) => await httpGet(apache.port, '/', `${app.name}.localhost`).catch(() => ({ status: 0, body: 'unreachable' }));
const liveSha = async (app: AppWorktree) =>
  (JSON.parse(await fs.readFile(path.join(slipway.home, 'releases', `${app.name}.json`), 'utf8')) as { releases: { sha: string; result: string }[] }).releases.filter((r) => r.result === 'live').at(-1)
    ?.sha;
const containers = async () => (await dockerd.docker(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).output.split('\n').filter(Boolean).sort();

async function version(app: AppWorktree, name: string): Promise<string> {
  await writeBusyboxApp(app.dir, { version: name, slipwayJson: SETTINGS });
  return commit(app.dir, name);
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${slipway.output().slice(-5000)}`);
    await sleep(250);
  }
}

beforeAll(async () => {
  dockerd = await startDockerd();
  apache = await startApache();
  slipway = await startSlipway({
    apache,
    // No `redis`: slipway runs its embedded Redis under its home, as in production.
    env: {
      DOCKER_HOST: dockerd.host,
      // The classic builder: the private dockerd has no bridge, which BuildKit's RUN steps need.
      SLIPWAY_BUILDER: 'legacy',
      SLIPWAY_CONCURRENCY: '1',
      SLIPWAY_TEST_PAUSE_AFTER_STEPS: 'build',
      // A killed worker's deploy is taken up again this long after the restart.
      SLIPWAY_JOB_LOCK_MS: '4000',
      SLIPWAY_PORT_RANGE: '18700-18799',
      SLIPWAY_STOP_GRACE: '2',
    },
  });
  for (let i = 0; i < 3; i++) {
    const app = await createAppWorktree();
    apps.push(app);
    await version(app, 'v1');
    const push = await pushThroughPauses(slipway.home, ['build'], gitPush(app.dir, slipway.remoteUrl(app.name), ['main']));
    expect(push.output).toContain('✔');
  }
}, 240_000);

afterAll(async () => {
  await slipway?.stop();
  for (const app of apps) await app.remove();
  await apache?.stop();
  await dockerd?.stop();
}, 120_000);

it('every process killed at once, started again in systemd order: apps serve their newest release, a stopped app stays stopped, held and queued deploys run', async () => {
  const [held, queued, stopped] = apps as [AppWorktree, AppWorktree, AppWorktree];
  expect((await slipway.cli(['stop', stopped.name])).output).toContain('stopped');

  // One worker slot: `held`'s deploy waits at the pause after its build, `queued`'s waits in Redis behind it.
  const heldSha = await version(held, 'v2');
  await gitPush(held.dir, slipway.remoteUrl(held.name), ['main'], { pushOptions: ['no-wait'] });
  await waitForPause(slipway.home, 'build');
  const queuedSha = await version(queued, 'v2');
  expect((await gitPush(queued.dir, slipway.remoteUrl(queued.name), ['main'], { pushOptions: ['no-wait'] })).output).toContain('queued');

  // The power cut.
  const redisPid = await readPid(path.join(slipway.home, 'redis', 'redis.pid'));
  expect(redisPid).toBeDefined();
  await Promise.all([slipway.crash(), (async () => safeKill(redisPid as number, 'SIGKILL'))(), dockerd.kill({ containers: true }), apache.kill()]);
  await fs.rm(path.join(slipway.home, 'test-pauses'), { recursive: true, force: true });

  // The boot, in deploy/slipway.service's order: Docker, Apache, then slipway (which starts its Redis).
  await dockerd.start();
  await apache.start();
  await slipway.restart({ SLIPWAY_TEST_PAUSE_AFTER_STEPS: '' });

  await waitFor('both deploys pending at the cut to go live', async () => (await liveSha(held)) === heldSha && (await liveSha(queued)) === queuedSha);
  await waitFor('the apps to serve their newest release', async () => (await served(held)).body.trim() === 'version=v2' && (await served(queued)).body.trim() === 'version=v2');
  // The stopped app: its container still stopped, Apache answering the maintenance page, nothing else left.
  const state = await containers();
  expect(state).toEqual([`${held.name} running`, `${queued.name} running`, `${stopped.name} exited`].sort());
  expect((await served(stopped)).status).toBe(503);
  expect(slipway.output()).not.toContain(`started ${stopped.name} `);
}, 240_000);
