import { execFile } from 'node:child_process';

/** The `SHA256:` fingerprints `ssh-keygen -l` prints, one per key line it understood. */
export function parseFingerprints(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    const match = /^\d+ (SHA256:[A-Za-z0-9+/]+) /.exec(line);
    return match ? [match[1]] : [];
  });
}

/** The argv that fingerprints the keys of a file (`-` reads stdin); an authorized_keys file's options are understood. */
export function fingerprintArgs(file: string): string[] {
  return ['-l', '-E', 'sha256', '-f', file];
}

/**
 * Runs OpenSSH's own parser over `file` (or `input`, with file `-`) and returns the fingerprints
 * of the keys it read; none when it read none.
 */
export function sshKeygenFingerprints(file: string, input?: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('ssh-keygen', fingerprintArgs(file), { encoding: 'utf8', timeout: 10_000 }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('ssh-keygen was not found: install openssh-client'));
      resolve(parseFingerprints(stdout));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}
