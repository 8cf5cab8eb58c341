import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { shaOfTags, type AppImage } from './image-tags';
import { buildImage, type BuildSettings } from './image-build';
import { untilEngineAnswers, type EngineWait } from './engine-wait';

/**
 * Labels slipway puts on its containers. Images carry none: the legacy builder turns a build label
 * into one more build step (~0.2 s of every deploy); an app's images are its `<app>:<sha>` tags.
 */
export const LABEL = {
  app: 'slipway.app',
  sha: 'slipway.sha',
  port: 'slipway.port',
  deploy: 'slipway.deploy',
  oneOff: 'slipway.one-off',
  /** The Procfile process type of a long-running container (`worker`, `clock`); web containers may lack it. */
  process: 'slipway.process',
  /** Which container of its process type (1, 2, …). */
  index: 'slipway.index',
  /** The public domain a web container serves: should SLIPWAY_HOME be lost, reconcile still routes it. */
  domain: 'slipway.domain',
} as const;

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
  /** The image's Dockerfile HEALTHCHECK verdict; undefined when the image defines none (only from an inspect). */
  health?: 'starting' | 'healthy' | 'unhealthy';
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

/** Thrown by {@link DockerEngine.waitForDockerHealth}: why the container is not healthy, in plain words. */
export class DockerHealthError extends Error {}

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
  /**
   * Runs `cmd` (argv) in the running container `name` (`docker exec`) and resolves with its exit
   * code; a command still running after `timeoutMs` counts as exit code undefined.
   */
  exec(name: string, cmd: string[], timeoutMs: number): Promise<number | undefined>;
  /**
   * Waits for the image's Dockerfile HEALTHCHECK to call `name` healthy. Resolves `false` at once
   * when the image defines no HEALTHCHECK, `true` once healthy; throws a DockerHealthError when it
   * turns unhealthy, the container stops, or `timeoutMs` passes.
   */
  waitForDockerHealth(name: string, timeoutMs: number): Promise<boolean>;
  /** The app's images: those tagged `<app>:<sha>` (slipway's tags; `<app>:latest` alone is not enough). */
  listAppImages(app: string): Promise<AppImage[]>;
  /** Removes an image by id with its tags; one in use or already gone is left as it is. */
  removeImage(id: string): Promise<void>;
}

/** Builds with BuildKit and the default deadline, for engines that build nothing (the CLI, the dashboard). */
const DEFAULT_BUILD: BuildSettings = { builder: 'buildkit', timeoutSeconds: 1800 };

/**
 * The real engine, over DOCKER_HOST or the default socket; images are built by the docker CLI
 * (image-build.ts) on that same Engine. With `wait`, a call that finds the Engine down (restarting)
 * waits for it to answer again (engine-wait.ts); without, it fails at once.
 */
export function createDockerEngine(docker: Docker = new Docker(), build: BuildSettings = DEFAULT_BUILD, wait: EngineWait = { waitMs: 0 }): DockerEngine {
  // Reads, stops and removes are sent again after the Engine dropped them; creating, starting and
  // renaming only when it never got them (a second create would conflict with the first).
  const repeatable = <T>(op: () => Promise<T>) => untilEngineAnswers(op, wait, true);
  const unrepeatable = <T>(op: () => Promise<T>) => untilEngineAnswers(op, wait, false);
  const inspectContainer = async (name: string): Promise<ContainerInfo | undefined> => {
    try {
      return toInfo(await repeatable(() => docker.getContainer(name).inspect()));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  return {
    async imageId(tag) {
      try {
        return (await repeatable(() => docker.getImage(tag).inspect())).Id;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },

    build(contextDir, tags, onLine) {
      return buildImage(build, contextDir, tags, onLine);
    },

    inspectContainer,

    async listSlipwayContainers() {
      const list = await repeatable(() => docker.listContainers({ all: true, filters: { label: [LABEL.app] } }));
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
      const options: Docker.ContainerCreateOptions = {
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
      };
      const container = await unrepeatable(() => docker.createContainer(options));
      await unrepeatable(() => container.start());
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
      await unrepeatable(() => docker.getContainer(name).start());
    },

    async stopContainer(name, graceSeconds) {
      try {
        await repeatable(() => docker.getContainer(name).stop({ t: graceSeconds }));
      } catch (err) {
        if (statusOf(err) !== 304 && statusOf(err) !== 404) throw err;
      }
    },

    async removeContainer(name) {
      try {
        await repeatable(() => docker.getContainer(name).remove({ force: true }));
      } catch (err) {
        if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
      }
    },

    async renameContainer(from, to) {
      await unrepeatable(() => docker.getContainer(from).rename({ name: to }));
    },

    async listAppImages(app) {
      const images = await repeatable(() => docker.listImages({ filters: { reference: [app] } }));
      return images.map((i) => ({ id: i.Id, sha: shaOfTags(app, i.RepoTags ?? []), tags: i.RepoTags ?? [] })).filter((i) => i.sha !== '');
    },

    async removeImage(id) {
      try {
        await repeatable(() => docker.getImage(id).remove({ force: true }));
      } catch (err) {
        if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
      }
    },

    async exec(name, cmd, timeoutMs) {
      const exec = await docker.getContainer(name).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({});
      // The output is not wanted, but the stream must be read for the command to finish.
      stream.resume();
      const ended = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      try {
        if ((await Promise.race([ended, timeout])) === 'timeout') return undefined;
        const code = (await exec.inspect()).ExitCode;
        return code ?? undefined;
      } finally {
        clearTimeout(timer);
        stream.destroy();
      }
    },

    async waitForDockerHealth(name, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const info = await inspectContainer(name);
        if (!info?.running || info.restarted) throw new DockerHealthError(`${name} exited with code ${info?.exitCode ?? '?'} before its HEALTHCHECK said healthy`);
        if (info.health === undefined) return false;
        if (info.health === 'healthy') return true;
        if (info.health === 'unhealthy') throw new DockerHealthError(`${name} is unhealthy (the image's HEALTHCHECK failed)`);
        if (Date.now() >= deadline) throw new DockerHealthError(`${name} was not healthy after ${Math.round(timeoutMs / 1000)} s (the image's HEALTHCHECK still says starting)`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },

    async logsTail(name, lines) {
      try {
        const buffer = await repeatable(() => docker.getContainer(name).logs({ stdout: true, stderr: true, tail: lines, follow: false }));
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
    health: healthOf(inspect.State.Health?.Status),
  };
}

function healthOf(status: string | undefined): ContainerInfo['health'] {
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : undefined;
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
