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
import type { DeployDeps } from '../../src/deploy/deploy-context';
import { runDeploy } from '../../src/deploy/run-deploy';
import { type ContainerInfo, type ContainerSpec, type DockerEngine } from '../../src/docker/docker-engine';
import { BuildFailedError } from '../../src/docker/image-build';
import type { DeployEvent } from '../../src/notify/deploy-event';
import type { DeployJobData } from '../../src/queue/deploy-job';
import { ReleaseStore } from '../../src/releases/release-store';
import { readSettings } from '../../src/settings';

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
    this.log.push(`run ${spec.name} :${spec.env.PORT}`);
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

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-deploy-'));
  await fs.mkdir(path.join(dir, 'sites'));
  docker = new FakeDocker();
  releases = new ReleaseStore(path.join(dir, 'releases'));
  events = [];
  // Stands in for Apache: the after-reload check only needs something answering HTTP.
  apacheServer = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => apacheServer.listen(0, '127.0.0.1', () => r()));
  const httpPort = (apacheServer.address() as { port: number }).port;
  basePort = 20000 + Math.floor(Math.random() * 20000);
  deps = {
    docker,
    apache: new ApacheSites({ sitesDir: path.join(dir, 'sites'), mapsDir: path.join(dir, 'maps'), httpPort, ctl: { configtest: async () => ({ ok: true, output: '' }), graceful: async () => undefined } }),
    isPortFree: async () => true,
    readRepoFile: async () => JSON.stringify({ healthcheck: { path: '/health', timeout: 2 }, watch: 0, drain_timeout: 1 }),
    checkout: async () => dir,
    settleCheckout: async () => undefined,
    listApps: async () => ['shop'],
    connectionsOn: async () => 0,
    startProbe: () => ({ stop: async () => ({ requests: 10, failed: 0, longestGapMs: 3 }) }),
    readAppConfig: async () => ({ env: {} }),
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

const job = (sha: string, rebuild?: boolean): DeployJobData => ({ app: 'shop', sha, ref: 'refs/heads/main', kind: 'push', rebuild, pushedBy: 'alice', pushedAt: new Date().toISOString() });
const deploy = (sha: string, id = `deploy-shop-${sha.slice(0, 12)}-1`, rebuild?: boolean) =>
  runDeploy(job(sha, rebuild), id, deps, { portRange: { first: basePort, last: basePort + 10 }, stopGraceSeconds: 1, keepReleases: 5, https: false, acme: readSettings({}).acme }, releases, () => undefined);

describe('the deploy sequence (fake adapters)', () => {
  it('first deploy: build, start pending, switch, rename; release recorded; webhooks told', async () => {
    const result = await deploy(SHA1);
    expect(result.ok).toBe(true);
    expect(result.summary).toMatch(/^✔ shop aaaaaaa live on port \d+ in [\d.]+ s · http:\/\/shop.localhost\/ · probe: 10 requests, 0 failed/);
    expect(docker.log).toEqual([`build shop:${SHA1}`, `run shop-pending :${basePort}`, 'rename shop-pending shop']);
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`upstream 127.0.0.1:${basePort}\n`);
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
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`upstream 127.0.0.1:${basePort + 1}\n`);
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
    expect(await fs.readFile(path.join(dir, 'maps', 'shop.map'), 'utf8')).toBe(`upstream 127.0.0.1:${basePort}\n`);
    expect((await releases.list('shop')).at(-1)).toMatchObject({ result: 'failed', reason: 'health check failed: GET /health → 500 after 2 s' });
    expect(events.at(-1)?.event).toBe('deploy.failed');
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
