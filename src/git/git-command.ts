import { execFile } from 'node:child_process';

/** Runs git with an argv array (never a shell) and returns stdout; stderr goes into the error message. */
export function runGit(args: string[], options: { cwd?: string; maxBuffer?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: options.cwd, maxBuffer: options.maxBuffer ?? 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args[0]} failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}
