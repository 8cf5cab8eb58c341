/** Child processes with argv only (never a shell) and a time limit. */
import { execFile } from 'node:child_process';

/** What a finished command printed and how it ended. */
export interface ExecResult {
  /** Exit code; -1 when it could not start or was killed by the time limit. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args…` and resolves when it ends (never rejects); killed after `timeoutMs`.
 * `env` entries are added to this process's environment.
 */
export function exec(file: string, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

/** Like {@link exec}, but rejects with the command's stderr when it does not exit 0. */
export async function execOk(file: string, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<string> {
  const result = await exec(file, args, timeoutMs, env);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(-2_000)}`);
  return result.stdout;
}

/**
 * Removes every container that carries `label` (`key=value`; forcibly: they run with a restart
 * policy), then every image of the repositories `imageRepos` (slipway's and the floor's images
 * carry no label, only their tags). Errors are ignored: cleanup must go on.
 */
export async function removeDockerArtifacts(label: string, imageRepos: string[]): Promise<void> {
  const ids = (await exec('docker', ['ps', '-aq', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
  if (ids.length) await exec('docker', ['rm', '-f', ...ids], 60_000);
  for (const repo of imageRepos) {
    const images = (await exec('docker', ['images', '-q', '--filter', `reference=${repo}`])).stdout.split('\n').filter(Boolean);
    if (images.length) await exec('docker', ['rmi', '-f', ...new Set(images)], 60_000);
  }
}

/**
 * Removes, in bulk, every container whose `slipway.app` label starts with `prefix` (forcibly) and
 * every image tag of a repository whose name starts with it. Images are removed by tag, never by
 * id: identical builds of another app share an id, and `docker rmi <id>` would take its tags too.
 * Errors are ignored: cleanup must go on.
 */
export async function removeAppsByPrefix(prefix: string): Promise<void> {
  const ids = (await exec('docker', ['ps', '-aq', '--filter', 'label=slipway.app'])).stdout.split('\n').filter(Boolean);
  if (ids.length) {
    const labelled = (await exec('docker', ['inspect', '--format', '{{.Id}} {{index .Config.Labels "slipway.app"}}', ...ids])).stdout;
    const ours = labelled
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, app]) => app?.startsWith(prefix))
      .map(([id]) => id);
    if (ours.length) await exec('docker', ['rm', '-f', ...ours], 120_000);
  }
  const tags = (await exec('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${prefix}*`])).stdout.split('\n').filter(Boolean);
  if (tags.length) await exec('docker', ['rmi', ...tags], 120_000);
}
