/**
 * One release across three hosts (issue 19), on real parts: a slipway server (`local`) and two
 * simulated hosts `h2`, `h3` (network namespaces with their own dockerd and Apache, each running
 * `slipway agent`; test/support/cluster-stack.ts), an app on all three (`hosts:set`), pushed with the
 * real git client, and a request stream through each host's own Apache.
 *
 * Ground truth is each host's Docker Engine (`docker ps`: which containers, which `slipway.sha`) and
 * what each host's Apache answers, not slipway's own account of it.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_NAMES, startClusterStack, type ClusterStack, type HostContainer, type HostName } from '../support/cluster-stack';
import { freePort } from '../support/free-port';
import { gitPush, type GitPushResult } from '../support/git-client';
import { commit, writeBusyboxApp, type AppWorktree, type BusyboxAppOptions } from '../support/test-app';
import { waitUntil } from '../support/wait-until';
import { containersOnEveryHost, createAppOnEveryHost, describeStreams, failureLine, failuresOf, servedOn, streamEveryHost as streamThroughEveryHost } from '../support/cluster-app';

/**
 * A short watch keeps three host-by-host commits quick (the drain still waits for in-flight
 * requests); a host's agent gets 15 s (default 30) to take a phase, which bounds the push whose agent was killed.
 */
const SLIPWAY_JSON = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 2, drain_timeout: 20, rollout: { start_timeout: 15 } };
const RATE = 20;

let stack: ClusterStack;
let app: AppWorktree;
let dependencyDir: string | undefined;
const shas: Record<string, string> = {};

const push = (timeoutMs = 240_000): Promise<GitPushResult> => gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main'], { timeoutMs });
const release = async (version: string, options: Partial<BusyboxAppOptions> = {}) => {
  await writeBusyboxApp(app.dir, { version, slipwayJson: SLIPWAY_JSON, ...options });
  shas[version] = await commit(app.dir, version);
};
const served = (host: HostName) => servedOn(stack, host, app.name);
const everyHost = () => containersOnEveryHost(stack, app.name);
const only = (sha: string): HostContainer[] => [{ name: app.name, sha, running: true }];

const streamEveryHost = () => streamThroughEveryHost(stack, app.name, RATE);
interface StatusRow {
  hosts?: { host: string; state: string; sha?: string }[];
}
const statusHosts = async () => {
  const status = await stack.slipway.cli(['status', app.name, '--json']);
  expect(status.code, status.output).toBe(0);
  return ((JSON.parse(status.output) as StatusRow[])[0]?.hosts ?? []).map(({ host, state, sha }) => ({ host, state, sha })).sort((a, b) => a.host.localeCompare(b.host));
};
/** A slipway command that must succeed; its output. */
const cli = async (args: string[]) => {
  const run = await stack.slipway.cli(args);
  expect(run.code, `${args.join(' ')}\n${run.output}\n${stack.log().slice(-2_000)}`).toBe(0);
  return run.output;
};
const statusOn = (sha: string) => [...HOST_NAMES].sort().map((host) => ({ host, state: 'up', sha }));

beforeAll(async () => {
  stack = await startClusterStack();
  app = await createAppOnEveryHost(stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await app?.remove();
  if (dependencyDir) await fs.rm(dependencyDir, { recursive: true, force: true });
}, 180_000);

describe('one release across three hosts', () => {
  it('v1 goes live on 3 hosts; v2 under a request stream through each host: 0 failed anywhere, every host serves and runs v2 alone', async () => {
    await release('v1');
    const first = await push();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/live on 3 hosts/);
    for (const host of HOST_NAMES) expect(await served(host), host).toBe('version=v1');

    await release('v2');
    const streams = streamEveryHost();
    const second = await push();
    const results = await streams.stop();
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(/live on 3 hosts/);
    expect(failuresOf(results), describeStreams(results)).toEqual({ local: 0, h2: 0, h3: 0 });
    for (const host of HOST_NAMES) {
      expect(results[host].bodies.get('version=v2'), `${host} served v2 during the push\n${describeStreams(results)}`).toBeGreaterThan(0);
      expect(await served(host), host).toBe('version=v2');
    }
    expect(await everyHost()).toEqual({ local: only(shas.v2), h2: only(shas.v2), h3: only(shas.v2) });
    expect(await statusHosts()).toEqual(statusOn(shas.v2));
  }, 300_000);

  it('a v3 unhealthy on h3 only (a dependency it needs runs on local and h2): the push fails naming h3, no host switched, no pending container anywhere', async () => {
    // The dependency answers on each host's own loopback: on local and h2, not on h3.
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

    // A shorter health timeout than the default settings': h3's v3 never gets healthy.
    await release('v3', { health: 'needs-dependency', dependencyPort: port, slipwayJson: { ...SLIPWAY_JSON, healthcheck: { path: '/cgi-bin/health', timeout: 8 } } });
    const streams = streamEveryHost();
    const pushed = await push();
    const results = await streams.stop();
    expect(pushed.code, pushed.output).not.toBe(0);
    expect(failureLine(pushed), pushed.output).toMatch(/\bh3\b/);
    expect(pushed.output).not.toMatch(/live on 3 hosts/);
    // No host switched: no request anywhere was answered by v3, and every host still serves and runs v2 alone.
    expect(failuresOf(results), describeStreams(results)).toEqual({ local: 0, h2: 0, h3: 0 });
    for (const host of HOST_NAMES) {
      expect([...results[host].bodies.keys()], `${host}\n${describeStreams(results)}`).toEqual(['version=v2']);
      expect(await served(host), host).toBe('version=v2');
    }
    expect(await everyHost(), pushed.output).toEqual({ local: only(shas.v2), h2: only(shas.v2), h3: only(shas.v2) });
    expect(await statusHosts()).toEqual(statusOn(shas.v2));
  }, 180_000);

  it("SIGKILL of h3's agent mid-rollout: the push ends by the rules; once the agent is back every host runs one and the same release, no pending container, no request lost", async () => {
    await release('v4');
    const streams = streamEveryHost();
    const pushing = push();
    // Mid-rollout: the first host has switched to v4 (its Apache answers v4), so the commit is under way.
    const switched = await waitUntil(
      'a host switched to v4',
      async () => {
        for (const host of HOST_NAMES) if ((await served(host).catch(() => '')) === 'version=v4') return host;
        return undefined;
      },
      180_000,
      stack.log,
    );
    const h3Before = await served('h3').catch((err: Error) => err.message);
    await stack.killAgent('h3');
    const pushed = await pushing;
    const context = `first switched: ${switched}; h3 served "${h3Before}" when its agent was killed\n${pushed.output}`;
    expect(pushed.code, `the push ended on its own\n${context}`).not.toBe(-1);
    // Success means every host is on v4; a failure names h3 and leaves (or brings back) every host on v2.
    const expected = pushed.code === 0 ? shas.v4 : shas.v2;
    if (pushed.code === 0) expect(pushed.output).toMatch(/live on 3 hosts/);
    else expect(failureLine(pushed), context).toMatch(/\bh3\b/);

    stack.startAgent('h3');
    const body = pushed.code === 0 ? 'version=v4' : 'version=v2';
    let seen = '';
    await waitUntil(
      `every host on ${pushed.code === 0 ? 'v4' : 'v2'} alone (no pending container), its Apache serving it`,
      async () => {
        const containers = await everyHost();
        seen = JSON.stringify(containers);
        if (!HOST_NAMES.every((host) => JSON.stringify(containers[host]) === JSON.stringify(only(expected)))) return undefined;
        for (const host of HOST_NAMES) if ((await served(host).catch(() => '')) !== body) return undefined;
        return true;
      },
      120_000,
      // waitUntil prints the last 4 000 characters: what the hosts run and how the push ended, last.
      () => `${stack.log().slice(-2_000)}\n--- containers ---\n${seen}\n--- push ---\n${context.slice(-1_500)}`,
    );
    const results = await streams.stop();
    expect(failuresOf(results), `${describeStreams(results)}\n${context}`).toEqual({ local: 0, h2: 0, h3: 0 });
    // h3 is `up` again once its agent's heartbeat is heard (every 5 s).
    let status: unknown;
    await waitUntil(
      'status: every host up on the same release',
      async () => ((status = await statusHosts()), JSON.stringify(status) === JSON.stringify(statusOn(expected)) ? true : undefined),
      30_000,
      () => `status hosts: ${JSON.stringify(status)}`,
    );
  }, 420_000);

  it('with rollout.skip_unreachable, a host whose agent is down is left out: the others go live on v5 and, once its agent is back, slipway brings it to v5', async () => {
    const before = await served('h3');
    await stack.killAgent('h3');
    await release('v5', { slipwayJson: { ...SLIPWAY_JSON, rollout: { ...SLIPWAY_JSON.rollout, skip_unreachable: true } } });
    const pushed = await push();
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.output).toMatch(/live on 2 hosts \(local, h2\) \(h3 left out: not answering\)/);
    for (const host of ['local', 'h2'] as const) expect(await served(host), host).toBe('version=v5');
    expect(await served('h3')).toBe(before);

    stack.startAgent('h3');
    // The worker looks every 10 s for hosts left out of a live release whose agent heartbeats again.
    let seen = '';
    await waitUntil(
      'h3 brought to v5',
      async () => {
        const containers = await everyHost();
        seen = JSON.stringify(containers);
        return HOST_NAMES.every((host) => JSON.stringify(containers[host]) === JSON.stringify(only(shas.v5))) && (await served('h3').catch(() => '')) === 'version=v5' ? true : undefined;
      },
      90_000,
      () => `${stack.log().slice(-3_000)}\n--- containers ---\n${seen}`,
    );
    expect(await statusHosts()).toEqual(statusOn(shas.v5));
  }, 300_000);

  it('maintenance and stop act on every host (its Apache answers the maintenance page; stop stops its container) and start brings v5 back everywhere; with a host down they change nothing', async () => {
    const page = async (host: HostName) => {
      const answer = await stack.get(host, app.name);
      return answer.status === 503 && answer.body.includes('Down for maintenance') ? 'page' : `${answer.status} ${answer.body.trim().slice(0, 80)}`;
    };
    const pages = async () => Object.fromEntries(await Promise.all(HOST_NAMES.map(async (host) => [host, await page(host)] as const)));
    const everyHostPage = { local: 'page', h2: 'page', h3: 'page' };
    const stoppedV5 = [{ name: app.name, sha: shas.v5, running: false }];
    // `slipway releases` says where each release went (case 4: v5 without h3, then h3 brought to it).
    const releases = await cli(['releases', app.name]);
    expect(releases).toMatch(/local,h2 \(h3 left out\)\s+ok/);
    expect(releases).toMatch(/ h3\s+ok/);

    expect(await cli(['maintenance', app.name, 'on'])).toContain('maintenance on on 3 hosts (local, h2, h3)');
    expect(await pages()).toEqual(everyHostPage);
    expect(await everyHost()).toEqual({ local: only(shas.v5), h2: only(shas.v5), h3: only(shas.v5) });
    expect(await cli(['maintenance', app.name, 'off'])).toContain('maintenance off on 3 hosts');
    for (const host of HOST_NAMES) expect(await served(host), host).toBe('version=v5');

    expect(await cli(['stop', app.name])).toContain(`${app.name} stopped on 3 hosts (local, h2, h3)`);
    expect(await pages()).toEqual(everyHostPage);
    expect(await everyHost()).toEqual({ local: stoppedV5, h2: stoppedV5, h3: stoppedV5 });
    expect(await statusHosts()).toEqual(HOST_NAMES.map((host) => ({ host, state: 'up', sha: '' })).sort((a, b) => a.host.localeCompare(b.host)));

    expect(await cli(['start', app.name])).toMatch(/live on 3 hosts/);
    for (const host of HOST_NAMES) expect(await served(host), host).toBe('version=v5');
    expect(await everyHost()).toEqual({ local: only(shas.v5), h2: only(shas.v5), h3: only(shas.v5) });

    // h3's agent down (called `down` after three missed heartbeats): neither changes any host.
    await stack.killAgent('h3');
    await waitUntil('h3 down', async () => ((await statusHosts()).find((h) => h.host === 'h3')?.state === 'down' ? true : undefined), 40_000, stack.log);
    for (const args of [
      ['maintenance', app.name, 'on'],
      ['stop', app.name],
    ]) {
      const refused = await stack.slipway.cli(args);
      expect(refused.code, refused.output).not.toBe(0);
      expect(refused.output).toMatch(/h3 is not answering \(last contact \d+ s ago\): `slipway (maintenance|stop)` changed nothing on any host/);
    }
    for (const host of ['local', 'h2'] as const) expect(await served(host), host).toBe('version=v5');
    expect((await everyHost()).h2).toEqual(only(shas.v5));
    stack.startAgent('h3');
  }, 300_000);

  it('hosts:set without h3 takes the app off h3 at once while local and h2 keep serving; a leave-and-join at once is refused; apps:destroy removes it from every host', async () => {
    await waitUntil('h3 up again', async () => ((await statusHosts()).find((h) => h.host === 'h3')?.state === 'up' ? true : undefined), 40_000, stack.log);
    const streams = streamEveryHost();
    const set = await cli(['hosts:set', app.name, 'local,h2']);
    const results = await streams.stop();
    expect(set).toContain(`h3: ${app.name} removed (1 container, `);
    expect(await stack.containers('h3', app.name)).toEqual([]);
    expect((await stack.get('h3', app.name)).body).not.toContain('version=');
    expect({ local: results.local.failed, h2: results.h2.failed }, describeStreams(results)).toEqual({ local: 0, h2: 0 });
    for (const host of ['local', 'h2'] as const) expect(await served(host), host).toBe('version=v5');

    const move = await stack.slipway.cli(['hosts:set', app.name, 'local,h3']);
    expect(move.code, move.output).not.toBe(0);
    expect(move.output).toContain(`${app.name} would leave h2 and join h3 at once`);
    expect(move.output).toContain('nothing changed');
    expect(await served('h2')).toBe('version=v5');

    const destroyed = await cli(['apps:destroy', app.name, '--confirm', app.name]);
    expect(destroyed).toMatch(new RegExp(`local: ${app.name} removed \\(1 container`));
    expect(destroyed).toMatch(new RegExp(`h2: ${app.name} removed \\(1 container`));
    for (const host of HOST_NAMES) expect(await stack.containers(host, app.name), host).toEqual([]);
  }, 180_000);
});
