/**
 * The floor: how long the same change takes with nothing but Docker, by hand, with no git push,
 * no queue and no Apache switch: `docker build` of the changed app (with the builder slipway
 * uses), then `docker run` and poll until `/health` answers. A push→live time close to this is as
 * good as a deploy can get.
 */
import http from 'node:http';
import { now, sleep } from './clock';
import { exec, execOk } from './exec';
import { freePort } from '../test/support/free-port';

/** One floor measurement (ms). */
export interface FloorSample {
  /** `docker build` wall time (runtime layer cached, `server.js` layer rebuilt). */
  buildMs: number;
  /** From `docker run -d` being started to the first healthy `/health` answer. */
  bootMs: number;
  /** buildMs + bootMs. */
  totalMs: number;
}

/** How the floor builds: a docker CLI and the builder, as slipway's SLIPWAY_BUILDER names them. */
export interface FloorBuilder {
  cli: string;
  builder: 'buildkit' | 'legacy';
}

/**
 * The by-hand build that matches slipway's builder. For BuildKit that is the first docker CLI
 * that can build with it here (`DOCKER_BUILDKIT=1 docker build`: built into the 20.10 CLI, through
 * buildx in later ones); a newer CLI without buildx refuses, so Debian's `/usr/bin/docker` is
 * tried too. Throws when none can, rather than compare slipway's BuildKit with a legacy floor.
 */
export async function chooseFloorBuilder(builder: 'buildkit' | 'legacy'): Promise<FloorBuilder> {
  if (builder === 'legacy') return { cli: 'docker', builder };
  for (const cli of ['docker', '/usr/bin/docker']) {
    if ((await exec(cli, ['build', '--help'], 30_000, { DOCKER_BUILDKIT: '1' })).code === 0) return { cli, builder };
  }
  throw new Error('no docker CLI here builds with BuildKit (install buildx), so there is no by-hand floor for slipway\'s BuildKit builds; BENCH_BUILDER=legacy compares the legacy builders');
}

/** What {@link measureFloor} builds and runs. */
export interface FloorTarget {
  /** The CLI and builder of the by-hand build. */
  build: FloorBuilder;
  /** Build context (written with writeNodeApp). */
  contextDir: string;
  /** Image tag to build, e.g. `bench-floor-x:f1`. */
  tag: string;
  /** Container name (removed again before returning). */
  containerName: string;
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
  const buildkit = target.build.builder === 'buildkit' ? '1' : '0';
  await execOk(target.build.cli, ['build', '-q', '-t', target.tag, target.contextDir], target.timeoutMs, { DOCKER_BUILDKIT: buildkit });
  const buildMs = now() - buildStart;
  const port = await freePort();
  const runStart = now();
  try {
    await execOk('docker', ['run', '-d', '--net=host', '--name', target.containerName, '--label', target.label, '-e', `PORT=${port}`, target.tag], 30_000);
    await waitHealthy(port, target.healthPath, runStart + target.timeoutMs);
    const bootMs = now() - runStart;
    return { buildMs, bootMs, totalMs: buildMs + bootMs };
  } finally {
    await exec('docker', ['rm', '-f', target.containerName], 30_000);
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
