import { promises as fs } from 'node:fs';

/**
 * Whether a process's argv is a build slipway started for `contextDir`: every build command ends
 * with `-- <contextDir>` (see build-command.ts), and so does the buildx plugin's own process.
 */
export function isBuildOf(argv: string[], contextDir: string): boolean {
  return argv.at(-1) === contextDir && argv.at(-2) === '--' && argv.includes('build') && /(^|\/)docker[^/]*$/.test(argv[0] ?? '');
}

/**
 * Stops (SIGKILL, with its process group) every docker CLI still building `contextDir` that this
 * process did not start: a worker that was killed mid-build leaves its CLI running, and the deploy
 * BullMQ runs again must not build alongside it. The caller holds the app's deploy lock, so no
 * live deploy is building that tree. Reads /proc (Linux); elsewhere it finds nothing.
 */
export async function stopOrphanedBuilds(contextDir: string): Promise<number> {
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  let stopped = 0;
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').slice(0, -1);
    if (!isBuildOf(argv, contextDir)) continue;
    // /proc/PID/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const [, ppid, pgrp] = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    if (ppid === process.pid) continue;
    try {
      // Builds run as their own group leader; the plugin's process is killed with its group.
      process.kill(pgrp === pid ? -pid : pid, 'SIGKILL');
      stopped++;
    } catch {
      // Gone already.
    }
  }
  return stopped;
}
