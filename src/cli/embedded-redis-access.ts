import { connectRedis } from '../queue/redis-connection';
import { readRuntimeInfo } from '../runtime-file';
import { homePaths } from '../settings';
import type { CliContext } from './cli-context';

/** The embedded Redis's socket (hosts need slipway's own Redis: it gets their users and the TLS listener). */
export async function embeddedRedisSocket(ctx: CliContext): Promise<string> {
  if (ctx.settings.redisUrl !== undefined) throw new Error("several hosts need slipway's embedded Redis, and REDIS_URL is set");
  const runtime = await readRuntimeInfo(homePaths(ctx.settings.home).runtimeFile);
  if (!runtime?.redis.startsWith('/')) throw new Error('no running slipway server with its embedded Redis found: start it with `slipway up` (or `slipway server`)');
  return runtime.redis;
}

/** Runs `fn` with a connection to the embedded Redis, as slipway's own user. */
export async function withRedis<T>(socketPath: string, fn: (redis: ReturnType<typeof connectRedis>) => Promise<T>): Promise<T> {
  const redis = connectRedis(socketPath, { maxRetriesPerRequest: 3 });
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}
