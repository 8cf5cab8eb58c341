/**
 * SLIPWAY_BUILDER=legacy, for Engines without BuildKit: the whole context goes to the classic
 * builder as a tar on every build. Same app, same checks as the BuildKit path in push-deploy.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let app: AppWorktree;

beforeAll(async () => {
  stack = await startTestStack({ SLIPWAY_BUILDER: 'legacy' });
  app = await stack.newApp();
});

afterAll(async () => {
  await stack?.stop();
});

describe('the legacy builder', () => {
  it('builds a push with the classic builder and honours .dockerignore; a failed RUN is said in plain words', async () => {
    await writeBusyboxApp(app.dir, { version: 'v1' });
    const v1 = await commit(app.dir, 'v1');
    const push = await gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main']);
    expect(push.output).toMatch(/remote: +Step 2\/\d+ : COPY busybox \/bin\/busybox/);
    expect(push.output).not.toContain('context:');
    expect(push.output).toMatch(new RegExp(`remote: ✔ ${app.name} ${v1.slice(0, 7)} live`));
    expect((await httpGet(stack.apache.port, '/', `${app.name}.localhost`)).body.trim()).toBe('version=v1');
    const listing = await new Promise<string>((resolve, reject) =>
      execFile('docker', ['run', '--rm', '--entrypoint', '/bin/ls', `${app.name}:${v1}`, '/ctx'], (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(listing).toContain('Dockerfile');
    expect(listing).not.toContain('secret.txt');

    await writeBusyboxApp(app.dir, { version: 'v2', buildFails: true });
    await commit(app.dir, 'v2 build fails');
    const failed = await gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main']);
    expect(failed.output).toMatch(/remote: ✘ build failed: .*returned a non-zero code: 3/);
    expect((await httpGet(stack.apache.port, '/', `${app.name}.localhost`)).body.trim()).toBe('version=v1');
  });
});
