/**
 * The real `git push`, as a user would run it, for end-to-end tests.
 */
import { spawn } from 'node:child_process';

/** What a push printed and how it ended. */
export interface GitPushResult {
  /** git's exit code; -1 when it could not be started or was killed (e.g. by the timeout). */
  code: number;
  /** stdout and stderr interleaved in arrival order (remote hook lines arrive as `remote: ...`). */
  output: string;
}

/** Options for {@link gitPush}. */
export interface GitPushOptions {
  /** Each becomes `--push-option=<value>` (`-o`), e.g. `['app=web']`. */
  pushOptions?: string[];
  /** Kill git (SIGKILL) after this many ms; default 300 000. */
  timeoutMs?: number;
  /** git's environment instead of this process's (the settings below are added to it). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `git push [--push-option=...] <url> <refspec...>` in `dir` with argv only (no shell),
 * `GIT_TERMINAL_PROMPT=0` (a credential prompt fails instead of hanging) and `LC_ALL=C` (English
 * messages). Never throws on a non-zero exit: check `code`.
 *
 * @param dir work tree to push from
 * @param url remote URL, e.g. `http://user:token@127.0.0.1:PORT/app.git`, or a bare repo's path
 * @param refspecs e.g. `['main']`, `['HEAD:refs/heads/main']`, `[':refs/heads/old']`
 */
export function gitPush(dir: string, url: string, refspecs: string[], opts: GitPushOptions = {}): Promise<GitPushResult> {
  const args = ['push', ...(opts.pushOptions ?? []).map((o) => `--push-option=${o}`), url, ...refspecs];
  const timeoutMs = opts.timeoutMs ?? 300_000;
  return new Promise<GitPushResult>((resolve) => {
    let output = '';
    let settled = false;
    const finish = (code: number, extra = ''): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, output: output + extra });
    };
    const child = spawn('git', args, {
      cwd: dir,
      env: { ...(opts.env ?? process.env), GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_ASKPASS: '', SSH_ASKPASS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      output += `\n[gitPush] killed after ${timeoutMs} ms\n`;
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    child.stderr.on('data', (chunk: string) => (output += chunk));
    child.once('error', (err) => finish(-1, `\n[gitPush] ${err.message}\n`));
    child.once('close', (code) => finish(code ?? -1));
  });
}
