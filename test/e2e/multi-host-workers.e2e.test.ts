/**
 * Worker process types across three hosts, on real parts (test/support/cluster-stack.ts: the server
 * `local` and two simulated hosts `h2`, `h3`, each with its own dockerd, Apache and agent): an app
 * with `web` and `worker` on all three runs its worker on every host (`scale.worker` per host, like
 * web replicas). A push replaces web and workers host by host with no failed request through any
 * host's Apache; a release whose worker exits on one host only fails the push naming that host and
 * leaves every host on the previous web and worker, the stop-first workers it stopped running again.
 *
 * Ground truth is each host's Docker Engine (`docker ps -a`: names, `slipway.sha`, state) and what
 * each host's Apache answers, not slipway's own account of it.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_NAMES, startClusterStack, type ClusterStack, type HostContainer, type HostName } from '../support/cluster-stack';
import { freePort } from '../support/free-port';
import { gitPush, type GitPushResult } from '../support/git-client';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';
import { waitUntil } from '../support/wait-until';
import { containersOnEveryHost, createAppOnEveryHost, describeStreams, failureLine, failuresOf, servedOn, streamEveryHost as streamThroughEveryHost } from '../support/cluster-app';

const RATE = 20;
/** The web line runs the test image's own CMD (busybox httpd); the worker is worker.sh below. */
const PROCFILE = 'web: exec /bin/sh /start.sh\nworker: exec sh /ctx/worker.sh\n';
/**
 * The worker: with NEEDS_PORT set it first asks that port on its host's own loopback (a service it
 * needs, like a local queue) and exits 1 when nothing answers there; then it runs until SIGTERM.
 */
const WORKER_SCRIPT = [
  '#!/bin/sh',
  "trap 'exit 0' TERM",
  'if [ -n "$NEEDS_PORT" ] && ! wget -q -O /dev/null "http://127.0.0.1:$NEEDS_PORT/"; then',
  '  echo "worker: nothing answers on 127.0.0.1:$NEEDS_PORT on this host" >&2',
  '  exit 1',
  'fi',
  'while true; do sleep 0.2; done',
  '',
].join('\n');

let stack: ClusterStack;
let app: AppWorktree;
let dependencyDir: string | undefined;
const shas: Record<string, string> = {};

const push = (): Promise<GitPushResult> => gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main'], { timeoutMs: 180_000 });
/** A release of web + worker; a short watch keeps three host-by-host commits quick. */
async function release(version: string, options: { strategy?: 'start-first' | 'stop-first'; env?: Record<string, string> } = {}): Promise<void> {
  await writeBusyboxApp(app.dir, {
    version,
    slipwayJson: {
      healthcheck: { path: '/cgi-bin/health', timeout: 20 },
      watch: 2,
      drain_timeout: 20,
      rollout: { start_timeout: 15 },
      env: { VERSION: version, ...options.env },
      processes: { worker: { strategy: options.strategy ?? 'start-first', stop_grace: 5 } },
    },
  });
  await fs.writeFile(path.join(app.dir, 'worker.sh'), WORKER_SCRIPT);
  await fs.writeFile(path.join(app.dir, 'Procfile'), PROCFILE);
  shas[version] = await commit(app.dir, version);
}
const served = (host: HostName) => servedOn(stack, host, app.name);
const everyHost = () => containersOnEveryHost(stack, app.name);
/** One web container and one worker, both of `sha`, both running. */
const webAndWorker = (sha: string): HostContainer[] => [
  { name: app.name, sha, running: true },
  { name: `${app.name}-worker-1`, sha, running: true },
];
const onEveryHost = (containers: HostContainer[]) => ({ local: containers, h2: containers, h3: containers });

const streamEveryHost = () => streamThroughEveryHost(stack, app.name, RATE);
beforeAll(async () => {
  stack = await startClusterStack();
  app = await createAppOnEveryHost(stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await app?.remove();
  if (dependencyDir) await fs.rm(dependencyDir, { recursive: true, force: true });
}, 180_000);

describe('worker process types across three hosts', () => {
  it('web + worker: v1, then v2 under a request stream through each host: 0 failed anywhere, every host runs exactly the v2 web and the v2 worker', async () => {
    await release('v1');
    const first = await push();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/live on 3 hosts/);
    expect(await everyHost(), first.output).toEqual(onEveryHost(webAndWorker(shas.v1)));

    await release('v2');
    const streams = streamEveryHost();
    const second = await push();
    const results = await streams.stop();
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(/live on 3 hosts/);
    expect(failuresOf(results), describeStreams(results)).toEqual({ local: 0, h2: 0, h3: 0 });
    for (const host of HOST_NAMES) expect(await served(host), host).toBe('version=v2');
    expect(await everyHost(), second.output).toEqual(onEveryHost(webAndWorker(shas.v2)));
  }, 240_000);

  it("a v3 whose worker exits on h3 only (a service it needs answers on local's and h2's loopback): the push fails naming h3; every host runs the v2 web and worker again, no v3 container anywhere, 0 failed requests", async () => {
    const port = await freePort();
    dependencyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-dependency-'));
    await fs.chmod(dependencyDir, 0o755);
    await fs.writeFile(path.join(dependencyDir, 'index.html'), 'ok\n', { mode: 0o644 });
    const probe = ['/bin/busybox', 'wget', '-q', '-O', '-', `http://127.0.0.1:${port}/`];
    for (const host of ['local', 'h2'] as const) {
      stack.spawnOn(host, ['/bin/busybox', 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', dependencyDir]);
      await waitUntil(`the dependency on ${host}`, async () => ((await stack.runOn(host, probe)).code === 0 ? true : undefined), 10_000, stack.log);
    }
    expect((await stack.runOn('h3', probe)).code).not.toBe(0);

    // stop-first: each host's commit stops its v2 worker before v3's starts, so going back must start it again.
    await release('v3', { strategy: 'stop-first', env: { NEEDS_PORT: String(port) } });
    const streams = streamEveryHost();
    const pushed = await push();
    const results = await streams.stop();
    expect(pushed.code, pushed.output).not.toBe(0);
    expect(failureLine(pushed), pushed.output).toMatch(/\bh3\b/);
    expect(pushed.output).not.toMatch(/live on 3 hosts/);
    // local and h2 switched to v3 (its web is healthy everywhere) and back: no request failed meanwhile.
    expect(failuresOf(results), describeStreams(results)).toEqual({ local: 0, h2: 0, h3: 0 });
    for (const host of HOST_NAMES) expect(await served(host), host).toBe('version=v2');
    expect(await everyHost(), `${pushed.output}\n${stack.log().slice(-3_000)}`).toEqual(onEveryHost(webAndWorker(shas.v2)));
  }, 180_000);
});
