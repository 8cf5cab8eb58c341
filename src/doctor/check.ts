import { execFile } from 'node:child_process';

export { findExecutable } from '../find-executable';

/** What one doctor check found. */
export interface CheckResult {
  /** Short name of what was checked (`docker`, `apache modules`, `template adara`, …). */
  name: string;
  status: 'ok' | 'warn' | 'fail';
  /** What was found, in plain words. */
  detail: string;
  /** What to do about it (for `warn` and `fail`). */
  fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'warn', detail, ...(fix ? { fix } : {}) });
export const fail = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'fail', detail, ...(fix ? { fix } : {}) });

/**
 * Runs a check so that it always ends with results: a thrown error or a hang (past `timeoutMs`)
 * becomes a `fail` line instead of crashing or stalling `slipway doctor`.
 */
export async function guarded(name: string, run: () => Promise<CheckResult[]>, timeoutMs = 20_000): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(() => resolve([fail(name, `no answer within ${timeoutMs / 1000} s`)]), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([run(), timeout]);
  } catch (err) {
    return [fail(name, `the check itself failed: ${(err as Error).message}`)];
  } finally {
    clearTimeout(timer);
  }
}

/** `major.minor[.patch]` compared numerically: negative, zero or positive like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Bytes as `1.5 GiB` / `300 MiB`. */
export function formatBytes(bytes: number): string {
  const gib = bytes / 2 ** 30;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** Runs a command (argv, no shell); never throws. `code` is -1 when it could not be started. */
export function runCommand(file: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, output: `${stdout}${stderr}`.trim() || (err?.message ?? '') });
    });
  });
}
