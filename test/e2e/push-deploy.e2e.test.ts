/**
 * Push to deploy on real parts: the real git client pushes over HTTP (and, as an ssh push does,
 * straight to the bare repo) to a real slipway, which queues in a real Redis, builds on the real
 * Docker Engine and switches a private Apache.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApacheInstance } from '../support/apache-instance';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { appContainers, type SlipwayInstance } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let apache: ApacheInstance;
let slipway: SlipwayInstance;
let app: AppWorktree;

const served = async (name = app.name) => (await httpGet(apache.port, '/', `${name}.localhost`)).body.trim();
const short = (sha: string) => sha.slice(0, 7);
const remoteRef = (url: string, ref: string) =>
  new Promise<string>((resolve) => execFile('git', ['ls-remote', url, ref], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (_e, out) => resolve(out.split('\t')[0] ?? '')));

/** Bytes BuildKit says it fetched of the build context (the last count of its `[internal] load build context` step). */
function contextBytes(output: string): number {
  const step = /#(\d+) \[internal\] load build context/.exec(output)?.[1];
  const sent = [...output.matchAll(new RegExp(`#${step} transferring context: ([\\d.]+)(B|kB|MB|GB)`, 'g'))].at(-1);
  if (!step || !sent) throw new Error(`no context transfer in the push output:\n${output}`);
  return Number(sent[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[sent[2] as 'B'];
}

beforeAll(async () => {
  stack = await startTestStack({});
  ({ apache, slipway } = stack);
  app = await stack.newApp();
});

afterAll(async () => {
  await stack?.stop();
});

describe('git push deploys', () => {
  let v1 = '';
  let v2 = '';

  it('push v1: built, healthy, served through Apache, with live remote: lines', async () => {
    await writeBusyboxApp(app.dir, { version: 'v1' });
    v1 = await commit(app.dir, 'v1');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toContain(`remote: -----> Deploying ${app.name} ${short(v1)}`);
    expect(push.output).toMatch(/remote: -----> Building/);
    expect(push.output).toMatch(/remote: +#\d+ \[1\/\d+\] COPY busybox \/bin\/busybox/);
    expect(push.output).toMatch(/remote: +#\d+ DONE \d+\.\d+s/);
    // The first build of the app's work tree sends all of it (busybox alone is 1 MB).
    expect(contextBytes(push.output)).toBeGreaterThan(1_000_000);
    expect(push.output).toMatch(/remote: -----> Health OK after/);
    expect(push.output).toMatch(new RegExp(`remote: ✔ ${app.name} ${short(v1)} live on port \\d+ in [\\d.]+ s`));
    expect(await served()).toBe('version=v1');
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('the image honours .dockerignore and carries no label (a build label costs the legacy builder one more step)', async () => {
    const listing = await new Promise<string>((resolve, reject) =>
      execFile('docker', ['run', '--rm', '--entrypoint', '/bin/ls', `${app.name}:${v1}`, '/ctx'], (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(listing).toContain('Dockerfile');
    expect(listing).not.toContain('secret.txt');
    const labels = await new Promise<string>((resolve) => execFile('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', `${app.name}:latest`], (_e, out) => resolve(out)));
    expect(JSON.parse(labels)).toBeNull();
  });

  it('push v2: v2 served, one container named after the app, no pending left; started from the receive-pack report, once', async () => {
    const startedEarly = () => slipway.output().split('deploy started from the receive-pack report').length - 1;
    const before = startedEarly();
    await writeBusyboxApp(app.dir, { version: 'v2' });
    v2 = await commit(app.dir, 'v2');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(startedEarly()).toBe(before + 1);
    expect(push.output.match(/-----> Deploying/g)).toHaveLength(1);
    // The work tree is kept between builds, so BuildKit kept v1's context: of the whole tree
    // (busybox is 1 MB) only the files whose text names the version travel, and the busybox
    // layer comes from the cache.
    expect(contextBytes(push.output)).toBeLessThan(1000);
    expect(push.output).toMatch(/remote: +#(\d+) \[1\/\d+\] COPY busybox \/bin\/busybox *\n(?:remote: .*\n)*?remote: +#\1 CACHED/);
    expect(push.output).toMatch(new RegExp(`✔ ${app.name} ${short(v2)} live`));
    expect(push.output).toContain('-----> Stopping previous container');
    expect(await served()).toBe('version=v2');
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('a version whose health URL answers 500 is refused; v2 keeps serving; pending removed', async () => {
    await writeBusyboxApp(app.dir, { version: 'v3', health: 'fail500', slipwayJson: { healthcheck: { path: '/cgi-bin/health', timeout: 3 } } });
    const v3 = await commit(app.dir, 'v3 broken health');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toContain('remote: ✘ health check failed: GET /cgi-bin/health → 500 after 3 s');
    expect(push.output).toContain(`${short(v2)} still serving`);
    expect(push.output).not.toContain(`${short(v3)} live`);
    expect(await served()).toBe('version=v2');
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('a container that exits before it is healthy fails at once and shows its last log lines', async () => {
    await writeBusyboxApp(app.dir, { version: 'v3b' });
    await fs.writeFile(path.join(app.dir, 'start.sh'), 'echo "cannot connect to the database" >&2\nexit 7\n');
    await commit(app.dir, 'v3b crashes on boot');
    const started = Date.now();
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toContain('the new container exited with code 7 before it was healthy');
    expect(push.output).toContain('cannot connect to the database');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await served()).toBe('version=v2');
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('a failed build is detected, said in plain words, and changes nothing', async () => {
    await writeBusyboxApp(app.dir, { version: 'v4', buildFails: true });
    await commit(app.dir, 'v4 build fails');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toContain('failing on purpose');
    expect(push.output).toMatch(/remote: ✘ build failed: .*exit code: 3/);
    expect(push.output).toContain(`${short(v2)} still serving`);
    expect(await served()).toBe('version=v2');
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('an invalid slipway.json fails before anything starts, naming the field', async () => {
    await writeBusyboxApp(app.dir, { version: 'v5', slipwayJson: { healthcheck: { path: 'no-slash' } } });
    await commit(app.dir, 'v5 bad settings');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toContain('✘ invalid settings: slipway.json: healthcheck.path: expected a path starting with "/" and without spaces, got "no-slash"');
    expect(push.output).not.toContain('-----> Building');
    expect(await served()).toBe('version=v2');
  });

  it('a push to another branch says why it does not deploy', async () => {
    await writeBusyboxApp(app.dir, { version: 'v6' });
    await commit(app.dir, 'v6 on a feature branch');
    const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['HEAD:refs/heads/main00x']);
    expect(push.output).toContain('refs/heads/main00x: not the deploy branch (main), not deployed');
    expect(push.output).not.toContain('-----> Deploying');
    expect(await served()).toBe('version=v2');
  });

  it('a push without the token is refused and changes no ref', async () => {
    const before = await remoteRef(slipway.remoteUrl(app.name), 'refs/heads/main');
    const anonymous = slipway.remoteUrl(app.name).replace(`git:${slipway.token}@`, '');
    const wrong = slipway.remoteUrl(app.name).replace(slipway.token, 'not-the-token');
    for (const url of [anonymous, wrong]) {
      const push = await gitPush(app.dir, url, ['HEAD:refs/heads/main', '--force']);
      expect(push.code).not.toBe(0);
      expect(push.output).toMatch(/Authentication failed|401|could not read Username/);
    }
    expect(await remoteRef(slipway.remoteUrl(app.name), 'refs/heads/main')).toBe(before);
  });

  it('a hand-made POST to git-receive-pack without credentials gets 401 (node-git-server alone would accept it)', async () => {
    const before = await remoteRef(slipway.remoteUrl(app.name), 'refs/heads/main');
    const zero = '0'.repeat(40);
    const command = `${before} ${zero} refs/heads/main\0 report-status\n`;
    const pkt = `${(command.length + 4).toString(16).padStart(4, '0')}${command}0000`;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: slipway.port, method: 'POST', path: `/${app.name}.git/git-receive-pack`, headers: { 'content-type': 'application/x-git-receive-pack-request' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(pkt);
    });
    expect(status).toBe(401);
    expect(await remoteRef(slipway.remoteUrl(app.name), 'refs/heads/main')).toBe(before);
  });

  it('an invalid app name is refused with a readable message and creates nothing', async () => {
    const push = await gitPush(app.dir, `http://git:${slipway.token}@127.0.0.1:${slipway.port}/Bad_Name.git`, ['main']);
    expect(push.code).not.toBe(0);
    expect(push.output).toContain('is not a valid app name');
    expect(await fs.readdir(path.join(slipway.home, 'repos'))).toEqual([`${app.name}.git`]);
  });

  it('records every deploy durably under SLIPWAY_HOME', async () => {
    const { releases, version } = JSON.parse(await fs.readFile(path.join(slipway.home, 'releases', `${app.name}.json`), 'utf8')) as {
      version: number;
      releases: { sha: string; result: string; reason?: string }[];
    };
    expect(version).toBe(2);
    expect(releases.map((r) => r.result)).toEqual(['live', 'live', 'failed', 'failed', 'failed', 'failed']);
    expect(releases[1].sha).toBe(v2);
    expect(releases[2].reason).toMatch(/health check failed/);
  });
});

describe('seed-style templates', () => {
  let seed: AppWorktree;
  const template = (name: string) => path.join(apache.sitesDir, `${name}.conf.template`);
  const seedVar = () => `${seed.name.toUpperCase().replace(/-/g, '_')}_PORT`;

  beforeAll(async () => {
    seed = await stack.newApp();
    // Seed users' templates use Apache's own variables too; Apache must still see them.
    await fs.writeFile(path.join(apache.sitesDir, '00-seed-defines.conf'), `Define APACHE_LOG_DIR ${apache.dir}\n`);
  });

  it('renders <app>.conf.template with $<APP>_PORT, leaves ${APACHE_LOG_DIR} for Apache, and reloads after configtest', async () => {
    await fs.writeFile(
      template(seed.name),
      `<VirtualHost *:${apache.port}>\n  ServerName ${seed.name}.localhost\n  ErrorLog \${APACHE_LOG_DIR}/${seed.name}-error.log\n` +
        `  ProxyPass / http://127.0.0.1:$${seedVar()}/ retry=0\n  ProxyPassReverse / http://127.0.0.1:\${${seedVar()}}/\n</VirtualHost>\n`,
    );
    await writeBusyboxApp(seed.dir, { version: 's1', slipwayJson: { healthcheck: { path: '/cgi-bin/health' }, watch: 0 } });
    await commit(seed.dir, 's1');
    const push = await gitPush(seed.dir, slipway.remoteUrl(seed.name), ['main']);
    expect(push.output).toContain('vhost changed: configtest passed, Apache reloaded gracefully');
    expect(push.output).toMatch(/✔ .* live on port (\d+)/);
    const port = /live on port (\d+)/.exec(push.output)?.[1];
    const rendered = await fs.readFile(path.join(apache.sitesDir, `${seed.name}.conf`), 'utf8');
    expect(rendered).toContain(`ProxyPass / http://127.0.0.1:${port}/ retry=0`);
    expect(rendered).toContain('${APACHE_LOG_DIR}');
    expect(await served(seed.name)).toBe('version=s1');
  });

  it('a template Apache rejects is rolled back: previous files restored, old version serving, reason shown', async () => {
    const before = await fs.readFile(path.join(apache.sitesDir, `${seed.name}.conf`), 'utf8');
    await fs.writeFile(template(seed.name), `<VirtualHost *:${apache.port}>\n  ServerName ${seed.name}.localhost\n  NoSuchDirective on\n  ProxyPass / http://127.0.0.1:\${PORT}/\n</VirtualHost>\n`);
    await writeBusyboxApp(seed.dir, { version: 's2', slipwayJson: { healthcheck: { path: '/cgi-bin/health' }, watch: 0 } });
    await commit(seed.dir, 's2');
    const push = await gitPush(seed.dir, slipway.remoteUrl(seed.name), ['main']);
    expect(push.output).toMatch(/✘ Apache switch failed: Apache rejected the new config, previous files restored: .*NoSuchDirective/);
    expect(push.output).toMatch(/[0-9a-f]{7} still serving/);
    expect(await fs.readFile(path.join(apache.sitesDir, `${seed.name}.conf`), 'utf8')).toBe(before);
    expect(await served(seed.name)).toBe('version=s1');
    expect(await appContainers(seed.name)).toEqual([seed.name]);
  });
});

describe('pushes straight to the bare repo (git file transport: what an ssh push runs)', () => {
  let direct: AppWorktree;
  // No watch window: these tests stop and kill slipway between deploys, not during one.
  const slipwayJson = { healthcheck: { path: '/cgi-bin/health' }, watch: 0 };
  const bareRepo = () => path.join(slipway.home, 'repos', `${direct.name}.git`);
  const hookSocket = () => path.join(slipway.home, 'run', 'hook.sock');
  /** git-receive-pack and the hook run with the login's environment: its USER, no SLIPWAY_HOME. */
  const pushDirect = async (version: string) => {
    await writeBusyboxApp(direct.dir, { version, slipwayJson });
    const sha = await commit(direct.dir, version);
    const env: NodeJS.ProcessEnv = { ...process.env, USER: 'deployer' };
    delete env.SLIPWAY_HOME;
    return { sha, push: await gitPush(direct.dir, bareRepo(), ['main'], { env }) };
  };
  /** The same with no slipway running: git stores the push, the hook says why nothing deploys, exit 0. */
  const pushWhileDown = async (version: string) => {
    const { sha, push } = await pushDirect(version);
    expect(push.code).toBe(0);
    expect(push.output).toContain(`remote: slipway: no running slipway server found under ${slipway.home} (${hookSocket()}); the push is stored but not deployed`);
    const stored = await new Promise<string>((resolve) => execFile('git', ['--git-dir', bareRepo(), 'rev-parse', 'refs/heads/main'], (_e, out) => resolve(out.trim())));
    expect(stored).toBe(sha);
    return sha;
  };

  beforeAll(async () => {
    direct = await stack.newApp();
    await writeBusyboxApp(direct.dir, { version: 'd1', slipwayJson });
    await commit(direct.dir, 'd1');
    // The first push creates the repo; only the HTTP side does that.
    expect((await gitPush(direct.dir, slipway.remoteUrl(direct.name), ['main'])).output).toMatch(/✔ .* live/);
  });

  it('deploys through the running slipway with the same lines, and records the pusher as ssh:<user>', async () => {
    const { sha, push } = await pushDirect('d2');
    expect(push.code).toBe(0);
    expect(push.output).toContain(`remote: -----> Deploying ${direct.name} ${short(sha)} (main), job `);
    expect(push.output).toMatch(/remote: -----> Building/);
    expect(push.output).toMatch(new RegExp(`remote: ✔ ${direct.name} ${short(sha)} live on port \\d+`));
    expect(await served(direct.name)).toBe('version=d2');
    const releases = JSON.parse((await slipway.cli(['releases', direct.name, '--json'])).output) as { sha: string; pushedBy: string }[];
    expect(releases.at(-1)).toMatchObject({ sha, pushedBy: 'ssh:deployer' });
  });

  it('with slipway stopped, the push is stored and the hook says no slipway server runs; the next start deploys it', async () => {
    await slipway.shutdown();
    let d3 = '';
    try {
      await expect(fs.lstat(hookSocket())).rejects.toThrow(/ENOENT/);
      d3 = await pushWhileDown('d3');
    } finally {
      await slipway.restart();
    }
    // The worker's start-up repair queues a deploy-branch tip that never got a release.
    const releasesFile = path.join(slipway.home, 'releases', `${direct.name}.json`);
    const isLive = async () => (JSON.parse(await fs.readFile(releasesFile, 'utf8')) as { releases: { sha: string; result: string }[] }).releases.some((r) => r.sha === d3 && r.result === 'live');
    for (let tries = 0; !(await isLive()); tries++) {
      if (tries > 300) throw new Error('d3 did not go live after the restart');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await served(direct.name)).toBe('version=d3');
  });

  it('after a crash (its socket file left behind) the same; a restart takes the socket over and deploys again', async () => {
    await slipway.crash();
    try {
      expect((await fs.lstat(hookSocket())).isSocket()).toBe(true);
      await pushWhileDown('d4');
    } finally {
      await slipway.restart();
    }
    const { sha, push } = await pushDirect('d5');
    expect(push.output).toMatch(new RegExp(`remote: ✔ ${direct.name} ${short(sha)} live`));
    expect(await served(direct.name)).toBe('version=d5');
  });
});
