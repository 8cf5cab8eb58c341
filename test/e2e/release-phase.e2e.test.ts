/**
 * The release phase and one-off commands on real parts: a Procfile's release command runs in the
 * new image before the new version starts (writing to a mounted volume), a failing one leaves the
 * old version serving under a request stream, `slipway run` runs a command in the live image and
 * exits with its code. Also measures push→live with and without a trivial release command.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApacheInstance } from '../support/apache-instance';
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
let dataDir: string;
const sha: Record<string, string> = {};

const served = async () => (await httpGet(apache.port, '/', `${app.name}.localhost`)).body.trim();
const push = (options?: string[]) => gitPush(app.dir, slipway.remoteUrl(app.name), ['main'], { pushOptions: options });
const liveSeconds = (output: string) => Number(/live on port \d+ in ([\d.]+) s/.exec(output)?.[1]);
const dockerInspect = (name: string, format: string) =>
  new Promise<string>((resolve, reject) => execFile('docker', ['inspect', '--format', format, name], (e, out, err) => (e ? reject(new Error(err)) : resolve(out.trim()))));

async function release(version: string, procfile: string | undefined): Promise<string> {
  await writeBusyboxApp(app.dir, {
    version,
    slipwayJson: { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 0, env: { VERSION: version }, volumes: [`${dataDir}:/data`], release_timeout: 30 },
  });
  const file = path.join(app.dir, 'Procfile');
  if (procfile === undefined) await fs.rm(file, { force: true });
  else await fs.writeFile(file, procfile);
  sha[version] = await commit(app.dir, version);
  return sha[version];
}

beforeAll(async () => {
  stack = await startTestStack({});
  ({ apache, slipway } = stack);
  app = await stack.newApp();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-release-data-'));
});

afterAll(async () => {
  await stack?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('release phase', () => {
  it("runs the Procfile's release command in the new image, with the app's env and volumes, before the new version starts", async () => {
    await release('v1', '# migrations\nrelease: echo "release $VERSION" >> /data/release.log && echo "migrated to $VERSION"\n');
    const result = await push();
    expect(result.output).toContain('-----> Release: echo "release $VERSION" >> /data/release.log && echo "migrated to $VERSION"');
    expect(result.output).toContain('remote:        migrated to v1');
    expect(result.output).toMatch(/release took \d+\.\d s/);
    expect(result.output).toMatch(new RegExp(`✔ ${app.name} ${sha.v1.slice(0, 7)} live`));
    expect(await served()).toBe('version=v1');
    const file = path.join(dataDir, 'release.log');
    expect(await fs.readFile(file, 'utf8')).toBe('release v1\n');
    // Written before the web container (started as <app>-pending, renamed) started.
    const startedAt = Date.parse(await dockerInspect(app.name, '{{.State.StartedAt}}'));
    expect((await fs.stat(file)).mtimeMs).toBeLessThan(startedAt);
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('a release command that exits 3 fails the deploy: the push says so, v1 serves throughout, no v2 container is left', async () => {
    await release('v2', 'release: echo "migrating $VERSION"; echo "relation users already exists" >&2; exit 3\n');
    const stream = startRequestStream(apache.port, `${app.name}.localhost`, '/', 20);
    const streamStarted = Date.now();
    const result = await push();
    // The failure can come within a second on a quiet machine: keep the stream up for 2 s at least,
    // so "v1 serves throughout" rests on enough requests.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2000 - (Date.now() - streamStarted))));
    const seen = await stream.stop();
    expect(result.output).toContain(`✘ release command failed (exit 3): relation users already exists; ${sha.v1.slice(0, 7)} still serving`);
    expect(result.output).not.toContain('Starting');
    expect(seen.failed).toBe(0);
    expect(seen.total).toBeGreaterThan(20);
    expect([...seen.bodies.keys()]).toEqual(['version=v1']);
    expect(await served()).toBe('version=v1');
    expect(await appContainers(app.name)).toEqual([app.name]);
    expect(await fs.readFile(path.join(dataDir, 'release.log'), 'utf8')).toBe('release v1\n');
  });

  it('a bad Procfile line fails the deploy before anything starts, naming the line', async () => {
    await release('v3', 'release: true\nwork.er: ./work\n');
    const result = await push();
    expect(result.output).toContain('✘ invalid Procfile: Procfile line 2 is not "name: command": "work.er: ./work"');
    expect(result.output).not.toContain('-----> Building');
    expect(await served()).toBe('version=v1');
  });

  it('git push -o skip-release deploys without running it; the web: line is the container command', async () => {
    await release('v4', 'release: exit 9\nweb: echo "web line ran" >&2; exec /bin/sh /start.sh\n');
    const result = await push(['skip-release']);
    expect(result.output).toContain('-----> Release: skipped (skip-release): exit 9');
    expect(result.output).toMatch(new RegExp(`✔ ${app.name} ${sha.v4.slice(0, 7)} live`));
    expect(await served()).toBe('version=v4');
    expect((await slipway.cli(['logs', app.name, '-n', '5'])).output).toContain('web line ran');
  });

  it('slipway run: a command in the live image with the app env, exit code passed through; bad input changes nothing', async () => {
    const run = await slipway.cli(['run', app.name, '--', 'sh', '-c', 'echo "$VERSION"; exit 7']);
    expect(run.output.trim()).toBe('v4');
    expect(run.code).toBe(7);
    const withEnv = await slipway.cli(['run', app.name, '--env', 'EXTRA=from-cli', '--', 'sh', '-c', 'echo "$EXTRA"; ls /data']);
    expect(withEnv.output).toContain('from-cli');
    expect(withEnv.output).toContain('release.log');
    expect(withEnv.code).toBe(0);
    expect(await appContainers(app.name)).toEqual([app.name]);

    const detached = await slipway.cli(['run', app.name, '--detach', '--', 'sh', '-c', 'echo detached-output; sleep 1']);
    const name = detached.output.trim();
    expect(name).toMatch(new RegExp(`^${app.name}-run-[0-9a-f]{6}$`));
    const logs = await slipway.cli(['logs', app.name, '--container', name, '-f']);
    expect(logs.output).toContain('detached-output');
    // Kept after it ended (its logs stay readable) until the next run of the app clears it away.
    expect(await appContainers(app.name)).toEqual([app.name, name].sort());
    expect((await slipway.cli(['run', app.name, '--', 'true'])).code).toBe(0);
    expect(await appContainers(app.name)).toEqual([app.name]);

    expect((await slipway.cli(['run', app.name, '--env', 'not an assignment', '--', 'true'])).output).toContain('is not KEY=VALUE');
    expect((await slipway.cli(['run', 'no-such-app', '--', 'true'])).output).toContain('no app named "no-such-app"');

    // A new app may not take the name of another app's container (its one-off runs, its replicas).
    const clash = await slipway.cli(['apps:create', `${app.name}-run-abc123`]);
    expect(clash.code).not.toBe(0);
    expect(clash.output).toContain(`"${app.name}-run-abc123" cannot be created: it is a container name of the app "${app.name}"`);
    const pushed = await gitPush(app.dir, slipway.remoteUrl(`${app.name}-web-2`), ['main']);
    expect(pushed.code).not.toBe(0);
    expect(pushed.output).toContain(`"${app.name}-web-2" cannot be created`);
    expect((await slipway.cli(['apps'])).output).not.toContain(`${app.name}-web-2`);
  });

  it('figures: push→live of the same app with and without a trivial release command', async () => {
    const withRelease: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < 5; i++) {
      await release(`m${i}a`, 'release: true\n');
      const a = await push();
      expect(a.output).toContain('✔');
      withRelease.push(liveSeconds(a.output));
      await release(`m${i}b`, undefined);
      const b = await push();
      expect(b.output).toContain('✔');
      without.push(liveSeconds(b.output));
    }
    console.log(`[figures] push→live with a trivial release command (release: true): ${withRelease.join(', ')} s; without: ${without.join(', ')} s`);
  }, 300_000);
});
