import type { Builder } from '../settings';

export type { Builder };

/**
 * How a docker CLI is asked to build: `buildx` = `docker buildx build --load` (the buildx plugin);
 * `builtin` = `DOCKER_BUILDKIT=1 docker build` (CLIs before 23.0 have BuildKit built in);
 * `legacy` = `DOCKER_BUILDKIT=0 docker build` (the classic builder, any CLI).
 */
export type BuildMode = 'buildx' | 'builtin' | 'legacy';

/** What probing one docker CLI found. */
export interface CliProbe {
  /** Absolute path (after symlinks: two names of one binary are one candidate). */
  path: string;
  /** Client version from `docker --version` (`28.2.2`, `20.10.24+dfsg1`); undefined when it does not run. */
  version: string | undefined;
  /** `docker buildx version` exits 0: the buildx plugin is installed and works. */
  buildx: boolean;
}

/** The CLI and mode every build of this process uses. */
export interface BuildCli {
  path: string;
  version: string;
  mode: BuildMode;
}

/** Either the CLI to build with, or why none can and what to do about it. */
export type CliChoice = { cli: BuildCli } | { problem: string; fix: string };

/** The first CLI version whose `docker build` no longer has BuildKit built in (it hands BuildKit builds to buildx). */
const BUILDX_ONLY_MAJOR = 23;

/**
 * Picks the CLI a build runs with, from probes in order of preference (`SLIPWAY_DOCKER_CLI` alone
 * when set; else `docker` on PATH, /usr/bin/docker, /usr/local/bin/docker). For BuildKit the first
 * CLI that can build with it wins: one with a working buildx plugin, or one older than 23.0. A newer
 * CLI without buildx cannot (it refuses, or falls back to the classic builder), so it is passed over
 * for, say, Debian's docker.io 20.10 further down the list.
 */
export function chooseBuildCli(builder: Builder, probes: CliProbe[], override?: string): CliChoice {
  const runnable = probes.filter((p): p is CliProbe & { version: string } => p.version !== undefined);
  if (runnable.length === 0) {
    return override !== undefined
      ? { problem: `SLIPWAY_DOCKER_CLI=${override} does not run (\`${override} --version\` failed)`, fix: 'point SLIPWAY_DOCKER_CLI at a docker CLI, or unset it' }
      : {
          problem: 'no docker CLI found (looked for `docker` on PATH, /usr/bin/docker, /usr/local/bin/docker)',
          fix: 'install the Docker CLI (`apt-get install docker.io`, or Docker CE with docker-buildx-plugin)',
        };
  }
  if (builder === 'legacy') return { cli: { path: runnable[0].path, version: runnable[0].version, mode: 'legacy' } };
  for (const probe of runnable) {
    if (probe.buildx) return { cli: { path: probe.path, version: probe.version, mode: 'buildx' } };
    if (majorVersion(probe.version) < BUILDX_ONLY_MAJOR) return { cli: { path: probe.path, version: probe.version, mode: 'builtin' } };
  }
  const found = runnable.map((p) => `${p.path} ${p.version}`).join(', ');
  return {
    problem: `no docker CLI here can build with BuildKit: ${found} ${runnable.length === 1 ? 'has' : 'have'} no buildx plugin, and CLIs from 23.0 on need it`,
    fix: "install the buildx plugin (docker-buildx-plugin), or set SLIPWAY_DOCKER_CLI to a CLI older than 23 (Debian's docker.io 20.10: /usr/bin/docker), or SLIPWAY_BUILDER=legacy",
  };
}

/** The CLI and builder in plain words: `/usr/bin/docker 20.10.24 (BuildKit built into docker build)`. */
export function describeBuildCli(cli: BuildCli): string {
  const how = {
    buildx: 'BuildKit through the buildx plugin: docker buildx build',
    builtin: 'BuildKit built into the CLI: DOCKER_BUILDKIT=1 docker build',
    legacy: 'the classic builder: DOCKER_BUILDKIT=0 docker build',
  }[cli.mode];
  return `${cli.path} ${cli.version} (${how})`;
}

function majorVersion(version: string): number {
  return Number.parseInt(version, 10);
}
