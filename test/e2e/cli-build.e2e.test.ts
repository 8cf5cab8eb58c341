/**
 * Builds through the docker CLI on the real stack. The context is the commit's files (no `.git`,
 * even when `.dockerignore` does not name it). SLIPWAY_BUILD_TIMEOUT: a build that runs past it is stopped (no docker CLI left
 * building), the push fails in plain words with the old version serving, and the app's next push
 * deploys. slipway runs with DOCKER_HOST set explicitly: dockerode and the docker CLI both use it.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuildOf } from '../../src/docker/orphaned-builds';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { appContainers } from '../support/slipway-instance';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let app: AppWorktree;

const served = async () => (await httpGet(stack.apache.port, '/', `${app.name}.localhost`)).body.trim();

/** pids of docker CLI processes still building the app's work tree. */
async function buildsOf(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (await fs.readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0').slice(0, -1);
    if (isBuildOf(argv, dir)) pids.push(Number(name));
  }
  return pids;
}

beforeAll(async () => {
  stack = await startTestStack({ DOCKER_HOST: 'unix:///var/run/docker.sock' });
  app = await stack.newApp();
});

afterAll(async () => {
  await stack?.stop();
});

describe('builds through the docker CLI', () => {
  it('the build context is the commit alone: no .git, even when .dockerignore does not name it', async () => {
    await writeBusyboxApp(app.dir, { version: 'v0' });
    await fs.writeFile(path.join(app.dir, '.dockerignore'), 'secret.txt\n');
    const v0 = await commit(app.dir, 'v0');
    expect((await gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main'])).output).toMatch(new RegExp(`✔ ${app.name} ${v0.slice(0, 7)} live`));
    const listing = await new Promise<string>((resolve, reject) =>
      execFile('docker', ['run', '--rm', '--entrypoint', '/bin/ls', `${app.name}:${v0}`, '-a', '/ctx'], (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(listing.split('\n')).toContain('Dockerfile');
    expect(listing.split('\n')).not.toContain('.git');
  });

  it('stops a build that runs past SLIPWAY_BUILD_TIMEOUT, says so, keeps the old version, and the next push deploys', async () => {
    const remote = stack.slipway.remoteUrl(app.name);
    await writeBusyboxApp(app.dir, { version: 'v1' });
    const v1 = await commit(app.dir, 'v1');
    expect((await gitPush(app.dir, remote, ['main'])).output).toMatch(new RegExp(`✔ ${app.name} ${v1.slice(0, 7)} live`));

    // The short deadline only from here: the first build (a new work tree) may take longer on a busy machine.
    await stack.slipway.shutdown();
    await stack.slipway.restart({ SLIPWAY_BUILD_TIMEOUT: '3' });
    await writeBusyboxApp(app.dir, { version: 'v2', buildSleepSeconds: 30 });
    await commit(app.dir, 'v2 builds for 30 s');
    const workTree = path.join(stack.slipway.home, 'worktrees', app.name);
    const started = Date.now();
    const pushing = gitPush(app.dir, remote, ['main']);
    // The docker CLI is seen building the work tree (so the check after the deadline means something).
    while ((await buildsOf(workTree)).length === 0) {
      if (Date.now() - started > 10_000) throw new Error(`no docker CLI build of ${workTree} seen\n${stack.slipway.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const slow = await pushing;
    const elapsed = Date.now() - started;
    expect(slow.output).toContain('RUN ["/bin/sleep","30"]');
    expect(slow.output).toContain(`remote: ✘ build failed: it took longer than SLIPWAY_BUILD_TIMEOUT (3 s) and was stopped; ${v1.slice(0, 7)} still serving`);
    expect(elapsed).toBeLessThan(15_000);
    expect(await served()).toBe('version=v1');
    expect(await appContainers(app.name)).toEqual([app.name]);
    expect(await buildsOf(workTree)).toEqual([]);

    await writeBusyboxApp(app.dir, { version: 'v3' });
    const v3 = await commit(app.dir, 'v3');
    const next = await gitPush(app.dir, remote, ['main']);
    expect(next.output).toMatch(new RegExp(`✔ ${app.name} ${v3.slice(0, 7)} live`));
    expect(await served()).toBe('version=v3');
  });
});
