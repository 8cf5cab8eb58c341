/**
 * `git push` with a timestamp on every output line, so the benchmark knows when slipway said
 * "Switching Apache", "Stopping previous container", etc. and can place failed requests relative
 * to those moments. slipway's hook lines reach the pusher live (about 20 ms after they are
 * printed), which is precise enough against a 10 ms request interval.
 */
import { spawn } from 'node:child_process';
import { now } from './clock';

/** One line git printed, with when it arrived. */
export interface PushLine {
  at: number;
  text: string;
}

/** A finished push. */
export interface TimedPush {
  /** Just before `git push` was spawned. */
  start: number;
  /** When git exited. */
  end: number;
  /** git's exit code; -1 when it could not start or was killed by the timeout. */
  code: number;
  /** stdout and stderr lines in arrival order, `remote: ` prefix removed. */
  lines: PushLine[];
}

/**
 * Runs `git push <url> <refspecs…>` in `dir` (argv only, no shell, no credential prompt, English
 * messages) and resolves when git exits; never rejects. Killed with SIGKILL after `timeoutMs`.
 */
export function timedGitPush(dir: string, url: string, refspecs: string[], timeoutMs: number): Promise<TimedPush> {
  return new Promise<TimedPush>((resolve) => {
    const lines: PushLine[] = [];
    const start = now();
    const child = spawn('git', ['push', url, ...refspecs], {
      cwd: dir,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_ASKPASS: '', SSH_ASKPASS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let settled = false;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ start, end: now(), code, lines });
    };
    const timer = setTimeout(() => {
      lines.push({ at: now(), text: `[bench] git push killed after ${timeoutMs} ms` });
      child.kill('SIGKILL');
    }, timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      let partial = '';
      stream.on('data', (chunk: string) => {
        // git ends progress updates with \r and real lines with \n; both end a line here.
        const parts = (partial + chunk).split(/\r|\n/);
        partial = parts.pop() ?? '';
        const at = now();
        for (const text of parts) if (text.trim() !== '') lines.push({ at, text: text.replace(/^remote: ?/, '') });
      });
      stream.on('end', () => {
        if (partial.trim() !== '') lines.push({ at: now(), text: partial.replace(/^remote: ?/, '') });
      });
    }
    child.once('error', (err) => {
      lines.push({ at: now(), text: `[bench] ${err.message}` });
      finish(-1);
    });
    child.once('close', (code) => finish(code ?? -1));
  });
}

/** When the first line matching `pattern` arrived, if any did. */
export function lineTime(push: TimedPush, pattern: RegExp): number | undefined {
  return push.lines.find((l) => pattern.test(l.text))?.at;
}

/** slipway's `✔ …` or `✘ …` line: the last word of a deploy that ran to its end (absent when the push was cut off). */
export function finalLine(push: TimedPush): string | undefined {
  return push.lines.map((l) => l.text.trim()).find((t) => t.startsWith('✔ ') || t.startsWith('✘ '));
}
