/**
 * The deploy sequence with fake adapters: an in-memory Docker whose "containers" are tiny HTTP
 * servers in this process, a real ApacheSites on a temp directory with a fake apachectl, and a
 * fake probe. Fast, and it checks the order of effects and every undo.
 */
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApacheSites } from '../../src/apache/apache-sites';
import { DiskFullError } from '../../src/disk-full';
import type { DeployDeps } from '../../src/deploy/deploy-context';
import { runDeploy } from '../../src/deploy/run-deploy';
import { type ContainerInfo, type ContainerSpec, type DockerEngine, type OutputStream } from '../../src/docker/docker-engine';
import { BuildFailedError } from '../../src/docker/image-build';
import type { DeployEvent } from '../../src/notify/deploy-event';
import type { DeployJobData } from '../../src/queue/deploy-job';
import { ReleaseStore } from '../../src/releases/release-store';
import { reconcile } from '../../src/worker/reconcile';

const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);

/** A container is an HTTP server answering `health` on its PORT; "stopping" closes it. */
class FakeDocker implements DockerEngine {
  containers = new Map<string, ContainerInfo & { server?: http.Server }>();
  /** Tag → image id; every build makes a new id. */
  images = new Map<string, string>();
  builds = 0;
  log: string[] = [];
  healthStatus = 200;
  buildFails = false;

  async imageId(tag: string) {
    return this.images.get(tag);
  }
  async build(_dir: string, tags: string[]) {
    this.log.push(`build ${tags[0]}`);
    if (this.buildFails) throw new BuildFailedError('exit code 3');
    const id = `img-${++this.builds}`;
    for (const t of tags) this.images.set(t, id);
  }
  async inspectContainer(name: string) {
    return this.containers.get(name);
  }
  async listSlipwayContainers() {
    return [...this.containers.values()];
  }
  async runContainer(spec: ContainerSpec) {
    this.log.push(`run ${spec.name} :${spec.env.PORT}${spec.cmd ? ` ${JSON.stringify(spec.cmd)}` : ''}`);
    const server = http.createServer((_req, res) => res.writeHead(this.healthStatus).end('{"status":"UP"}'));
    await new Promise<void>((r) => server.listen(Number(spec.env.PORT), '127.0.0.1', () => r()));
    this.containers.set(spec.name, { id: spec.name, name: spec.name, running: true, restarted: false, exitCode: 0, imageId: this.images.get(spec.image) ?? spec.image, labels: spec.labels, server });
  }
  async stopContainer(name: string) {
    this.log.push(`stop ${name}`);
    const c = this.containers.get(name);
    if (c?.running) {
      c.running = false;
      await new Promise((r) => c.server?.close(r));
    }
  }
  async removeContainer(name: string) {
    if (!this.containers.has(name)) return;
    this.log.push(`remove ${name}`);
    const c = this.containers.get(name);
    if (c?.running) await new Promise((r) => c.server?.close(r));
    this.containers.delete(name);
  }
  async renameContainer(from: string, to: string) {
    this.log.push(`rename ${from} ${to}`);
    const c = this.containers.get(from) as ContainerInfo & { server?: http.Server };
    this.containers.delete(from);
    this.containers.set(to, { ...c, name: to });
  }
  /** What the fake release command prints and how it exits. */
  oneOff = { lines: ['migrated'] as (string | { stderr: string })[], exitCode: 0 as number | undefined, timedOut: false };
  async runOneOff(spec: ContainerSpec, onLine: (line: string, stream: OutputStream) => void) {
    this.log.push(`one-off ${spec.name} ${spec.image} ${JSON.stringify(spec.cmd)}`);
    this.containers.set(spec.name, { id: spec.name, name: spec.name, running: false, restarted: false, exitCode: 0, imageId: spec.image, labels: spec.labels });
    for (const line of this.oneOff.lines)
      if (typeof line === 'string') onLine(line, 'stdout');
      else onLine(line.stderr, 'stderr');
    return { exitCode: this.oneOff.exitCode, timedOut: this.oneOff.timedOut };
  }
  async createOneOff() {
    throw new Error('not used by deploys');
  }
  async startContainer() {
    throw new Error('not used by deploys');
  }
  async logsTail() {
    return '';
  }
  async listAppImages() {
    return [];
  }
  async removeImage(id: string) {
    this.log.push(`remove image ${id}`);
  }
  async closeAll() {
    for (const c of this.containers.values()) if (c.running) await new Promise((r) => c.server?.close(r));
  }
}

let dir: string;
let docker: FakeDocker;
let releases: ReleaseStore;
let apacheServer: http.Server;
let events: DeployEvent[];
let deps: DeployDeps;
let basePort: number;
let procfile: string | undefined;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-deploy-'));
  await fs.mkdir(path.join(dir, 'sites'));
  docker = new FakeDocker();
  procfile = undefined;
  releases = new ReleaseStore(path.join(dir, 'releases'));
  events = [];
  // Stands in for Apache: the after-reload check only needs something answering HTTP.
  apacheServer = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => apacheServer.listen(0, '127.0.0.1', () => r()));
  const httpPort = (apacheServer.address() as { port: number }).port;
  basePort = 20000 + Math.floor(Math.random() * 20000);
  deps = {
    docker,
    apache: new ApacheSites({
      sitesDir: path.join(dir, 'sites'),
      mapsDir: path.join(dir, 'maps'),
      httpPort,
      ctl: { configtest: async () => ({ ok: true, output: '' }), graceful: async () => undefined },
    }),
    isPortFree: async () => true,
    readRepoFile: async (_app, _sha, file) => (file === 'Procfile' ? procfile : JSON.stringify({ healthcheck: { path: '/health', timeout: 2 }, watch: 0, drain_timeout: 1 })),
    checkout: async () => dir,
    settleCheckout: async () => undefined,
    listApps: async () => ['shop'],
    connectionsOn: async () => 0,
    startProbe: () => ({ stop: async () => ({ requests: 10, failed: 0, longestGapMs: 3 }) }),
    apacheAnswers: async () => undefined,
    readAppConfig: async () => ({ env: {} }),
    tagRelease: async () => undefined,
    notify: (event) => events.push(event),
  };
});

afterEach(async () => {
  await docker.closeAll();
  apacheServer.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const job = (sha: string, rebuild?: boolean, extra: Partial<DeployJobData> = {}): DeployJobData => ({
  app: 'shop',
  sha,
  ref: 'refs/heads/main',
  kind: 'push',
  rebuild,
  pushedBy: 'alice',
  pushedAt: new Date().toISOString(),
  ...extra,
});
let said: string[] = [];
const deploy = (sha: string, id = `deploy-shop-${sha.slice(0, 12)}-1`, rebuild?: boolean, extra: Partial<DeployJobData> = {}) =>
  runDeploy(
    job(sha, rebuild, extra),
    id,
    deps,
    { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, apacheAnswerWaitMs: 300 },
    releases,
    (line) => said.push(line),
  );

describe('the deploy sequence (fake adapters)', () => {
  it('first deploy: build, start pending, switch, rename; release recorded; webhooks told', async () => {
    const result = await deploy(SHA1);
    expect(result.ok).toBe(true);
    expect(result.summary).toMatch(/^✔ shop aaaaaaa live on port \d+ in [\d.]+ s · http:\/\/shop.localhost\/ · probe: 10 requests, 0 failed/);
    expect(docker.log).toEqual([`build shop:${SHA1}`, `run shop-pending :${basePort}`, 'rename shop-pending shop']);
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 2\nupstream 127.0.0.1:${basePort}\n`);
    expect((await releases.list('shop')).map((r) => [r.number, r.result, r.pushedBy])).toEqual([[1, 'live', 'alice']]);
    expect(events.map((e) => e.event)).toEqual(['deploy.started', 'deploy.succeeded']);
  });

  it('second deploy: the new one takes a new port, the old one is stopped and removed after the switch', async () => {
    await deploy(SHA1);
    docker.log = [];
    deps.isPortFree = async (port) => port !== basePort;
    const result = await deploy(SHA2);
    expect(result.ok).toBe(true);
    expect(docker.log).toEqual([`build shop:${SHA2}`, `run shop-pending :${basePort + 1}`, 'stop shop', 'remove shop', 'rename shop-pending shop']);
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 2\nupstream 127.0.0.1:${basePort + 1}\n`);
  });

  it('a failed health check removes the pending container, switches nothing, and says what still serves', async () => {
    await deploy(SHA1);
    docker.log = [];
    docker.healthStatus = 500;
    deps.isPortFree = async (port) => port !== basePort;
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(result.summary).toBe('✘ health check failed: GET /health → 500 after 2 s; aaaaaaa still serving');
    expect(docker.log).toEqual([`build shop:${SHA2}`, `run shop-pending :${basePort + 1}`, 'remove shop-pending']);
    expect([...docker.containers.keys()]).toEqual(['shop']);
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 2\nupstream 127.0.0.1:${basePort}\n`);
    expect((await releases.list('shop')).at(-1)).toMatchObject({ result: 'failed', reason: 'health check failed: GET /health → 500 after 2 s' });
    expect(events.at(-1)?.event).toBe('deploy.failed');
  });

  it('a failure after the switch (promote) says the new version is live, so its push is not rejected', async () => {
    await deploy(SHA1);
    deps.isPortFree = async (port) => port !== basePort;
    docker.renameContainer = async () => {
      throw new Error('name in use');
    };
    const result = await deploy(SHA2);
    expect(result).toMatchObject({ ok: false, live: true });
    expect(result.summary).toMatch(/bbbbbbb serving$/);
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 2\nupstream 127.0.0.1:${basePort + 1}\n`);
  });

  it('a failed build starts nothing', async () => {
    docker.buildFails = true;
    const result = await deploy(SHA1);
    expect(result.summary).toBe('✘ build failed: exit code 3; nothing was serving before');
    expect(docker.containers.size).toBe(0);
  });

  it('a re-run after a crash adopts the pending container of the same deploy, and reuses the image', async () => {
    docker.images.set(`shop:${SHA1}`, 'img-0');
    const labels = { 'slipway.app': 'shop', 'slipway.sha': SHA1, 'slipway.port': String(basePort + 5), 'slipway.deploy': 'deploy-shop-crashed-1' };
    await docker.runContainer({ name: 'shop-pending', image: `shop:${SHA1}`, env: { PORT: String(basePort + 5) }, labels, volumes: [] });
    docker.log = [];
    const result = await deploy(SHA1, 'deploy-shop-crashed-1');
    expect(result.ok).toBe(true);
    expect(docker.log).toEqual(['rename shop-pending shop']);
    expect(result.summary).toContain(`live on port ${basePort + 5}`);
  });

  it("another deploy's leftover pending container is replaced, not adopted", async () => {
    docker.images.set(`shop:${SHA1}`, 'img-0');
    const labels = { 'slipway.app': 'shop', 'slipway.sha': SHA1, 'slipway.port': String(basePort + 5), 'slipway.deploy': 'deploy-shop-other-1' };
    await docker.runContainer({ name: 'shop-pending', image: `shop:${SHA1}`, env: { PORT: String(basePort + 5) }, labels, volumes: [] });
    docker.log = [];
    await deploy(SHA1, 'deploy-shop-new-2');
    expect(docker.log).toEqual(['remove shop-pending', `run shop-pending :${basePort}`, 'rename shop-pending shop']);
  });

  it('a rebuild of the live commit removes the image it took the tag from, once the old container is gone', async () => {
    await deploy(SHA1);
    docker.log = [];
    deps.isPortFree = async (port) => port !== basePort;
    const result = await deploy(SHA1, 'deploy-shop-rebuild-2', true);
    expect(result.ok).toBe(true);
    expect(docker.log).toEqual([`build shop:${SHA1}`, `run shop-pending :${basePort + 1}`, 'stop shop', 'remove shop', 'rename shop-pending shop', 'remove image img-1']);
  });

  it('running the same deploy twice updates its one release record instead of adding another', async () => {
    await deploy(SHA1, 'deploy-shop-x-1');
    await deploy(SHA1, 'deploy-shop-x-1');
    expect((await releases.list('shop')).map((r) => r.number)).toEqual([1]);
  });
});

describe('Apache down and a full disk (fake adapters)', () => {
  const mapPort = async () => Number(/127\.0\.0\.1:(\d+)/.exec(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8'))?.[1]);
  const APACHE_DOWN = 'Apache is not answering on :8080 (connect ECONNREFUSED 127.0.0.1:8080)';

  it('Apache not answering after the switch: the deploy fails, the port map goes back, the old version stays live', async () => {
    await deploy(SHA1);
    deps.isPortFree = async (port) => port !== basePort;
    deps.apacheAnswers = async () => APACHE_DOWN;
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(
      `✘ Apache switch failed: ${APACHE_DOWN} for shop.localhost after 0 s: the port map goes back as it was, so Apache serves the previous release once it runs again; aaaaaaa still serving`,
    );
    expect(said).toContain('       undone: switch');
    expect(await mapPort()).toBe(basePort);
    expect([...docker.containers.keys()]).toEqual(['shop']);
    expect((await releases.list('shop')).map((r) => [r.sha, r.result])).toEqual([
      [SHA1, 'live'],
      [SHA2, 'failed'],
    ]);
  });

  it('Apache answering again within the wait: the deploy goes on', async () => {
    await deploy(SHA1);
    deps.isPortFree = async (port) => port !== basePort;
    let asked = 0;
    deps.apacheAnswers = async () => (++asked < 2 ? APACHE_DOWN : undefined);
    const result = await deploy(SHA2);
    expect(result.ok).toBe(true);
    expect(await mapPort()).toBe(basePort + 1);
  });

  it('Apache dying during the watch: reverted before the old container is touched', async () => {
    await deploy(SHA1);
    deps.isPortFree = async (port) => port !== basePort;
    deps.readRepoFile = async (_app, _sha, file) => (file === 'Procfile' ? undefined : JSON.stringify({ healthcheck: { path: '/health', timeout: 2 }, watch: 1, drain_timeout: 1 }));
    let asked = 0;
    // The switch's check passes; Apache is gone by the end of the watch.
    deps.apacheAnswers = async () => (++asked === 1 ? undefined : APACHE_DOWN);
    docker.log = [];
    const result = await deploy(SHA2);
    expect(result.summary).toMatch(/^✘ Apache is not answering on :8080 .*; aaaaaaa still serving$/);
    expect(docker.log).toEqual([`build shop:${SHA2}`, `run shop-pending :${basePort + 1}`, 'remove shop-pending']);
    expect(await mapPort()).toBe(basePort);
    expect(events.at(-1)?.event).toBe('deploy.reverted');
  });

  it('the release record cannot be written (disk full): nothing is switched, and the pusher is told in plain words', async () => {
    await deploy(SHA1);
    deps.isPortFree = async (port) => port !== basePort;
    const file = releases.file('shop');
    const before = await fs.readFile(file, 'utf8');
    releases.record = async () => {
      throw new DiskFullError(file, Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    };
    const result = await deploy(SHA2);
    expect(result.summary).toBe(
      `✘ could not write the release record (nothing was switched): no space left on device at ${file}: free some space on that filesystem and try again (nothing was changed); aaaaaaa still serving`,
    );
    expect(said.some((l) => l.includes('could not record the release: no space left on device'))).toBe(true);
    expect(await mapPort()).toBe(basePort);
    expect(await fs.readFile(file, 'utf8')).toBe(before);
  });

  it('the last release record write failing after the switch: still live, its record says deploying until slipway starts again', async () => {
    await deploy(SHA1);
    deps.isPortFree = async (port) => port !== basePort;
    const record = releases.record.bind(releases);
    releases.record = async (r) => {
      if (r.result === 'live') throw new Error(`no space left on device at ${releases.file('shop')}: free some space`);
      return record(r);
    };
    const result = await deploy(SHA2);
    expect(result.ok).toBe(true);
    expect(said).toContain(`       could not mark release as live: no space left on device at ${releases.file('shop')}: free some space`);
    expect((await releases.list('shop')).map((r) => [r.sha, r.result])).toEqual([
      [SHA1, 'live'],
      [SHA2, 'deploying'],
    ]);
    expect(await mapPort()).toBe(basePort + 1);
    expect(events.at(-1)).toMatchObject({ event: 'deploy.succeeded', release: undefined });
  });
});

describe('reconcile after a crash (fake adapters)', () => {
  it("finishes a deploy killed right after the switch with the deploy's own steps: drain, stop and remove the old container, rename", async () => {
    await deploy(SHA1);
    // What a worker killed right after the switch leaves: SHA2 pending, Apache on it, its record `deploying`.
    const port = basePort + 3;
    const labels = { 'slipway.app': 'shop', 'slipway.sha': SHA2, 'slipway.port': String(port), 'slipway.deploy': 'deploy-shop-crashed-2' };
    await docker.runContainer({ name: 'shop-pending', image: `shop:${SHA2}`, env: { PORT: String(port) }, labels, volumes: [] });
    await deps.apache.apply(await deps.apache.render('shop', port, 'shop.localhost', ['shop']));
    await releases.record({
      app: 'shop',
      sha: SHA2,
      ref: 'refs/heads/main',
      kind: 'push',
      deployId: 'deploy-shop-crashed-2',
      pushedBy: 'alice',
      startedAt: new Date().toISOString(),
      durationMs: 0,
      result: 'deploying',
    });
    docker.log = [];
    const inFlight = [2, 1, 0];
    deps.connectionsOn = async () => inFlight.shift() ?? 0;

    const actions = await reconcile({
      deploy: deps,
      config: { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, apacheAnswerWaitMs: 300 },
      releases,
      busyApps: async () => new Set(),
      branchTips: async () => [],
      enqueue: async () => undefined,
    });

    expect(docker.log).toEqual(['stop shop', 'remove shop', 'rename shop-pending shop']);
    expect(inFlight).toEqual([]);
    expect(actions[0]).toMatch(
      /^shop: finished the interrupted deploy of bbbbbbb \(traffic was already on it\): Draining previous container \(2 in flight\); Stopping previous container \(aaaaaaa\); stopped in [\d.]+ s$/,
    );
    expect((await releases.list('shop')).map((r) => [r.sha, r.result])).toEqual([
      [SHA1, 'live'],
      [SHA2, 'live'],
    ]);
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 2\nupstream 127.0.0.1:${port}\n`);
  });
});

describe('Procfile and release phase (fake adapters)', () => {
  beforeEach(() => {
    said = [];
  });

  it('runs the release command in a one-off container of the new image before the pending container starts, then removes it', async () => {
    procfile = 'release: ./migrate --all\nweb: httpd -f -p $PORT\n';
    const result = await deploy(SHA1);
    expect(result.ok).toBe(true);
    expect(docker.log).toEqual([
      `build shop:${SHA1}`,
      `one-off shop-release shop:${SHA1} ["/bin/sh","-c","./migrate --all"]`,
      'remove shop-release',
      `run shop-pending :${basePort} ["/bin/sh","-c","httpd -f -p $PORT"]`,
      'rename shop-pending shop',
    ]);
    expect(said).toContain('-----> Release: ./migrate --all');
    expect(said).toContain('       migrated');
    expect(said.some((l) => /^ {7}release took \d+\.\d s$/.test(l))).toBe(true);
  });

  it('a failing release command fails the deploy before anything starts, naming its exit code and last stderr line', async () => {
    await deploy(SHA1);
    docker.log = [];
    procfile = 'release: ./migrate\n';
    // stdout and stderr interleave in no fixed order: the reason is stderr's last line even when stdout printed after it.
    docker.oneOff = { lines: ['step 1 ok', { stderr: 'relation "users" already exists' }, { stderr: '' }, 'migrating v2', ''], exitCode: 3, timedOut: false };
    const result = await deploy(SHA2);
    expect(result.summary).toBe('✘ release command failed (exit 3): relation "users" already exists; aaaaaaa still serving');
    expect(docker.log).toEqual([`build shop:${SHA2}`, `one-off shop-release shop:${SHA2} ["/bin/sh","-c","./migrate"]`, 'remove shop-release']);
    expect([...docker.containers.keys()]).toEqual(['shop']);
  });

  it('release_timeout passing fails the deploy', async () => {
    procfile = 'release: sleep 999\n';
    docker.oneOff = { lines: [], exitCode: undefined, timedOut: true };
    const result = await deploy(SHA1);
    expect(result.summary).toBe('✘ release command timed out after 300 s (release_timeout): (no output); nothing was serving before');
  });

  it('a failing release command that wrote nothing to stderr is explained by its last stdout line', async () => {
    procfile = 'release: ./migrate\n';
    docker.oneOff = { lines: ['step 1 ok', 'step 2 failed', ''], exitCode: 1, timedOut: false };
    const result = await deploy(SHA1);
    expect(result.summary).toBe('✘ release command failed (exit 1): step 2 failed; nothing was serving before');
  });

  it('a leftover release container of an interrupted run is removed and the command runs again', async () => {
    procfile = 'release: ./migrate\n';
    docker.containers.set('shop-release', { id: 'x', name: 'shop-release', running: false, restarted: false, exitCode: 0, imageId: 'i', labels: {} });
    await deploy(SHA1);
    expect(docker.log.slice(0, 3)).toEqual([`build shop:${SHA1}`, 'remove shop-release', `one-off shop-release shop:${SHA1} ["/bin/sh","-c","./migrate"]`]);
  });

  it('skip-release and a restart do not run it', async () => {
    procfile = 'release: ./migrate\n';
    await deploy(SHA1, 'deploy-shop-a-1', false, { skipRelease: true });
    expect(said).toContain('-----> Release: skipped (skip-release): ./migrate');
    await deploy(SHA1, 'deploy-shop-b-2', false, { kind: 'restart' });
    expect(docker.log.filter((l) => l.startsWith('one-off'))).toEqual([]);
  });

  it('a bad Procfile fails the deploy before the build, naming the line', async () => {
    procfile = 'release: ok\nworker: sidekiq\n';
    const result = await deploy(SHA1);
    expect(result.summary).toMatch(/^✘ invalid Procfile: Procfile line 2: process type "worker" is not supported yet .*Processes and replicas.*; nothing was serving before$/);
    expect(docker.log).toEqual([]);
  });
});
