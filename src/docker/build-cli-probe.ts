import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { findExecutable } from '../find-executable';
import { chooseBuildCli, type Builder, type CliChoice, type CliProbe } from './build-cli';

/** Where a docker CLI is looked for when SLIPWAY_DOCKER_CLI is unset, in this order. */
const CANDIDATES = ['docker', '/usr/bin/docker', '/usr/local/bin/docker'];

/** A probe answers in well under a second; a hung CLI must not hang a deploy. */
const PROBE_TIMEOUT_MS = 15_000;

const choices = new Map<string, Promise<CliChoice>>();

/**
 * The docker CLI this process builds with (see {@link chooseBuildCli}). Probed once per process
 * and builder: the answer only changes when someone installs or removes a CLI, and then slipway
 * is restarted anyway. `override` is SLIPWAY_DOCKER_CLI.
 */
export function findBuildCli(builder: Builder, override: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<CliChoice> {
  const key = `${builder}\0${override ?? ''}`;
  let choice = choices.get(key);
  if (choice === undefined) {
    const probes = override !== undefined ? probeCli(override, env).then((probe) => [probe]) : probeCandidates(env);
    choice = probes.then((found) => chooseBuildCli(builder, found, override));
    choices.set(key, choice);
  }
  return choice;
}

/** Probes each candidate that exists, once per real file (`/bin/docker` is `/usr/bin/docker` on Debian). */
async function probeCandidates(env: NodeJS.ProcessEnv): Promise<CliProbe[]> {
  const paths: string[] = [];
  for (const candidate of CANDIDATES) {
    const found = await findExecutable(candidate, env);
    const real = found && (await fs.realpath(found).catch(() => undefined));
    if (real !== undefined && !paths.includes(real)) paths.push(real);
  }
  return Promise.all(paths.map((path) => probeCli(path, env)));
}

async function probeCli(path: string, env: NodeJS.ProcessEnv): Promise<CliProbe> {
  const [version, buildx] = await Promise.all([run(path, ['--version'], env), run(path, ['buildx', 'version'], env)]);
  // "Docker version 28.2.2, build e6534b4"
  const match = version.code === 0 ? /version\s+v?(\d+\.\d+[^\s,]*)/i.exec(version.stdout) : null;
  return { path, version: match?.[1], buildx: buildx.code === 0 };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: PROBE_TIMEOUT_MS }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout });
    });
  });
}
