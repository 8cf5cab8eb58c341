/**
 * One benchmark mode: an app deployed once, then a steady-state window under load, then N
 * consecutive `git push` deploys under the same load. Records everything; analysis.ts turns the
 * records into figures.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppConfigStore } from '../src/apps/app-config-store';
import type { ApacheInstance } from '../test/support/apache-instance';
import { httpGet } from '../test/support/http-get';
import type { SlipwayInstance } from '../test/support/slipway-instance';
import { commit, createAppWorktree, type AppWorktree } from '../test/support/test-app';
import type { Cleanup } from './cleanup';
import { now, seconds, sleep } from './clock';
import { execOk } from './exec';
import type { RouteLoad, Sample } from './load-generator';
import { startLoadInThread } from './load-thread';
import { writeNodeApp, type NodeAppOptions } from './node-app-image';
import { timedGitPush, type TimedPush } from './timed-push';

/** What distinguishes one mode from another. */
export interface ModeConfig {
  /** Human title for tables. */
  title: string;
  /** slipway app name (unique per run; neither name may be a prefix of the other + `-`). */
  appName: string;
  /** Version strings are `<versionPrefix><n>`; n = 0 is the initial deploy. */
  versionPrefix: string;
  /** Deploys measured under load (after the initial one). */
  deploys: number;
  /**
   * When true, a seed-style `<app>.conf.template` with the port in the vhost text is written
   * into Apache's sites dir first, so every deploy costs slipway a configtest + graceful reload.
   */
  seedTemplate: boolean;
  /** Web containers of the app (`scale.web` in its server-side config, what `slipway ps:scale` keeps); default 1. */
  webReplicas?: number;
}

/** Shared settings of every mode in one run. */
export interface ScenarioEnv {
  apache: ApacheInstance;
  slipway: SlipwayInstance;
  cleanup: Cleanup;
  routes: RouteLoad[];
  /** App behaviour (boot delay, slow route) and slipway.json; the version is set per deploy. */
  app: Omit<NodeAppOptions, 'version'>;
  /** Per-request timeout of the load. */
  requestTimeoutMs: number;
  maxSockets: number;
  /** Load before the steady window starts (connections opened, caches warm). */
  warmupMs: number;
  steadyMs: number;
  /** Pause after each push returns, so one deploy's tail does not fall into the next window. */
  gapMs: number;
  pushTimeoutMs: number;
  /** Epoch ms (clock.ts) after which no new deploy starts. */
  deadline: number;
  /** A deploy starts only with at least this much time left before `deadline`. */
  minDeployBudgetMs: number;
  /**
   * Throws when the run was given up (deadline, error) or slipway itself is gone: then every later
   * push would fail for a reason unrelated to deploys.
   */
  assertCanContinue(): void;
  /** Logs progress lines. */
  log(line: string): void;
}

/** One measured deploy. */
export interface DeployRecord {
  /** 1-based number within the mode. */
  index: number;
  version: string;
  push: TimedPush;
  /** git exited 0 and slipway printed its `✔ … live` line. */
  ok: boolean;
}

/** Everything recorded for one mode. */
export interface ModeRun {
  config: ModeConfig;
  /**
   * The steady-state windows (scheduled request times): one before the first deploy and one after
   * the last, pooled, so the baseline spans the run instead of resting on a single short window.
   */
  steady: { from: number; to: number }[];
  /** When load started and stopped. */
  load: { from: number; to: number };
  deploys: DeployRecord[];
  samples: Sample[];
  /** Deploys not run because the run's time budget was used up (0 normally). */
  skipped: number;
}

/** An app whose first version is live behind Apache, ready to be measured. */
export interface PreparedApp {
  config: ModeConfig;
  worktree: AppWorktree;
}

/**
 * Creates the app's work tree, deploys version 0 and waits until Apache serves it. Throws with
 * the push's output when the deploy does not go live (git exits 0 even when the post-receive
 * hook reports a failed deploy, so slipway's `✔` line is what counts).
 */
export async function prepareApp(env: ScenarioEnv, config: ModeConfig): Promise<PreparedApp> {
  const worktree = await createAppWorktree({ name: config.appName });
  env.cleanup.add(`work tree of ${config.appName}`, () => worktree.remove());
  await prepareWorktree(worktree);
  if (config.seedTemplate) await writeSeedTemplate(env.apache, config.appName);
  if (config.webReplicas !== undefined) {
    const web = config.webReplicas;
    await new AppConfigStore(path.join(env.slipway.home, 'apps')).update(config.appName, (c) => ({ ...c, scale: { ...c.scale, web } }));
  }
  const initial = await pushVersion(env, worktree, `${config.versionPrefix}0`);
  if (!wentLive(initial)) throw new Error(`initial deploy of ${config.appName} failed:\n${initial.lines.map((l) => l.text).join('\n')}`);
  env.log(`${config.appName}: initial deploy took ${seconds(initial.end - initial.start)}; waiting until Apache serves it`);
  await waitServed(env.apache.port, `${config.appName}.localhost`, `version=${config.versionPrefix}0`, 60_000);
  return { config, worktree };
}

/**
 * Measures one prepared app: starts the load, waits `warmupMs + steadyMs`, pushes
 * `config.deploys` new versions one after another, running `afterEachDeploy` (e.g. one floor
 * sample) with the load still on after each deploy's pause, waits `steadyMs` more (the second
 * steady window), and stops the load. A deploy is not
 * started when less than `env.minDeployBudgetMs` is left before `env.deadline`; the skipped count
 * says so.
 */
export async function measureApp(env: ScenarioEnv, app: PreparedApp, afterEachDeploy?: (index: number) => Promise<void>): Promise<ModeRun> {
  const { config, worktree } = app;
  const host = `${config.appName}.localhost`;
  const load = startLoadInThread({ port: env.apache.port, host, routes: env.routes, timeoutMs: env.requestTimeoutMs, maxSockets: env.maxSockets });
  env.cleanup.add(`load on ${host}`, () => load.stop());
  const loadFrom = now();
  await sleep(env.warmupMs);
  const steady = [await steadyWindow(env.steadyMs)];
  env.log(`${config.appName}: steady state measured (${seconds(env.steadyMs)})`);

  const deploys: DeployRecord[] = [];
  let skipped = 0;
  for (let index = 1; index <= config.deploys; index += 1) {
    if (now() + env.minDeployBudgetMs > env.deadline) {
      skipped = config.deploys - index + 1;
      env.log(`${config.appName}: time budget used up, ${skipped} deploy(s) skipped`);
      break;
    }
    env.assertCanContinue();
    const version = `${config.versionPrefix}${index}`;
    const push = await pushVersion(env, worktree, version);
    const ok = wentLive(push);
    deploys.push({ index, version, push, ok });
    env.log(`${config.appName}: deploy ${index}/${config.deploys} (${version}) ${ok ? 'live' : 'FAILED'}; ${progressMarks(push)}`);
    await sleep(env.gapMs);
    if (afterEachDeploy) await afterEachDeploy(index);
  }
  steady.push(await steadyWindow(env.steadyMs));
  env.log(`${config.appName}: steady state measured again after the last deploy (${seconds(env.steadyMs)})`);
  await load.stop();
  return { config, steady, load: { from: loadFrom, to: now() }, deploys, samples: load.samples, skipped };
}

/** Waits `ms` under load with nothing else going on and returns the window. */
async function steadyWindow(ms: number): Promise<{ from: number; to: number }> {
  const from = now();
  await sleep(ms);
  return { from, to: now() };
}

/** git exited 0 and slipway printed its `✔ <app> <sha> live` line. */
function wentLive(push: TimedPush): boolean {
  return push.code === 0 && push.lines.some((l) => /^✔ .* live/.test(l.text));
}

/** "starting 4.1 s, switching 8.0 s, …": where a push spent its time, for the progress log. */
function progressMarks(push: TimedPush): string {
  const at = (pattern: RegExp): string => {
    const t = push.lines.find((l) => pattern.test(l.text))?.at;
    return t === undefined ? '–' : seconds(t - push.start);
  };
  return `starting ${at(/^-----> Starting/)}, switching ${at(/^-----> Switching/)}, stopping old ${at(/^-----> Stopping/)}, push ${seconds(push.end - push.start)}`;
}

/**
 * Git settings that keep a 100 MB runtime in the repo cheap: blobs over 1 MB are stored without
 * delta search, so the first push does not spend its time trying to delta node against libc.
 */
async function prepareWorktree(worktree: AppWorktree): Promise<void> {
  await execOk('git', ['-C', worktree.dir, 'config', 'core.bigFileThreshold', '1m']);
}

/**
 * The seed's convention: the container port written into the vhost (`ProxyPass … ${PORT}`), so the
 * vhost text changes on every deploy and slipway must configtest + graceful-reload Apache.
 * `retry=0` so a refused backend is not parked for 60 s.
 */
async function writeSeedTemplate(apache: ApacheInstance, app: string): Promise<void> {
  const template = [
    '# Seed-style template written by bench/deploy-scenario.ts: the port is in the vhost text,',
    '# so every deploy changes this file and costs a configtest + graceful reload.',
    `<VirtualHost *:${apache.port}>`,
    `    ServerName ${app}.localhost`,
    '    ProxyPreserveHost On',
    '    ProxyRequests Off',
    '    ProxyPass / http://127.0.0.1:${PORT}/ retry=0',
    '    ProxyPassReverse / http://127.0.0.1:${PORT}/',
    '</VirtualHost>',
    '',
  ].join('\n');
  await fs.writeFile(path.join(apache.sitesDir, `${app}.conf.template`), template, { mode: 0o644 });
}

/** Writes `version` into the work tree, commits it, and pushes it to slipway. */
async function pushVersion(env: ScenarioEnv, worktree: AppWorktree, version: string): Promise<TimedPush> {
  await writeNodeApp(worktree.dir, { ...env.app, version });
  await commit(worktree.dir, `version ${version}`);
  return timedGitPush(worktree.dir, env.slipway.remoteUrl(worktree.name), ['main'], env.pushTimeoutMs);
}

/** Polls Apache until `GET /` for `host` answers exactly `expected`. */
async function waitServed(port: number, host: string, expected: string, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  let last = '';
  while (now() < deadline) {
    try {
      const res = await httpGet(port, '/', host, 2_000);
      last = `${res.status} ${res.body.trim()}`;
      if (res.status === 200 && res.body.trim() === expected) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${host} does not serve ${expected} through Apache after ${seconds(timeoutMs)} (last: ${last})`);
}
