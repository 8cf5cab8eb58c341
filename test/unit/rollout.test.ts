/**
 * One release across several hosts, with fake machines: each host has its own in-memory Docker
 * (test/support/fake-docker.ts) and its own ApacheSites on a temp directory, and the hosts' phases
 * run through the real runHostPhase, as an agent runs them. Checks the two-phase rules: nothing
 * switches anywhere until every host is prepared; a prepare failure removes the pending containers
 * everywhere; a commit failure on host k switches back hosts 1..k; old containers stop only when
 * every host is committed. Workers: each host starts its own in its commit, after its switch, and a
 * revert brings the previous ones back; phases run twice change nothing more. The real-stack proofs
 * are test/e2e/multi-host.e2e.test.ts and test/e2e/multi-host-workers.e2e.test.ts.
 */
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApacheSites } from '../../src/apache/apache-sites';
import type { DeployConfig, DeployDeps } from '../../src/deploy/deploy-context';
import { runHostPhase } from '../../src/deploy/host-phase';
import { HostUnreachableError, type HostPhaseRequest, type HostsAccess } from '../../src/deploy/host-phase-request';
import { convergeHosts } from '../../src/worker/host-convergence';
import { createLogger } from '../../src/logger';
import { runDeploy } from '../../src/deploy/run-deploy';
import type { DeployJobData } from '../../src/queue/deploy-job';
import { ReleaseStore } from '../../src/releases/release-store';
import { readSettings } from '../../src/settings';
import { FakeDocker } from '../support/fake-docker';

const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);
const HOSTS = ['local', 'h2', 'h3'];

interface Machine {
  docker: FakeDocker;
  deps: DeployDeps;
  config: DeployConfig;
  mapsDir: string;
}

let dir: string;
let apacheServer: http.Server;
let machines: Record<string, Machine>;
let releases: ReleaseStore;
let hostsConfig: string[];
/** Phases in the order the hosts ran them: `h2 prepare`. */
let phases: string[];
/** A host whose agent does not take jobs (the access fails the phase as the real one does when its bound passes). */
let unreachable: Set<string>;
/** `h2 finish`: that host's job runs twice, as when BullMQ hands it over again after its agent died at its end. */
let redelivered: Set<string>;
/** The app's server-side config (`readAppConfig`) beside its hosts: its scale. */
let appScale: Record<string, number> | undefined;
let slipwayJson: object;

function machine(name: string, index: number, httpPort: number): Machine {
  const docker = new FakeDocker();
  const mapsDir = path.join(dir, name, 'maps');
  const first = 20000 + Math.floor(Math.random() * 15000) + index * 1000;
  const deps: DeployDeps = {
    docker,
    apache: new ApacheSites({ sitesDir: path.join(dir, name, 'sites'), mapsDir, httpPort, ctl: { configtest: async () => ({ ok: true, output: '' }), graceful: async () => undefined } }),
    isPortFree: async () => true,
    readRepoFile: async (_app, _sha, file) => (file === 'slipway.json' ? JSON.stringify(slipwayJson) : undefined),
    checkout: async () => dir,
    settleCheckout: async () => undefined,
    listApps: async () => ['shop'],
    connectionsOn: async () => 0,
    startProbe: () => ({ stop: async () => ({ requests: 10, failed: 0, longestGapMs: 3 }) }),
    apacheAnswers: async () => undefined,
    readAppConfig: async () => ({ env: {}, hosts: hostsConfig, ...(appScale ? { scale: appScale } : {}) }),
    tagRelease: async () => undefined,
    notify: () => undefined,
    describeCertificate: async () => 'valid',
  };
  const config: DeployConfig = { portRange: { first, last: first + 20 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme, apacheAnswerWaitMs: 300 };
  return { docker, deps, config, mapsDir };
}

/** The fake agents: a phase for `h2` runs on h2's machine, its lines prefixed as the real access does. */
const access: HostsAccess = {
  async run(host, request: HostPhaseRequest, say) {
    if (unreachable.has(host)) {
      if (request.phase === 'revert' || request.phase === 'abort') return {};
      throw new HostUnreachableError(`did not answer: its agent did not take the ${request.phase} within 30 s`);
    }
    phases.push(`${host} ${request.phase}`);
    const m = machines[host];
    // The image "arrives" with the prepare (the server built it).
    if (request.phase === 'prepare') m.docker.images.set(`shop:${request.job.sha}`, `img-${request.job.sha.slice(0, 4)}`);
    const run = () => runHostPhase(request, { ...m.deps, listApps: async () => request.apps, readAppConfig: async () => request.appConfig }, m.config, say);
    if (redelivered.has(`${host} ${request.phase}`)) await run();
    return run();
  },
  async publish(app, sha) {
    return { image: { endpoint: '10.0.0.1:6381', user: 'slipway', password: 'x', ca: 'pem' }, line: `Image ${sha.slice(0, 7)} of ${app} pushed` };
  },
};

const job = (sha: string): DeployJobData => ({ app: 'shop', sha, ref: 'refs/heads/main', kind: 'push', pushedBy: 'alice', pushedAt: new Date().toISOString() });
let said: string[];
const deploy = (sha: string) => {
  const local = machines.local;
  return runDeploy(job(sha), `deploy-shop-${sha.slice(0, 7)}-${Math.random()}`, { ...local.deps, hosts: access }, local.config, releases, (line) => said.push(line));
};

const portMap = (host: string) => fs.readFile(path.join(machines[host].mapsDir, 'shop.map'), 'utf8');
const names = (host: string) => [...machines[host].docker.containers.keys()].sort();

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-rollout-'));
  apacheServer = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => apacheServer.listen(0, '127.0.0.1', () => r()));
  const httpPort = (apacheServer.address() as { port: number }).port;
  machines = {};
  for (const [i, host] of HOSTS.entries()) {
    await fs.mkdir(path.join(dir, host, 'sites'), { recursive: true });
    machines[host] = machine(host, i, httpPort);
  }
  releases = new ReleaseStore(path.join(dir, 'releases'));
  hostsConfig = HOSTS;
  phases = [];
  unreachable = new Set();
  redelivered = new Set();
  appScale = undefined;
  slipwayJson = { healthcheck: { path: '/health', timeout: 2 }, watch: 0, drain_timeout: 1 };
  said = [];
});

afterEach(async () => {
  for (const m of Object.values(machines)) await m.docker.closeAll();
  apacheServer.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('one release across several hosts (fake machines)', () => {
  it('prepares every host before any switches, commits host by host, and stops the old containers only when all are committed', async () => {
    expect((await deploy(SHA1)).ok).toBe(true);
    phases = [];
    const result = await deploy(SHA2);
    expect(result.ok, said.join('\n')).toBe(true);
    expect(result.summary).toMatch(/^✔ shop bbbbbbb live on 3 hosts \(local, h2, h3\) in/);
    // The server's probe (its Apache) and each other host's, through that host's Apache in its commit and finish.
    expect(result.summary).toMatch(/ · probe: 10 requests, 0 failed, longest gap 3 ms · probe h2: 20 requests, 0 failed; h3: 20 requests, 0 failed$/);
    const prepares = phases.filter((p) => p.endsWith('prepare'));
    // h2 and h3 go through the access; local runs in-process. Every prepare came before the first commit.
    expect(prepares.sort()).toEqual(['h2 prepare', 'h3 prepare']);
    expect(phases.slice(0, 2).every((p) => p.endsWith('prepare'))).toBe(true);
    expect(phases.slice(2)).toEqual(['h2 commit', 'h3 commit', 'h2 finish', 'h3 finish']);
    for (const host of HOSTS) {
      expect(names(host)).toEqual(['shop']);
      expect(machines[host].docker.containers.get('shop')?.labels['slipway.sha']).toBe(SHA2);
    }
    expect(said.some((l) => l.startsWith('       [h2] -----> Starting shop-pending'))).toBe(true);
    expect((await releases.list('shop')).map((r) => r.result)).toEqual(['live', 'live']);
  });

  it("another host keeps the images of the app's last releases, like the server; the server's own are not touched by the finish", async () => {
    const SHA0 = 'c'.repeat(40);
    for (const host of ['local', 'h2']) {
      machines[host].docker.listAppImages = async () => [SHA0, SHA1, SHA2].map((sha) => ({ id: `img-${sha.slice(0, 4)}`, sha, tags: [`shop:${sha}`] }));
      machines[host].config.keepReleases = 1;
    }
    expect((await deploy(SHA1)).ok).toBe(true);
    machines.h2.docker.log = [];
    machines.local.docker.log = [];
    expect((await deploy(SHA2)).ok).toBe(true);
    // keep 1: h2 keeps the release just made, as the server does; the server removes its own once,
    // after the release is recorded (not in its finish too).
    for (const host of ['local', 'h2']) expect(machines[host].docker.log.filter((l) => l.startsWith('remove image')).sort()).toEqual(['remove image img-aaaa', 'remove image img-cccc']);
    expect(said).toContain('       [h2] -----> Removed 2 old image(s), keeping the last 1 releases');
  });

  it('an unhealthy host fails the prepare: nothing switched anywhere, no pending container anywhere, the push names the host', async () => {
    expect((await deploy(SHA1)).ok).toBe(true);
    const before = await Promise.all(HOSTS.map(portMap));
    machines.h3.docker.healthStatus = 500;
    phases = [];
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/^✘ h3: health check failed: GET \/health → 500 after 2 s; aaaaaaa still serving$/);
    expect(phases.filter((p) => p.endsWith('commit'))).toEqual([]);
    expect(await Promise.all(HOSTS.map(portMap))).toEqual(before);
    for (const host of HOSTS) {
      expect(names(host)).toEqual(['shop']);
      expect(machines[host].docker.containers.get('shop')?.labels['slipway.sha']).toBe(SHA1);
    }
    expect((await releases.list('shop')).at(-1)).toMatchObject({ result: 'failed', reason: expect.stringMatching(/^h3: health check failed/) as unknown });
  });

  it("a prepare first puts a host's traffic back on the running version when an interrupted deploy had switched it to its pending container", async () => {
    expect((await deploy(SHA1)).ok).toBe(true);
    const before = await portMap('h2');
    // A deploy cut off after h2's switch (the server restarted; a newer push got the app first).
    const h2 = machines.h2;
    const port = h2.config.portRange.last;
    await h2.docker.runContainer({
      name: 'shop-pending',
      image: `shop:${SHA2}`,
      env: { PORT: String(port) },
      labels: { 'slipway.app': 'shop', 'slipway.sha': SHA2, 'slipway.port': String(port), 'slipway.deploy': 'cut-off' },
      volumes: [],
    });
    await h2.deps.apache.route('shop', { port: [port], maintenance: false });
    expect(await portMap('h2')).not.toEqual(before);
    // This deploy fails on h3: nothing of it switches, and h2 must not be left routed to the removed container.
    machines.h3.docker.healthStatus = 500;
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(said).toContain(
      `       [h2] -----> Traffic on the running version (:${machines.h2.docker.containers.get('shop')?.labels['slipway.port']}) before an interrupted deploy's pending containers go`,
    );
    expect(await portMap('h2')).toEqual(before);
    expect(names('h2')).toEqual(['shop']);
  });

  it('a host whose agent does not answer fails the deploy naming it, before anything switched', async () => {
    expect((await deploy(SHA1)).ok).toBe(true);
    unreachable.add('h3');
    const result = await deploy(SHA2);
    expect(result.summary).toMatch(/^✘ h3: did not answer: its agent did not take the prepare within 30 s; aaaaaaa still serving$/);
    for (const host of HOSTS) expect(names(host)).toEqual(['shop']);
  });

  it('with rollout.skip_unreachable, a host that does not answer is left out: the others get the release, the record names the host', async () => {
    expect((await deploy(SHA1)).ok).toBe(true);
    slipwayJson = { ...slipwayJson, rollout: { skip_unreachable: true } };
    unreachable.add('h3');
    const result = await deploy(SHA2);
    expect(result.ok, said.join('\n')).toBe(true);
    expect(result.summary).toMatch(/^✔ shop bbbbbbb live on 2 hosts \(local, h2\) \(h3 left out: not answering\) in/);
    expect(machines.h2.docker.containers.get('shop')?.labels['slipway.sha']).toBe(SHA2);
    expect(machines.h3.docker.containers.get('shop')?.labels['slipway.sha']).toBe(SHA1);
    expect(await releases.live('shop')).toMatchObject({ sha: SHA2, hosts: ['local', 'h2'], skippedHosts: ['h3'] });
    // Every host unreachable but one is still a release; no host left is not.
    unreachable.add('h2');
    machines.local.docker.healthStatus = 500;
    expect((await deploy(SHA1)).summary).toMatch(/^✘ local: health check failed/);
  });

  it('a host left out is brought to the live release once it heartbeats again, for that host only, once', async () => {
    slipwayJson = { ...slipwayJson, rollout: { skip_unreachable: true } };
    unreachable.add('h3');
    expect((await deploy(SHA1)).ok).toBe(true);
    const queued: object[] = [];
    let up = false;
    const deps = {
      listApps: async () => ['shop'],
      readAppConfig: async () => ({ env: {}, hosts: HOSTS }),
      releases,
      hostUp: async () => up,
      busyApps: async () => new Set<string>(),
      enqueue: async (data: object) => void queued.push(data),
      log: createLogger('test'),
    };
    const tried = new Map<string, number>();
    expect(await convergeHosts(deps, tried)).toEqual([]);
    up = true;
    expect(await convergeHosts(deps, tried)).toEqual(['shop: h3 back, bringing it to release 1']);
    expect(queued).toEqual([expect.objectContaining({ app: 'shop', sha: SHA1, kind: 'restart', skipRelease: true, hosts: ['h3'] })]);
    // Not again while that job runs or right after it failed; a deploy for h3 only then reaches h3 alone.
    expect(await convergeHosts(deps, tried)).toEqual([]);
    unreachable.clear();
    phases = [];
    const result = await runDeploy({ ...job(SHA1), kind: 'restart', skipRelease: true, hosts: ['h3'] }, 'converge-1', { ...machines.local.deps, hosts: access }, machines.local.config, releases, (l) =>
      said.push(l),
    );
    expect(result.summary, said.join('\n')).toMatch(/^✔ shop aaaaaaa live on 1 host \(h3\)/);
    expect(phases).toEqual(['h3 prepare', 'h3 commit', 'h3 finish']);
    expect(machines.h3.docker.containers.get('shop')?.labels['slipway.sha']).toBe(SHA1);
    expect(await convergeHosts(deps, new Map())).toEqual([]);
  });

  /** h3's Apache does not answer after its switch: its commit fails (and undoes its own switch). */
  const failCommitOnH3 = () => {
    const h3 = machines.h3.deps;
    let switched = false;
    h3.apacheAnswers = async () => (switched ? 'Apache does not answer (connection refused)' : undefined);
    const apply = h3.apache.apply.bind(h3.apache);
    h3.apache.apply = async (site, options) => {
      switched = true;
      return apply(site, options);
    };
  };

  it('a commit that fails on the third host switches back the hosts before it: all or nothing', async () => {
    expect((await deploy(SHA1)).ok).toBe(true);
    const before = await Promise.all(HOSTS.map(portMap));
    failCommitOnH3();
    phases = [];
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/^✘ h3: .*; aaaaaaa still serving$/);
    expect(phases).toContain('h2 commit');
    expect(phases).toContain('h2 revert');
    expect(phases.filter((p) => p.endsWith('finish'))).toEqual([]);
    // local switched first (in-process) and was switched back too: every map as before.
    expect(await Promise.all(HOSTS.map(portMap))).toEqual(before);
    for (const host of HOSTS) expect(names(host)).toEqual(['shop']);
  });

  it("a host whose commit ran twice (BullMQ handed it over again) is switched back to its running version all the same: the second run's snapshot is of the switched site", async () => {
    expect((await deploy(SHA1)).ok).toBe(true);
    const before = await Promise.all(HOSTS.map(portMap));
    failCommitOnH3();
    redelivered = new Set(['h2 commit']);
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(await Promise.all(HOSTS.map(portMap))).toEqual(before);
    for (const host of HOSTS) expect(names(host)).toEqual(['shop']);
  });

  it('refuses what an app on several hosts cannot do yet, naming the fix, before the build', async () => {
    const local = machines.local;
    local.deps.readRepoFile = async (_app, _sha, file) => (file === 'Procfile' ? 'worker: ./work\nclock: ./tick\n' : undefined);
    const result = await deploy(SHA1);
    expect(result.summary).toMatch(
      /^✘ not deployed: an app on several hosts needs a web process, for now; the Procfile at aaaaaaa has clock, worker only: add a "web:" line, or `slipway hosts:set shop local`/,
    );
    expect(local.docker.log).toEqual([]);
    const alone = await runDeploy(job(SHA1), 'd-1', local.deps, local.config, releases, () => undefined);
    expect(alone.summary).toMatch(/this server has no hosts set up/);
  });
});

describe('worker process types across hosts (fake machines)', () => {
  /** `container sha running` on `host`, sorted by name. */
  const containersOf = (host: string) => [...machines[host].docker.containers.values()].map((c) => `${c.name} ${c.labels['slipway.sha']?.slice(0, 1)} ${c.running ? 'running' : 'stopped'}`).sort();
  const runs = (sha: string) => [`shop ${sha[0]} running`, `shop-worker-1 ${sha[0]} running`, `shop-worker-2 ${sha[0]} running`];

  beforeEach(() => {
    for (const host of HOSTS) {
      const m = machines[host];
      m.deps.readRepoFile = async (_app, _sha, file) => (file === 'Procfile' ? 'web: ./serve\nworker: ./work\n' : file === 'slipway.json' ? JSON.stringify(slipwayJson) : undefined);
      // The switch, in the same log as the containers, to see what came first on each host.
      const apply = m.deps.apache.apply.bind(m.deps.apache);
      m.deps.apache.apply = async (site, options) => {
        m.docker.log.push('switch');
        return apply(site, options);
      };
    }
    appScale = { worker: 2 };
  });

  it('every host runs scale.worker workers of the release; each host starts its new ones in its commit, after its own switch', async () => {
    expect((await deploy(SHA1)).ok, said.join('\n')).toBe(true);
    for (const m of Object.values(machines)) m.docker.log = [];
    phases = [];
    const result = await deploy(SHA2);
    expect(result.ok, said.join('\n')).toBe(true);
    expect(result.summary).toMatch(/^✔ shop bbbbbbb live on 3 hosts/);
    expect(phases.slice(2)).toEqual(['h2 commit', 'h3 commit', 'h2 finish', 'h3 finish']);
    for (const host of HOSTS) {
      const log = machines[host].docker.log;
      const switched = log.indexOf('switch');
      const workersRun = log.flatMap((line, i) => (line.startsWith('run shop-worker-') ? [i] : []));
      expect(workersRun.length, `${host}: ${log.join(' | ')}`).toBe(2);
      expect(switched, `${host}: ${log.join(' | ')}`).toBeGreaterThanOrEqual(0);
      expect(Math.min(...workersRun), `${host}: ${log.join(' | ')}`).toBeGreaterThan(switched);
      expect(containersOf(host), host).toEqual(runs(SHA2));
    }
    // Each host once, the server included: its own steps do not start a second set.
    expect(said.filter((l) => /Starting worker ×2 of bbbbbbb/.test(l))).toHaveLength(3);
  });

  it('a commit that fails on h3 (its new workers exit) reverts local and h2, workers included: the old workers run again, no new worker is left anywhere', async () => {
    // stop-first: each host's commit stops its old workers before the new ones start, so the revert must start them again.
    slipwayJson = { ...slipwayJson, processes: { worker: { strategy: 'stop-first', stop_grace: 1 } } };
    expect((await deploy(SHA1)).ok, said.join('\n')).toBe(true);
    const before = await Promise.all(HOSTS.map(portMap));
    machines.h3.docker.workersDie = true;
    phases = [];
    said = [];
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/^✘ h3: the new worker shop-worker-\d-next exited .*; aaaaaaa still serving$/);
    expect(phases).toEqual(expect.arrayContaining(['h2 commit', 'h3 commit', 'h2 revert', 'h3 revert']));
    expect(phases.filter((p) => p.endsWith('finish'))).toEqual([]);
    expect(await Promise.all(HOSTS.map(portMap))).toEqual(before);
    for (const host of HOSTS) expect(containersOf(host), host).toEqual(runs(SHA1));
    // local and h2 committed (their new workers ran) and were brought back by the revert.
    expect(said).toContain("       started the previous release's worker ×2 (shop-worker-1, shop-worker-2) again");
    expect(said).toContain("       [h2] started the previous release's worker ×2 (shop-worker-1, shop-worker-2) again");
  });

  it("a host's commit and finish run twice (BullMQ hands a job over again after its agent died): one set of new workers, the release just promoted stays", async () => {
    expect((await deploy(SHA1)).ok, said.join('\n')).toBe(true);
    redelivered = new Set(['h2 commit', 'h2 finish']);
    const result = await deploy(SHA2);
    expect(result.ok, said.join('\n')).toBe(true);
    for (const host of HOSTS) expect(containersOf(host), host).toEqual(runs(SHA2));
  });

  it('a failed `start` of a stopped app leaves its old workers stopped on every host: the revert starts none of them again', async () => {
    expect((await deploy(SHA1)).ok, said.join('\n')).toBe(true);
    // As `slipway stop` left them when the app still ran on one host.
    for (const host of HOSTS) for (const n of [1, 2]) await machines[host].docker.stopContainer(`shop-worker-${n}`);
    machines.h3.docker.workersDie = true;
    const result = await runDeploy({ ...job(SHA1), kind: 'start' }, 'start-1', { ...machines.local.deps, hosts: access }, machines.local.config, releases, (l) => said.push(l));
    expect(result.ok).toBe(false);
    for (const host of HOSTS)
      expect(
        containersOf(host).filter((c) => c.includes('worker')),
        host,
      ).toEqual(['shop-worker-1 a stopped', 'shop-worker-2 a stopped']);
  });

  it('a revert run twice, or on a host that never started a worker, changes nothing more', async () => {
    expect((await deploy(SHA1)).ok, said.join('\n')).toBe(true);
    slipwayJson = { ...slipwayJson, processes: { worker: { strategy: 'stop-first', stop_grace: 1 } } };
    machines.h3.docker.workersDie = true;
    redelivered = new Set(['h2 revert', 'h3 revert']);
    expect((await deploy(SHA2)).ok).toBe(false);
    for (const host of HOSTS) expect(containersOf(host), host).toEqual(runs(SHA1));
  });
});
