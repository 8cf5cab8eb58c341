/**
 * The figures a long run must not grow: slipway's resident memory and open file descriptors,
 * Redis's memory, the size of SLIPWAY_HOME and Docker's build cache.
 */
import { Redis } from 'ioredis';
import { exec } from './exec';
import { openFds, processTree, totalRss } from './process-stats';

/** The cheap figures, taken after every deploy. */
export interface LightSnapshot {
  /** Resident memory of slipway's process and its children at that moment (bytes). */
  rss: number;
  /** Open file descriptors of slipway's own process. */
  fds: number;
}

/** Every figure, taken before, now and then, and after. */
export interface FullSnapshot extends LightSnapshot {
  /** Redis `INFO memory`: `used_memory` and `used_memory_rss` (bytes). */
  redisUsed: number;
  redisRss: number;
  /** `du -sb SLIPWAY_HOME`. */
  homeBytes: number;
  /** Docker's build cache (`docker system df`): the whole Engine's, not only slipway's. */
  buildCacheBytes: number;
}

/** RSS of `pid` and its descendants, and `pid`'s open fds. */
export async function lightSnapshot(pid: number): Promise<LightSnapshot> {
  const [rss, fds] = await Promise.all([processTree(pid).then(totalRss), openFds(pid)]);
  return { rss, fds };
}

/** Every figure: slipway `pid`, the Redis on `redisSocket`, the `home` directory. */
export async function fullSnapshot(pid: number, redisSocket: string, home: string): Promise<FullSnapshot> {
  const [light, redis, homeBytes, buildCacheBytes] = await Promise.all([lightSnapshot(pid), redisMemory(redisSocket), directoryBytes(home), dockerBuildCacheBytes()]);
  return { ...light, ...redis, homeBytes, buildCacheBytes };
}

/** `used_memory` and `used_memory_rss` from `INFO memory`. */
export async function redisMemory(socketPath: string): Promise<{ redisUsed: number; redisRss: number }> {
  const redis = new Redis({ path: socketPath, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const info = await redis.info('memory');
    const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return { redisUsed: field('used_memory'), redisRss: field('used_memory_rss') };
  } finally {
    redis.disconnect();
  }
}

/** Apparent size of everything under `dir` (`du -sb`). */
export async function directoryBytes(dir: string): Promise<number> {
  const result = await exec('du', ['-sb', dir], 120_000);
  return Number(result.stdout.split('\t')[0]);
}

/** The Engine's build cache, from `docker system df` (it prints human sizes: `1.601GB`). */
export async function dockerBuildCacheBytes(): Promise<number> {
  const result = await exec('docker', ['system', 'df', '--format', '{{.Type}}\t{{.Size}}'], 120_000);
  const line = result.stdout.split('\n').find((l) => l.startsWith('Build Cache\t'));
  return line === undefined ? Number.NaN : parseHumanSize(line.split('\t')[1]);
}

/** Docker's decimal human sizes (`0B`, `12.5kB`, `1.601GB`) in bytes; NaN for anything else. */
export function parseHumanSize(text: string): number {
  const match = /^([\d.]+)\s*(B|kB|KB|MB|GB|TB)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const unit = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[match[2] as 'B'];
  return Number(match[1]) * unit;
}
