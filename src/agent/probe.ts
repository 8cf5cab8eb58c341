import { execFile } from 'node:child_process';
import type Docker from 'dockerode';
import type { ProbeResult } from '../queue/host-queue';

/** The version line `apachectl -v` prints (`Server version: Apache/2.4.62 (Debian)`), or the first line. */
export function parseApacheVersion(output: string): string {
  const match = /Server version:\s*(\S+)/.exec(output);
  return match ? match[1] : (output.split('\n')[0] ?? '').trim();
}

function apacheVersion(apachectl: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(apachectl[0], [...apachectl.slice(1), '-v'], { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      resolve(err ? `unavailable (${(stderr || err.message).trim().split('\n')[0]})` : parseApacheVersion(stdout));
    });
  });
}

/** The `probe` job: this host's Docker Engine and Apache versions (a part that does not answer says so). */
export async function probeHost(docker: Docker, apachectl: string[]): Promise<ProbeResult> {
  const [engine, apache] = await Promise.all([
    docker.version().then(
      (v) => `Engine ${v.Version} (API ${v.ApiVersion})`,
      (err: Error) => `unavailable (${err.message})`,
    ),
    apacheVersion(apachectl),
  ]);
  return { docker: engine, apache };
}
