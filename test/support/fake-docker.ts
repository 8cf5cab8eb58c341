/**
 * An in-memory Docker Engine for unit tests: a web "container" is a tiny HTTP server in this
 * process answering its PORT (so health checks and probes are real HTTP), a worker has none;
 * every call is logged in order.
 */
import http from 'node:http';
import { type ContainerInfo, type ContainerSpec, type DockerEngine, type OutputStream } from '../../src/docker/docker-engine';
import { BuildFailedError } from '../../src/docker/image-build';
import type { AppImage } from '../../src/docker/image-tags';

/** Closes a fake container's server; a worker has none. */
function closeServer(server: http.Server | undefined): Promise<void> {
  return server ? new Promise((r) => server.close(() => r())) : Promise.resolve();
}

/** A container is an HTTP server answering `health` on its PORT; "stopping" closes it. */
export class FakeDocker implements DockerEngine {
  containers = new Map<string, ContainerInfo & { server?: http.Server }>();
  /** Tag → image id; every build makes a new id. */
  images = new Map<string, string>();
  builds = 0;
  log: string[] = [];
  healthStatus = 200;
  buildFails = false;
  workersDie = false;

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
    if (spec.env.PORT === undefined) {
      // A worker: no port. `workersDie` makes it a worker that crashed and is being restarted.
      const dies = this.workersDie;
      this.containers.set(spec.name, { id: spec.name, name: spec.name, running: !dies, restarted: dies, exitCode: dies ? 1 : 0, imageId: spec.image, labels: spec.labels });
      return;
    }
    const server = http.createServer((_req, res) => res.writeHead(this.healthStatus).end('{"status":"UP"}'));
    await new Promise<void>((r) => server.listen(Number(spec.env.PORT), '127.0.0.1', () => r()));
    this.containers.set(spec.name, { id: spec.name, name: spec.name, running: true, restarted: false, exitCode: 0, imageId: this.images.get(spec.image) ?? spec.image, labels: spec.labels, server });
  }
  async stopContainer(name: string) {
    this.log.push(`stop ${name}`);
    const c = this.containers.get(name);
    if (c?.running) {
      c.running = false;
      await closeServer(c.server);
    }
  }
  async removeContainer(name: string) {
    if (!this.containers.has(name)) return;
    this.log.push(`remove ${name}`);
    const c = this.containers.get(name);
    if (c?.running) await closeServer(c.server);
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
  /** Reconcile starts a live container the Docker Engine stopped: its server listens again (a worker has no port). */
  async startContainer(name: string) {
    this.log.push(`start ${name}`);
    const c = this.containers.get(name);
    if (!c || c.running) return;
    if (c.labels['slipway.port'] === undefined) {
      c.running = true;
      return;
    }
    const server = http.createServer((_req, res) => res.writeHead(this.healthStatus).end('{"status":"UP"}'));
    await new Promise<void>((r) => server.listen(Number(c.labels['slipway.port']), '127.0.0.1', () => r()));
    this.containers.set(name, { ...c, running: true, exitCode: 0, server });
  }
  async exec() {
    return 0;
  }
  async waitForDockerHealth() {
    return false;
  }
  async logsTail() {
    return '';
  }
  async listAppImages(): Promise<AppImage[]> {
    return [];
  }
  async removeImage(id: string) {
    this.log.push(`remove image ${id}`);
  }
  async closeAll() {
    for (const c of this.containers.values()) if (c.running) await closeServer(c.server);
  }
}
