import type { BuildCli } from './build-cli';

/** A docker CLI invocation: run as `file` with `args` (never through a shell) and exactly `env`. */
export interface BuildCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** The Engine dockerode talks to when DOCKER_HOST is unset (docker-modem's default socket). */
const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/**
 * The command that builds `contextDir` (its Dockerfile at the root) into an image with every tag in
 * `tags`, with `cli`'s mode. BuildKit prints plain progress (`#4 [2/3] COPY …`, `#4 DONE 0.2s`).
 *
 * The CLI inherits slipway's environment, with DOCKER_HOST always set to the Engine dockerode uses
 * (and DOCKER_CONTEXT dropped): a CLI left to its own current context could build on another
 * Engine than the one slipway then starts the image on.
 */
export function buildCommand(cli: BuildCli, contextDir: string, tags: string[], parentEnv: NodeJS.ProcessEnv): BuildCommand {
  const tagArgs = tags.flatMap((tag) => ['-t', tag]);
  const env = engineEnv(parentEnv, parentEnv.DOCKER_HOST);
  switch (cli.mode) {
    case 'buildx':
      // --load: a builder other than the Engine's own (docker-container driver) would keep the image to itself.
      return { file: cli.path, args: ['buildx', 'build', '--load', '--progress=plain', ...tagArgs, '--', contextDir], env };
    case 'builtin':
      return { file: cli.path, args: ['build', '--progress=plain', ...tagArgs, '--', contextDir], env: { ...env, DOCKER_BUILDKIT: '1' } };
    case 'legacy':
      // --force-rm: a failed step's container is removed too, not only successful ones'.
      return { file: cli.path, args: ['build', '--force-rm', ...tagArgs, '--', contextDir], env: { ...env, DOCKER_BUILDKIT: '0' } };
  }
}

/**
 * `parentEnv` for a docker CLI that must talk to exactly the Engine at `dockerHost` (the local
 * socket when unset or blank): DOCKER_HOST set and DOCKER_CONTEXT dropped, so no CLI context can
 * point it at another Engine.
 */
export function engineEnv(parentEnv: NodeJS.ProcessEnv, dockerHost: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...parentEnv, DOCKER_HOST: dockerHost?.trim() || DEFAULT_DOCKER_HOST };
  delete env.DOCKER_CONTEXT;
  return env;
}
