import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { shaOfTags, type AppImage } from './image-tags';
import { buildImage, type BuildSettings } from './image-build';

/**
 * Labels slipway puts on its containers. Images carry none: the legacy builder turns a build label
 * into one more build step (~0.2 s of every deploy); an app's images are its `<app>:<sha>` tags.
 */
export const LABEL = { app: 'slipway.app', sha: 'slipway.sha', port: 'slipway.port', deploy: 'slipway.deploy', oneOff: 'slipway.one-off', domain: 'slipway.domain' } as const;

/** What slipway needs to know about a container. */
export interface ContainerInfo {
  id: string;
  name: string;
  running: boolean;
  /** Docker restarted it at least once (restart policy): it has crashed since it started. */
  restarted: boolean;
  exitCode: number;
  imageId: string;
  labels: Record<string, string>;
  /** When it last started (ISO time); only from an inspect, not from a listing. */
  startedAt?: string;
}

/** How to start an app container. */
export interface ContainerSpec {
  name: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  volumes: string[];
  /** The container's command (argv); undefined keeps the image's CMD. */
  cmd?: string[];
}

/** Which of a container's output streams a line came from. */
export type OutputStream = 'stdout' | 'stderr';

/** How a one-off container ended. */
export interface OneOffResult {
  /** The command's exit code; undefined when it was killed at the timeout. */
  exitCode: number | undefined;
  timedOut: boolean;
}

/** The Docker operations a deploy uses; a thin layer over dockerode so steps can be tested with a fake. */
export interface DockerEngine {
  /** The id of the image `tag` names, or undefined when there is none. */
  imageId(tag: string): Promise<string | undefined>;
  build(contextDir: string, tags: string[], onLine: (line: string) => void): Promise<void>;
  inspectContainer(name: string): Promise<ContainerInfo | undefined>;
  listSlipwayContainers(): Promise<ContainerInfo[]>;
  runContainer(spec: ContainerSpec): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceSeconds`; a stopped or missing container is fine. */
  stopContainer(name: string, graceSeconds: number): Promise<void>;
  /** Removes (forcibly) a container; a missing one is fine. */
  removeContainer(name: string): Promise<void>;
  renameContainer(from: string, to: string): Promise<void>;
  /**
   * Runs `spec` (with its `cmd`) once, without a restart policy, passing each line it prints to
   * `onLine` with the stream it came from, and waits for it to exit; at `timeoutMs` it is killed.
   * The container is left for the caller to remove.
   */
  runOneOff(spec: ContainerSpec, onLine: (line: string, stream: OutputStream) => void, timeoutMs: number): Promise<OneOffResult>;
  /**
   * Creates (does not start) a one-off container for a person at a terminal (`slipway run`):
   * stdin open when `interactive`, a TTY when `tty`.
   */
  createOneOff(spec: ContainerSpec, options: { interactive: boolean; tty: boolean }): Promise<void>;
  startContainer(name: string): Promise<void>;
  logsTail(name: string, lines: number): Promise<string>;
  /** The app's images: those tagged `<app>:<sha>` (slipway's tags; `<app>:latest` alone is not enough). */
  listAppImages(app: string): Promise<AppImage[]>;
  /** Removes an image by id with its tags; one in use or already gone is left as it is. */
  removeImage(id: string): Promise<void>;
}

/** Builds with BuildKit and the default deadline, for engines that build nothing (the CLI, the dashboard). */
const DEFAULT_BUILD: BuildSettings = { builder: 'buildkit', timeoutSeconds: 1800 };

/** The real engine, over DOCKER_HOST or the default socket; images are built by the docker CLI (image-build.ts) on that same Engine. */
export function createDockerEngine(docker: Docker = new Docker(), build: BuildSettings = DEFAULT_BUILD): DockerEngine {
  return {
    async imageId(tag) {
      try {
        return (await docker.getImage(tag).inspect()).Id;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },

    build(contextDir, tags, onLine) {
      return buildImage(build, contextDir, tags, onLine);
    },

    async inspectContainer(name) {
      try {
        return toInfo(await docker.getContainer(name).inspect());
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },

    async listSlipwayContainers() {
      const list = await docker.listContainers({ all: true, filters: { label: [LABEL.app] } });
      return list.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        running: c.State === 'running',
        restarted: c.State === 'restarting',
        exitCode: 0,
        imageId: c.ImageID,
        labels: c.Labels,
      }));
    },

    async runContainer(spec) {
      const container = await docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: spec.cmd,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: spec.labels,
        HostConfig: {
          NetworkMode: 'host',
          RestartPolicy: { Name: 'unless-stopped' },
          Binds: spec.volumes,
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        },
      });
      await container.start();
    },

    async runOneOff(spec, onLine, timeoutMs) {
      const container = await docker.createContainer(oneOffOptions(spec));
      // Attached before the start, so not one line of the command's output is missed.
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      // One reader per stream: the two interleave in no fixed order, and a caller that explains a
      // failure wants the last line the command wrote to stderr, not whichever came last.
      const outputs = { stdout: new PassThrough(), stderr: new PassThrough() };
      docker.modem.demuxStream(stream, outputs.stdout, outputs.stderr);
      stream.on('end', () => {
        outputs.stdout.end();
        outputs.stderr.end();
      });
      const readers = (['stdout', 'stderr'] as const).map((name) => {
        const reader = createInterface({ input: outputs[name] });
        reader.on('line', (line) => onLine(line, name));
        return reader;
      });
      const drained = Promise.all(readers.map((reader) => new Promise<void>((resolve) => reader.once('close', resolve))));
      await container.start();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      try {
        const ended = await Promise.race([container.wait() as Promise<{ StatusCode: number }>, timeout]);
        if (ended === 'timeout') {
          await container.kill().catch(() => undefined);
          return { exitCode: undefined, timedOut: true };
        }
        // The last lines may still be in flight when wait() answers.
        await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
        return { exitCode: ended.StatusCode, timedOut: false };
      } finally {
        clearTimeout(timer);
        for (const reader of readers) reader.close();
      }
    },

    async createOneOff(spec, options) {
      await docker.createContainer({
        ...oneOffOptions(spec),
        Tty: options.tty,
        OpenStdin: options.interactive,
        StdinOnce: options.interactive,
        AttachStdin: options.interactive,
        AttachStdout: true,
        AttachStderr: true,
      });
    },

    async startContainer(name) {
      await docker.getContainer(name).start();
    },

    async stopContainer(name, graceSeconds) {
      try {
        await docker.getContainer(name).stop({ t: graceSeconds });
      } catch (err) {
        if (statusOf(err) !== 304 && statusOf(err) !== 404) throw err;
      }
    },

    async removeContainer(name) {
      try {
        await docker.getContainer(name).remove({ force: true });
      } catch (err) {
        if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
      }
    },

    async renameContainer(from, to) {
      await docker.getContainer(from).rename({ name: to });
    },

    async listAppImages(app) {
      const images = await docker.listImages({ filters: { reference: [app] } });
      return images.map((i) => ({ id: i.Id, sha: shaOfTags(app, i.RepoTags ?? []), tags: i.RepoTags ?? [] })).filter((i) => i.sha !== '');
    },

    async removeImage(id) {
      try {
        await docker.getImage(id).remove({ force: true });
      } catch (err) {
        if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
      }
    },

    async logsTail(name, lines) {
      try {
        const buffer = await docker.getContainer(name).logs({ stdout: true, stderr: true, tail: lines, follow: false });
        return demuxLogs(buffer);
      } catch (err) {
        if (statusOf(err) === 404) return '';
        throw err;
      }
    },
  };
}

/** A container that runs once: host network, the app's volumes, no restart policy. */
function oneOffOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.cmd,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    HostConfig: { NetworkMode: 'host', Binds: spec.volumes, LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } } },
  };
}

function toInfo(inspect: Docker.ContainerInspectInfo): ContainerInfo {
  return {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    running: inspect.State.Running && !inspect.State.Restarting,
    restarted: inspect.State.Restarting || inspect.RestartCount > 0,
    exitCode: inspect.State.ExitCode,
    imageId: inspect.Image,
    startedAt: inspect.State.StartedAt,
    labels: inspect.Config.Labels ?? {},
  };
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** Docker multiplexes stdout/stderr of a non-tty container in 8-byte-header frames. */
function demuxLogs(buffer: Buffer): string {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    chunks.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(chunks).toString('utf8');
}
