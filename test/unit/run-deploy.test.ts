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
import type { ContainerInfo } from '../../src/docker/docker-engine';
import { FakeDocker } from '../support/fake-docker';
import type { DeployEvent } from '../../src/notify/deploy-event';
import type { DeployJobData } from '../../src/queue/deploy-job';
import { ReleaseStore } from '../../src/releases/release-store';
import { reconcile } from '../../src/worker/reconcile';
import { readSettings } from '../../src/settings';

const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);

let dir: string;
let docker: FakeDocker;
let releases: ReleaseStore;
let apacheServer: http.Server;
let events: DeployEvent[];
let deps: DeployDeps;
let basePort: number;
let procfile: string | undefined;
let slipwayJson: object;
let scale: Record<string, number> | undefined;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-deploy-'));
  await fs.mkdir(path.join(dir, 'sites'));
  docker = new FakeDocker();
  procfile = undefined;
  slipwayJson = { healthcheck: { path: '/health', timeout: 2 }, watch: 0, drain_timeout: 1 };
  scale = undefined;
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
    readRepoFile: async (_app, _sha, file) => (file === 'Procfile' ? procfile : JSON.stringify(slipwayJson)),
    checkout: async () => dir,
    settleCheckout: async () => undefined,
    listApps: async () => ['shop'],
    connectionsOn: async () => 0,
    startProbe: () => ({ stop: async () => ({ requests: 10, failed: 0, longestGapMs: 3 }) }),
    apacheAnswers: async () => undefined,
    readAppConfig: async () => ({ env: {}, scale }),
    tagRelease: async () => undefined,
    notify: (event) => events.push(event),
    describeCertificate: async () => 'valid',
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
    { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme, apacheAnswerWaitMs: 300 },
    releases,
    (line) => said.push(line),
  );

describe('the deploy sequence (fake adapters)', () => {
  it('first deploy: build, start pending, switch, rename; release recorded; webhooks told', async () => {
    const result = await deploy(SHA1);
    expect(result.ok).toBe(true);
    expect(result.summary).toMatch(/^✔ shop aaaaaaa live on port \d+ in [\d.]+ s · http:\/\/shop.localhost\/ · probe: 10 requests, 0 failed/);
    expect(docker.log).toEqual([`build shop:${SHA1}`, `run shop-pending :${basePort}`, 'rename shop-pending shop']);
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 3\nupstream 127.0.0.1:${basePort}\n`);
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
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 3\nupstream 127.0.0.1:${basePort + 1}\n`);
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
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 3\nupstream 127.0.0.1:${basePort}\n`);
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
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 3\nupstream 127.0.0.1:${basePort + 1}\n`);
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

  /** v1 live, then a v2 whose switch's Apache check passes and whose watch finds Apache gone: reverted. */
  const apacheDiesInWatch = async () => {
    await deploy(SHA1);
    deps.isPortFree = async (port) => port !== basePort;
    deps.readRepoFile = async (_app, _sha, file) => (file === 'Procfile' ? undefined : JSON.stringify({ healthcheck: { path: '/health', timeout: 2 }, watch: 1, drain_timeout: 1 }));
    let asked = 0;
    deps.apacheAnswers = async () => (++asked === 1 ? undefined : APACHE_DOWN);
    docker.log = [];
  };

  it('Apache dying during the watch: reverted before the old container is touched', async () => {
    await apacheDiesInWatch();
    const result = await deploy(SHA2);
    expect(result.summary).toMatch(/^✘ Apache is not answering on :8080 .*; aaaaaaa still serving$/);
    expect(docker.log).toEqual([`build shop:${SHA2}`, `run shop-pending :${basePort + 1}`, 'remove shop-pending']);
    expect(await mapPort()).toBe(basePort);
    expect(events.at(-1)?.event).toBe('deploy.reverted');
  });

  it('a revert drains the new container (the port map already back on the old one) before removing it', async () => {
    await apacheDiesInWatch();
    // Read by the undo (2 in flight: said as is), then by the drain as it waits.
    const inFlight = [2, 1, 0];
    const mapWhileDraining: number[] = [];
    deps.connectionsOn = async (port) => {
      if (port !== basePort + 1) return 0;
      mapWhileDraining.push(await mapPort());
      return inFlight.shift() ?? 0;
    };
    const result = await deploy(SHA2);
    expect(result.summary).toMatch(/aaaaaaa still serving$/);
    expect(inFlight).toEqual([]);
    expect(new Set(mapWhileDraining)).toEqual(new Set([basePort]));
    expect(said).toContain('-----> Draining the new container (2 in flight)');
    expect(docker.log.at(-1)).toBe('remove shop-pending');
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
      config: { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme, apacheAnswerWaitMs: 300 },
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
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 3\nupstream 127.0.0.1:${port}\n`);
  });
});

describe('reconcile after a restart of the Docker Engine (fake adapters)', () => {
  const reconcileWith = (busy: string[]) =>
    reconcile({
      deploy: deps,
      config: { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme, apacheAnswerWaitMs: 300 },
      releases,
      busyApps: async () => new Set(busy),
      branchTips: async () => [],
      enqueue: async () => undefined,
    });

  it('starts a live container the Engine stopped, even while a deploy of the app is under way', async () => {
    await deploy(SHA1);
    // What dockerd without live-restore does when it comes back: it stops every container (exit 137).
    await docker.stopContainer('shop');
    (docker.containers.get('shop') as ContainerInfo).exitCode = 137;
    docker.log = [];
    const actions = await reconcileWith(['shop']);
    expect(docker.log).toEqual(['start shop']);
    expect(actions).toEqual(['shop: started shop (aaaaaaa) again: Docker had stopped it (exit code 137), not `slipway stop`']);
    expect(docker.containers.get('shop')?.running).toBe(true);
  });

  it('leaves a container `slipway stop` stopped as it is', async () => {
    await deploy(SHA1);
    await docker.stopContainer('shop');
    const stopped = docker.containers.get('shop')?.id;
    deps.readAppConfig = async () => ({ env: {}, stoppedContainers: stopped === undefined ? [] : [stopped] });
    docker.log = [];
    expect(await reconcileWith([])).toEqual([]);
    expect(docker.log).toEqual([]);
    expect(docker.containers.get('shop')?.running).toBe(false);
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
    procfile = 'release: ok\nwork.er: sidekiq\n';
    const result = await deploy(SHA1);
    expect(result.summary).toMatch(/^✘ invalid Procfile: Procfile line 2 is not "name: command".*; nothing was serving before$/);
    expect(docker.log).toEqual([]);
  });
});

describe('web replicas (fake adapters)', () => {
  const scaleWeb = (web: number) => {
    deps.readAppConfig = async () => ({ env: {}, scale: { web } });
  };
  const map = () => fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8');
  const upstreams = (...ports: number[]) => `# slipway port map, format 3\nupstream ${ports.map((p) => `127.0.0.1:${p}`).join('|')}\n`;

  it('web=3: three pending containers on three ports, one switch to all three, then each is renamed', async () => {
    scaleWeb(3);
    const result = await deploy(SHA1);
    expect(result.summary).toMatch(new RegExp(`^✔ shop aaaaaaa live on ports ${basePort}, ${basePort + 1}, ${basePort + 2} in`));
    expect(docker.log).toEqual([
      `build shop:${SHA1}`,
      `run shop-pending :${basePort}`,
      `run shop-pending-2 :${basePort + 1}`,
      `run shop-pending-3 :${basePort + 2}`,
      'rename shop-pending shop',
      'rename shop-pending-2 shop-web-2',
      'rename shop-pending-3 shop-web-3',
    ]);
    expect(await map()).toBe(upstreams(basePort, basePort + 1, basePort + 2));
    expect((await releases.list('shop'))[0].port).toBe(basePort);
  });

  it('the next deploy at web=3 retires all three old ones; scaling down to 1 retires every old replica', async () => {
    scaleWeb(3);
    await deploy(SHA1);
    docker.log = [];
    await deploy(SHA2);
    expect(docker.log.filter((l) => l.startsWith('stop')).sort()).toEqual(['stop shop', 'stop shop-web-2', 'stop shop-web-3']);
    expect(await map()).toBe(upstreams(basePort + 3, basePort + 4, basePort + 5));
    scaleWeb(1);
    docker.log = [];
    await deploy(SHA1, 'deploy-shop-again-3');
    expect(docker.log.filter((l) => l.startsWith('stop')).sort()).toEqual(['stop shop', 'stop shop-web-2', 'stop shop-web-3']);
    expect([...docker.containers.keys()]).toEqual(['shop']);
    expect(await map()).toBe(upstreams(basePort));
  });

  it('a re-run of a deploy that had already renamed its containers (crash before the job ended) replaces them, with no name clash', async () => {
    scaleWeb(2);
    await deploy(SHA1, 'deploy-shop-same-1');
    docker.log = [];
    const result = await deploy(SHA1, 'deploy-shop-same-1');
    expect(result.ok).toBe(true);
    expect(docker.log.filter((l) => l.startsWith('stop')).sort()).toEqual(['stop shop', 'stop shop-web-2']);
    expect(docker.log.filter((l) => l.startsWith('rename'))).toEqual(['rename shop-pending shop', 'rename shop-pending-2 shop-web-2']);
    expect(await map()).toBe(upstreams(basePort + 2, basePort + 3));
  });

  it('a port range too small for the scale fails before anything starts', async () => {
    scaleWeb(3);
    const result = await runDeploy(
      job(SHA1),
      'deploy-shop-small-1',
      deps,
      { portRange: { first: basePort, last: basePort + 1 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme },
      releases,
      () => undefined,
    );
    expect(result.summary).toBe(
      `✘ could not start the new container: the port range ${basePort}-${basePort + 1} has 2 free port(s), and 3 web containers need 3: widen SLIPWAY_PORT_RANGE or scale web down; nothing was serving before`,
    );
    expect(docker.log).toEqual([`build shop:${SHA1}`]);
  });

  it('one unhealthy replica fails the whole release: every pending container goes, the old ones keep serving', async () => {
    scaleWeb(2);
    await deploy(SHA1);
    const realRun = docker.runContainer.bind(docker);
    docker.runContainer = async (spec) => {
      await realRun(spec);
      // Replica 2 of the new release dies at once.
      if (spec.name === 'shop-pending-2') await docker.stopContainer(spec.name);
    };
    const result = await deploy(SHA2);
    expect(result.summary).toMatch(/^✘ the new container exited with code 0 before it was healthy \(shop-pending-2, replica 2 of 2\); aaaaaaa still serving$/);
    expect([...docker.containers.keys()].sort()).toEqual(['shop', 'shop-web-2']);
    expect(await map()).toBe(upstreams(basePort, basePort + 1));
  });

  it('reconcile finishes an interrupted web=2 deploy whose switch happened: old replicas retired, new ones renamed', async () => {
    scaleWeb(2);
    await deploy(SHA1);
    const labels = (port: number) => ({ 'slipway.app': 'shop', 'slipway.sha': SHA2, 'slipway.port': String(port), 'slipway.deploy': 'deploy-shop-crashed-2' });
    await docker.runContainer({ name: 'shop-pending', image: `shop:${SHA2}`, env: { PORT: String(basePort + 5) }, labels: labels(basePort + 5), volumes: [] });
    await docker.runContainer({ name: 'shop-pending-2', image: `shop:${SHA2}`, env: { PORT: String(basePort + 6) }, labels: labels(basePort + 6), volumes: [] });
    await deps.apache.apply(await deps.apache.render('shop', [basePort + 5, basePort + 6], 'shop.localhost', ['shop']));
    docker.log = [];
    const actions = await reconcile({
      deploy: deps,
      config: { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme },
      releases,
      busyApps: async () => new Set(),
      branchTips: async () => [],
      enqueue: async () => undefined,
    });
    expect(actions[0]).toMatch(/^shop: finished the interrupted deploy of bbbbbbb/);
    expect(docker.log.filter((l) => l.startsWith('rename'))).toEqual(['rename shop-pending shop', 'rename shop-pending-2 shop-web-2']);
    expect([...docker.containers.values()].map((c) => [c.name, c.labels['slipway.sha']]).sort()).toEqual([
      ['shop', SHA2],
      ['shop-web-2', SHA2],
    ]);
    expect(await map()).toBe(upstreams(basePort + 5, basePort + 6));
  });
});

describe('aliases', () => {
  it('without "tls": "auto" they are named in the push: only the TLS-auto template serves them', async () => {
    deps.readRepoFile = async (_app, _sha, file) =>
      file === 'Procfile' ? undefined : JSON.stringify({ healthcheck: { path: '/health', timeout: 2 }, watch: 0, drain_timeout: 1, domain: 'shop.example', aliases: ['www.shop.example'] });
    said = [];
    expect((await deploy(SHA1)).ok).toBe(true);
    expect(said).toContain('       note: aliases (www.shop.example) are served only with "tls": "auto"; slipway\'s HTTP template answers the domain only');
  });
});

describe('worker process types (fake adapters)', () => {
  const WORK = '["/bin/sh","-c","./work"]';
  const SERVE = '["/bin/sh","-c","./serve"]';

  it('start-first: the new workers start after the switch as -next, the old ones stop after the web retire, then they are renamed', async () => {
    procfile = 'web: ./serve\nworker: ./work\n';
    await deploy(SHA1);
    expect(docker.log).toEqual([
      `build shop:${SHA1}`,
      `run shop-pending :${basePort} ${SERVE}`,
      `run shop-worker-1-next :undefined ${WORK}`,
      'rename shop-pending shop',
      'rename shop-worker-1-next shop-worker-1',
    ]);
    expect(docker.containers.get('shop-worker-1')?.labels).toMatchObject({ 'slipway.app': 'shop', 'slipway.sha': SHA1, 'slipway.process': 'worker', 'slipway.index': '1' });
    docker.log = [];
    deps.isPortFree = async (port) => port !== basePort;
    expect((await deploy(SHA2)).ok).toBe(true);
    expect(docker.log).toEqual([
      `build shop:${SHA2}`,
      `run shop-pending :${basePort + 1} ${SERVE}`,
      `run shop-worker-1-next :undefined ${WORK}`,
      'stop shop',
      'remove shop',
      'stop shop-worker-1',
      'remove shop-worker-1',
      'rename shop-pending shop',
      'rename shop-worker-1-next shop-worker-1',
    ]);
  });

  it('stop-first: the old workers have stopped before the new ones start', async () => {
    procfile = 'web: ./serve\nworker: ./work\n';
    slipwayJson = { ...slipwayJson, processes: { worker: { strategy: 'stop-first', stop_grace: 3 } } };
    await deploy(SHA1);
    docker.log = [];
    deps.isPortFree = async (port) => port !== basePort;
    expect((await deploy(SHA2)).ok).toBe(true);
    expect(docker.log).toEqual([
      `build shop:${SHA2}`,
      `run shop-pending :${basePort + 1} ${SERVE}`,
      'stop shop-worker-1',
      `run shop-worker-1-next :undefined ${WORK}`,
      'stop shop',
      'remove shop',
      'remove shop-worker-1',
      'rename shop-pending shop',
      'rename shop-worker-1-next shop-worker-1',
    ]);
  });

  it('a new worker that exits fails the deploy: the new ones go, the stopped old ones (stop-first) start again, web switches back', async () => {
    procfile = 'web: ./serve\nworker: ./work\n';
    slipwayJson = { ...slipwayJson, processes: { worker: { strategy: 'stop-first' } } };
    await deploy(SHA1);
    docker.log = [];
    docker.workersDie = true;
    deps.isPortFree = async (port) => port !== basePort;
    const result = await deploy(SHA2);
    expect(result.ok).toBe(false);
    expect(result.summary).toBe('✘ the new workers did not start: the new worker shop-worker-1-next exited with code 1 before it was healthy; aaaaaaa still serving');
    expect(docker.log).toEqual([
      `build shop:${SHA2}`,
      `run shop-pending :${basePort + 1} ${SERVE}`,
      'stop shop-worker-1',
      `run shop-worker-1-next :undefined ${WORK}`,
      'remove shop-worker-1-next',
      'start shop-worker-1',
      'remove shop-pending',
    ]);
    expect([...docker.containers.keys()].sort()).toEqual(['shop', 'shop-worker-1']);
    expect(docker.containers.get('shop-worker-1')).toMatchObject({ running: true, labels: { 'slipway.sha': SHA1 } });
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`# slipway port map, format 3\nupstream 127.0.0.1:${basePort}\n`);
  });

  it('the scale sets the count per type; 0 runs none and retires the old ones; a scale job does not build', async () => {
    procfile = 'web: ./serve\nworker: ./work\nclock: ./tick\n';
    scale = { worker: 2 };
    await deploy(SHA1);
    expect([...docker.containers.keys()].sort()).toEqual(['shop', 'shop-clock-1', 'shop-worker-1', 'shop-worker-2']);
    docker.log = [];
    scale = { worker: 0, clock: 1 };
    deps.isPortFree = async (port) => port !== basePort;
    expect((await deploy(SHA1, 'deploy-shop-scale-2', false, { kind: 'scale' })).ok).toBe(true);
    expect(docker.log.filter((l) => l.startsWith('build'))).toEqual([]);
    expect([...docker.containers.keys()].sort()).toEqual(['shop', 'shop-clock-1']);
  });
});

describe('workers-only apps and worker-only scale jobs (fake adapters)', () => {
  const WORK = '["/bin/sh","-c","./work"]';
  const reconcileWith = (enqueued: DeployJobData[] = []) =>
    reconcile({
      deploy: deps,
      config: { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme, apacheAnswerWaitMs: 300 },
      releases,
      busyApps: async () => new Set(),
      branchTips: async () => [],
      enqueue: async (data) => void enqueued.push({ ...data, pushedAt: '' }),
    });

  it('a Procfile without web: no web container, port or Apache route; the workers start after the release phase; the next deploy replaces them', async () => {
    procfile = 'release: ./migrate\nworker: ./work\n';
    said = [];
    const first = await deploy(SHA1);
    expect(first.ok).toBe(true);
    expect(first.summary).toMatch(/^✔ shop aaaaaaa live workers only in [\d.]+ s · worker 1\/1$/);
    expect(docker.log).toEqual([
      `build shop:${SHA1}`,
      `one-off shop-release shop:${SHA1} ["/bin/sh","-c","./migrate"]`,
      'remove shop-release',
      `run shop-worker-1-next :undefined ${WORK}`,
      'rename shop-worker-1-next shop-worker-1',
    ]);
    expect(said).toContain('-----> No web process in the Procfile: workers only (no web container, port or Apache route)');
    await expect(fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).rejects.toThrow(/ENOENT/);
    docker.log = [];
    expect((await deploy(SHA2)).ok).toBe(true);
    expect(docker.log.filter((l) => !l.includes('shop-release'))).toEqual([
      `build shop:${SHA2}`,
      `run shop-worker-1-next :undefined ${WORK}`,
      'stop shop-worker-1',
      'remove shop-worker-1',
      'rename shop-worker-1-next shop-worker-1',
    ]);
    expect((await releases.live('shop'))?.port).toBeUndefined();
  });

  it('refuses a workers-only release while web serves; once the app is stopped, it retires the web containers and the Apache site', async () => {
    await deploy(SHA1);
    procfile = 'worker: ./work\n';
    docker.log = [];
    const refused = await deploy(SHA2);
    expect(refused.summary).toBe(
      '✘ not deployed: the Procfile at bbbbbbb has no web process, but shop serves web traffic now: a deploy does not take a live site offline. Add a "web:" line to keep serving it, or run `slipway stop shop` first to retire its web containers and Apache site, then deploy again; aaaaaaa still serving',
    );
    expect(docker.log).toEqual([]);
    await docker.stopContainer('shop');
    expect((await deploy(SHA2, 'deploy-shop-second')).ok).toBe(true);
    expect([...docker.containers.keys()].sort()).toEqual(['shop-worker-1']);
    await expect(fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('a scale job that changes worker counts only leaves web alone and starts or stops just the difference', async () => {
    procfile = 'web: ./serve\nworker: ./work\n';
    await deploy(SHA1);
    const webId = docker.containers.get('shop')?.id;
    const firstWorker = docker.containers.get('shop-worker-1')?.id;
    docker.log = [];
    scale = { worker: 3 };
    expect((await deploy(SHA1, 'deploy-shop-scale-1', false, { kind: 'scale' })).ok).toBe(true);
    expect(docker.log).toEqual([`run shop-worker-2 :undefined ${WORK}`, `run shop-worker-3 :undefined ${WORK}`]);
    expect(docker.containers.get('shop')?.id).toBe(webId);
    expect(docker.containers.get('shop-worker-1')?.id).toBe(firstWorker);
    docker.log = [];
    scale = { worker: 1 };
    expect((await deploy(SHA1, 'deploy-shop-scale-2', false, { kind: 'scale' })).ok).toBe(true);
    expect(docker.log).toEqual(['stop shop-worker-2', 'stop shop-worker-3', 'remove shop-worker-2', 'remove shop-worker-3']);
    expect(docker.containers.get('shop')?.id).toBe(webId);
  });

  it('reconcile starts missing workers from the live release, and queues a scale job for missing web containers', async () => {
    procfile = 'web: ./serve\nworker: ./work\n';
    scale = { worker: 2 };
    await deploy(SHA1);
    await docker.removeContainer('shop-worker-2');
    docker.log = [];
    const enqueued: DeployJobData[] = [];
    const actions = await reconcileWith(enqueued);
    expect(docker.log).toEqual([`run shop-worker-2 :undefined ${WORK}`]);
    expect(actions).toEqual(['shop: restored the worker counts of release 1 (aaaaaaa): Starting worker ×1 more of aaaaaaa']);
    expect(enqueued).toEqual([]);
    scale = { web: 2, worker: 2 };
    expect(await reconcileWith(enqueued)).toEqual(['shop: queued a scale job to bring web back to 2 (1 running): new web containers pass the health check before Apache switches to them']);
    expect(enqueued.map((j) => [j.kind, j.sha, j.note])).toEqual([['scale', SHA1, 'restore web=2: 1 of 2 web containers ran after a restart']]);
  });

  it('reconcile leaves the workers of an app stopped with `slipway stop` stopped', async () => {
    procfile = 'worker: ./work\n';
    await deploy(SHA1);
    await docker.stopContainer('shop-worker-1');
    const id = docker.containers.get('shop-worker-1')?.id ?? '';
    deps.readAppConfig = async () => ({ env: {}, stoppedContainers: [id] });
    docker.log = [];
    expect(await reconcileWith()).toEqual([]);
    expect(docker.log).toEqual([]);
  });
});
