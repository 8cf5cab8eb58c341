/**
 * What a process costs, read from /proc: resident memory (of it alone, or of it and every
 * descendant), and open file descriptors. Linux only, like slipway.
 */
import { promises as fs } from 'node:fs';

/** `VmRSS` of `pid` in bytes; 0 when it is gone (or a zombie, which has no memory left). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/** Open file descriptors of `pid` (entries of /proc/<pid>/fd); 0 when it is gone. */
export async function openFds(pid: number): Promise<number> {
  return (await fs.readdir(`/proc/${pid}/fd`).catch(() => [])).length;
}

/** `pid` and every live descendant (children of children too), by the parent pid in /proc/<pid>/stat. */
export async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await fs.readdir('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const stat = await fs.readFile(`/proc/${child}/stat`, 'utf8').catch(() => '');
    // The command name (field 2) may hold spaces and parentheses: fields after the last `)`.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    parents.set(ppid, [...(parents.get(ppid) ?? []), child]);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(parents.get(next) ?? []));
  }
  return tree;
}

/**
 * Pids of the processes whose command line mentions `text` (e.g. a daemonized redis-server,
 * reparented away from slipway, found by its socket path under SLIPWAY_HOME).
 */
export async function processesMentioning(text: string, program: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    // Joined: a daemon may rewrite its title into one string (redis-server does).
    const cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (cmdline.includes(program) && cmdline.includes(text)) found.push(pid);
  }
  return found;
}

/** Sum of `rssBytes` over `pids`. */
export async function totalRss(pids: number[]): Promise<number> {
  return (await Promise.all(pids.map(rssBytes))).reduce((a, b) => a + b, 0);
}

/** Bytes as MB with one decimal (MB = 2^20 bytes, as `ps` and `top` count). */
export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}
