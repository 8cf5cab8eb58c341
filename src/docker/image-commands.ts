import { engineEnv, type BuildCommand } from './build-command';

/** A docker CLI invocation: `file` with `args` (never through a shell) and exactly `env`. */
export type DockerCommand = BuildCommand;

/**
 * Which docker CLI talks to which Engine, with which credentials: `dockerConfigDir` is a private
 * DOCKER_CONFIG (its config.json holds the registry login), never the user's ~/.docker.
 */
export interface CliTarget {
  /** The docker CLI (SLIPWAY_DOCKER_CLI, or `docker` on PATH). */
  cli: string;
  /** The Engine (DOCKER_HOST); undefined: the local socket. */
  dockerHost: string | undefined;
  dockerConfigDir: string;
  parentEnv: NodeJS.ProcessEnv;
}

function command(target: CliTarget, args: string[]): DockerCommand {
  return { file: target.cli, args, env: { ...engineEnv(target.parentEnv, target.dockerHost), DOCKER_CONFIG: target.dockerConfigDir } };
}

/** `<registry>/<app>:<sha>`: the name an app image has in the registry. */
export function registryReference(endpoint: string, app: string, sha: string): string {
  return `${endpoint}/${app}:${sha}`;
}

/** `docker login` with the password on stdin (`--password-stdin`: never on argv, where `ps` shows it). */
export function loginCommand(target: CliTarget, endpoint: string, user: string): DockerCommand {
  return command(target, ['login', '--username', user, '--password-stdin', endpoint]);
}

/** `docker tag <source> <name>`: a second name for an image, on the target's Engine. */
export function tagCommand(target: CliTarget, source: string, name: string): DockerCommand {
  return command(target, ['tag', source, name]);
}

/** `docker push <reference>`: the Engine uploads the layers the registry lacks. */
export function pushCommand(target: CliTarget, reference: string): DockerCommand {
  return command(target, ['push', reference]);
}

/** `docker pull <reference>`: the Engine downloads the layers it lacks. */
export function pullCommand(target: CliTarget, reference: string): DockerCommand {
  return command(target, ['pull', reference]);
}

/**
 * `docker rmi <name>` without --force: removes one name; the image itself goes only when no other
 * name and no container holds it.
 */
export function untagCommand(target: CliTarget, name: string): DockerCommand {
  return command(target, ['rmi', name]);
}

/** `docker image inspect --format {{.Id}} <name>`: the image's id (exit 1 when there is none). */
export function imageIdCommand(target: CliTarget, name: string): DockerCommand {
  return command(target, ['image', 'inspect', '--format', '{{.Id}}', name]);
}

/** `docker save <name>`: the image (every layer, its config and its name) as a tar on stdout. */
export function saveCommand(target: CliTarget, name: string): DockerCommand {
  return command(target, ['save', name]);
}

/** `docker load`: an image tar from stdin, with the names it was saved under. */
export function loadCommand(target: CliTarget): DockerCommand {
  return command(target, ['load']);
}

/**
 * The short ids (12 hex digits of the layer digest) `docker pull` printed `Pull complete` for: the
 * layers it downloaded, not those it reported as `Already exists`.
 */
export function pulledLayerIds(output: string): Set<string> {
  const ids = new Set<string>();
  for (const match of output.matchAll(/^([0-9a-f]{12}): Pull complete\s*$/gm)) ids.add(match[1]);
  return ids;
}
