/**
 * Starting and stopping the daemons tests run (Apache, Redis) by pid: only the process a test
 * started is ever signalled.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';

export function run(file: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() || (err?.message ?? '') });
    });
  });
}

export async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await fs.readFile(pidFile, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True while `pid` exists and is not a zombie. Daemons are reparented to PID 1, which on some
 * machines does not reap them promptly, so a zombie counts as exited.
 */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** True when process `pid` is `program` (by /proc/<pid>/comm, which holds at most 15 characters). */
async function runs(pid: number, program: string): Promise<boolean> {
  const comm = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  return comm !== '' && program.startsWith(comm);
}

/** SIGTERM the pid if it still runs `program`, wait up to `timeoutMs`, then SIGKILL and wait a little more. */
export async function terminate(pid: number, timeoutMs: number, program: string): Promise<void> {
  // A stale pid file can name a pid the kernel has since given to another process: only signal
  // the program we started.
  if (!(await isAlive(pid)) || !(await runs(pid, program))) return;
  safeKill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return;
    await sleep(50);
  }
  safeKill(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2_000;
  while (Date.now() < killDeadline && (await isAlive(pid))) await sleep(50);
}

export async function tailFile(file: string, lines: number): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no error log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
