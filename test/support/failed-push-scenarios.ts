/**
 * What a failed deploy does to `git push`, the same over every transport: one `describe` each
 * e2e file runs against its own remote (HTTP with a token, ssh with a named key).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gitPush, type GitPushOptions } from './git-client';
import { httpGet } from './http-get';
import { commit, writeBusyboxApp, type AppWorktree, type HealthMode } from './test-app';
import type { TestStack } from './test-stack';

/** How a test file reaches slipway. */
export interface PushTransport {
  /** `http` or `ssh`, in the test names. */
  name: string;
  stack(): TestStack;
  /** The remote URL of `app` and the environment git needs for it. */
  remote(app: string): { url: string; env?: NodeJS.ProcessEnv };
  /** Makes the app exist on the server (ssh creates no apps). */
  createApp(app: string): Promise<void>;
}

const short = (sha: string) => sha.slice(0, 7);
// No watch window: a good deploy ends at once, and failures here are health failures.
const slipwayJson = { healthcheck: { path: '/cgi-bin/health', timeout: 3 }, watch: 0 };

/** The failed-push behaviour over `transport` (issue 15). */
export function describeFailedPushes(transport: () => PushTransport): void {
  describe('a failed deploy fails the push', () => {
    let t: PushTransport;
    let stack: TestStack;
    let app: AppWorktree;
    const push = (refspecs = ['main'], opts: GitPushOptions = {}) => {
      const { url, env } = t.remote(app.name);
      return gitPush(app.dir, url, refspecs, { ...opts, env: { ...process.env, ...env, ...opts.env } });
    };
    /** Commits version `v`; `healthTimeout` is how long a failing health check takes. */
    const version = async (v: string, health: HealthMode = 'ok', healthTimeout = 3) => {
      await writeBusyboxApp(app.dir, { version: v, health, slipwayJson: { ...slipwayJson, healthcheck: { ...slipwayJson.healthcheck, timeout: healthTimeout } } });
      return commit(app.dir, v);
    };
    /** How many deploys of the app have started (each opens its log file when the worker takes it). */
    const deploysStarted = async () => (await fs.readdir(path.join(stack.slipway.home, 'deploys', app.name)).catch(() => [])).length;
    const served = async () => (await httpGet(stack.apache.port, '/', `${app.name}.localhost`)).body.trim();
    const lsRemote = () =>
      new Promise<string>((resolve) => {
        const { url, env } = t.remote(app.name);
        execFile('git', ['ls-remote', url, 'refs/heads/main'], { env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: '0' } }, (_e, out) => resolve(out.split('\t')[0] ?? ''));
      });
    /** The server's ref, read straight from the bare repo (cheap enough to poll). */
    const serverRef = () =>
      new Promise<string>((resolve) =>
        execFile('git', ['--git-dir', path.join(stack.slipway.home, 'repos', `${app.name}.git`), 'rev-parse', '-q', '--verify', 'refs/heads/main'], (_e, out) => resolve(out.trim())),
      );
    const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let v1 = '';
    let v2 = '';

    beforeAll(async () => {
      t = transport();
      stack = t.stack();
      app = await stack.newApp();
      await t.createApp(app.name);
    });

    it('a good deploy exits 0', async () => {
      v1 = await version('v1');
      const result = await push();
      expect(result.output).toMatch(new RegExp(`remote: ✔ ${app.name} ${short(v1)} live on port \\d+ in [\\d.]+ s`));
      expect(result.code).toBe(0);
      expect(result.output).toContain('main -> main');
      expect(await served()).toBe('version=v1');
    });

    it('a failed health check: git push exits non-zero naming the reason, the ref goes back, v1 serves, the release record keeps the failure', async () => {
      v2 = await version('v2', 'needs-env');
      const result = await push();
      // The live lines first, as before; then git's verdict.
      // "→ 500 after 3 s", or on a loaded machine "no answer within 100 ms after 3 s".
      expect(result.output).toMatch(/remote: ✘ health check failed: GET \/cgi-bin\/health.* after 3 s; \w{7} still serving/);
      expect(result.output).toContain(`remote:        main put back to ${short(v1)}: pushing ${short(v2)} again deploys again`);
      expect(result.output).toMatch(/ ! \[remote rejected\] main -> main \(health check failed: GET \/cgi-bin\/health.* after 3 s; \w{7} still serving\)/);
      expect(result.output.indexOf('remote: ✘ health check failed')).toBeLessThan(result.output.indexOf('[remote rejected]'));
      expect(result.code).not.toBe(0);
      expect(await lsRemote()).toBe(v1);
      expect(await served()).toBe('version=v1');
      const releases = JSON.parse((await stack.slipway.cli(['releases', app.name, '--json'])).output) as { sha: string; result: string; reason?: string }[];
      expect(releases.at(-1)).toMatchObject({ sha: v2, result: 'failed' });
    });

    it('after env:set fixes it, pushing the same commit again deploys it and exits 0', async () => {
      const set = await stack.slipway.cli(['env:set', app.name, 'HEALTHY=yes']);
      expect(set.code).toBe(0);
      const result = await push();
      expect(result.output).not.toContain('Everything up-to-date');
      expect(result.output).toMatch(new RegExp(`remote: ✔ ${app.name} ${short(v2)} live`));
      expect(result.code).toBe(0);
      expect(await lsRemote()).toBe(v2);
      expect(await served()).toBe('version=v2');
    });

    it('-o no-wait exits 0 at once and says the push succeeds whatever the deploy does', async () => {
      const v3 = await version('v3', 'fail500');
      const started = Date.now();
      const result = await push(['main'], { pushOptions: ['no-wait'] });
      expect(result.code).toBe(0);
      expect(result.output).toContain('queued; follow it with: slipway deploys');
      expect(result.output).toContain('-o no-wait: the push succeeds whatever the deploy does');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await lsRemote()).toBe(v3);
      // Its deploy fails later; nobody is told through git, so the ref stays.
      await until('the no-wait deploy to fail', async () => {
        const releases = JSON.parse((await stack.slipway.cli(['releases', app.name, '--json'])).output) as { sha: string; result: string }[];
        return releases.some((r) => r.sha === v3 && r.result === 'failed');
      });
      expect(await serverRef()).toBe(v3);
      expect(await served()).toBe('version=v2');
    });

    it('racing pushes, the older fails: its ref stays where the newer push moved it', async () => {
      // The older deploy fails slowly (15 s of failing health checks): the newer push lands meanwhile.
      const older = await version('v4', 'fail500', 15);
      const started = await deploysStarted();
      const olderPush = push();
      // Its deploy must have started before the newer push lands, else it is superseded, not failed.
      await until('the older deploy to start', async () => (await deploysStarted()) > started);
      const newer = await version('v5');
      const newerPush = push();
      await until('the newer push to land', async () => (await serverRef()) === newer);
      const [olderResult, newerResult] = await Promise.all([olderPush, newerPush]);
      expect(olderResult.output).toContain(`-----> Deploying ${app.name} ${short(older)}`);
      expect(olderResult.output).toMatch(/\[remote rejected\] main -> main \(health check failed: GET \/cgi-bin\/health.* after 15 s/);
      expect(olderResult.output).toContain('remote:        main stays where a newer push moved it');
      expect(olderResult.code).not.toBe(0);
      expect(newerResult.output).toMatch(new RegExp(`✔ ${app.name} ${short(newer)} live`));
      expect(newerResult.code).toBe(0);
      expect(await lsRemote()).toBe(newer);
      expect(await served()).toBe('version=v5');
    });

    it('racing pushes, the newer fails: the ref goes back to the older one, which serves', async () => {
      const older = await version('v6');
      const started = await deploysStarted();
      const olderPush = push();
      await until('the older deploy to start', async () => (await deploysStarted()) > started);
      const newer = await version('v7', 'fail500');
      const [olderResult, newerResult] = await Promise.all([olderPush, push()]);
      expect(olderResult.code).toBe(0);
      expect(newerResult.output).toContain('[remote rejected] main -> main (health check failed');
      expect(newerResult.output).toContain(`main put back to ${short(older)}: pushing ${short(newer)} again deploys again`);
      expect(newerResult.code).not.toBe(0);
      expect(await lsRemote()).toBe(older);
      expect(await served()).toBe('version=v6');
    });

    it('a push that deploys nothing (another branch) exits 0 and says why', async () => {
      await version('v8');
      const result = await push(['HEAD:refs/heads/feature']);
      expect(result.output).toContain('refs/heads/feature: not the deploy branch (main), not deployed');
      expect(result.code).toBe(0);
    });
  });
}
