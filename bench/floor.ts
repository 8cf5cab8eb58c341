/**
 * The floor: how long the same change takes with nothing but Docker, by hand, with no git push,
 * no queue and no Apache switch: `docker build` of the changed app (the same CLI, builder and
 * command as slipway's own builds), then `docker run` and poll until `/health` answers. A push→live time close to this is as
 * good as a deploy can get.
 */
import http from 'node:http';
import { now, sleep } from './clock';
import { exec, execOk } from './exec';
import { freePort } from '../test/support/free-port';
import type { BuildCli, Builder } from '../src/docker/build-cli';
import { findBuildCli } from '../src/docker/build-cli-probe';
import { buildCommand } from '../src/docker/build-command';

/** One floor measurement (ms). */
export interface FloorSample {
  /** `docker build` wall time (runtime layer cached, `server.js` layer rebuilt). */
  buildMs: number;
  /** From `docker run -d` being started to the first healthy `/health` answer (of the last replica, with several). */
  bootMs: number;
  /** buildMs + bootMs. */
  totalMs: number;
}

/**
 * The by-hand build's CLI: the one slipway's own builds use, chosen by the same code (see
 * src/docker/build-cli.ts; SLIPWAY_DOCKER_CLI overrides it here too). Throws when no CLI can build
 * with the builder, rather than compare slipway's BuildKit with a legacy floor.
 */
export async function chooseFloorBuilder(builder: Builder): Promise<BuildCli> {
  const choice = await findBuildCli(builder, process.env.SLIPWAY_DOCKER_CLI?.trim() || undefined);
  if ('problem' in choice) throw new Error(`no by-hand floor for slipway's builds: ${choice.problem}; ${choice.fix}`);
  return choice.cli;
}

/** What {@link measureFloor} builds and runs. */
export interface FloorTarget {
  /** The CLI (and its mode) of the by-hand build. */
  build: BuildCli;
  /** Build context (written with writeNodeApp). */
  contextDir: string;
  /** Image tag to build, e.g. `bench-floor-x:f1`. */
  tag: string;
  /** Container name (removed again before returning); with several replicas, `-<n>` is appended. */
  containerName: string;
  /** How many containers of the image to boot side by side, each on its own port (default 1). */
  replicas?: number;
  /** `key=value` put on the container, for cleanup by label (not on the image: like slipway's, it has none). */
  label: string;
  /** Health path, e.g. `/health`. */
  healthPath: string;
  /** Give up when not healthy after this long. */
  timeoutMs: number;
}

/** Health is polled this often: tighter than slipway's 100 ms, since the floor is a lower bound. */
const POLL_MS = 20;

/**
 * Builds `target.contextDir` with `target.build`, runs it `--net=host` with `PORT` set to a free
 * port, waits for a healthy `/health`, and removes the container. The image stays (cleanup
 * removes it by its repository name).
 */
export async function measureFloor(target: FloorTarget): Promise<FloorSample> {
  const buildStart = now();
  // The very command slipway runs (build-command.ts), with only this one tag.
  const command = buildCommand(target.build, target.contextDir, [target.tag], process.env);
  await execOk(command.file, command.args, target.timeoutMs, command.env as Record<string, string>);
  const buildMs = now() - buildStart;
  const replicas = target.replicas ?? 1;
  const names = replicas === 1 ? [target.containerName] : Array.from({ length: replicas }, (_, i) => `${target.containerName}-${i + 1}`);
  const ports: number[] = [];
  for (const _ of names) ports.push(await freePortOtherThan(ports));
  const runStart = now();
  try {
    // Side by side, as slipway starts a release's web containers: the floor is the slowest of them.
    await Promise.all(
      names.map(async (name, i) => {
        await execOk('docker', ['run', '-d', '--net=host', '--name', name, '--label', target.label, '-e', `PORT=${ports[i]}`, target.tag], 30_000);
        await waitHealthy(ports[i], target.healthPath, runStart + target.timeoutMs);
      }),
    );
    const bootMs = now() - runStart;
    return { buildMs, bootMs, totalMs: buildMs + bootMs };
  } finally {
    await exec('docker', ['rm', '-f', ...names], 30_000);
  }
}

/** A free port not among `taken` (nothing listens on a free port until its container boots). */
async function freePortOtherThan(taken: number[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.includes(port)) return port;
  }
}

/** Polls until `GET path` answers 2xx with `"status":"UP"` (what slipway counts as healthy). */
async function waitHealthy(port: number, path: string, deadline: number): Promise<void> {
  while (now() < deadline) {
    if (await healthy(port, path)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`floor container not healthy on :${port}${path} in time`);
}

function healthy(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300 && /"status"\s*:\s*"UP"/i.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
