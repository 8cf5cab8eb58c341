import { execFile } from 'node:child_process';

/** Options of a git run. */
export interface GitRunOptions {
  cwd?: string;
  maxBuffer?: number;
  /** Written to git's stdin (which is closed either way). */
  input?: string;
}

/** Runs git with an argv array (never a shell) and returns stdout as bytes; stderr goes into the error message. */
export function runGitBytes(args: string[], options: GitRunOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd: options.cwd, maxBuffer: options.maxBuffer ?? 16 * 1024 * 1024, encoding: 'buffer' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args[0]} failed: ${(stderr.toString('utf8') || err.message).trim()}`));
      else resolve(stdout);
    });
    // A git that exits before reading its input must not crash the server with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/** Like {@link runGitBytes}, with stdout as UTF-8 text. */
export async function runGit(args: string[], options: GitRunOptions = {}): Promise<string> {
  return (await runGitBytes(args, options)).toString('utf8');
}
