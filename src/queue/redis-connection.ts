import { Redis, type RedisOptions } from 'ioredis';

/**
 * Opens an ioredis connection to a `redis://` URL or a unix socket path. BullMQ workers need
 * `maxRetriesPerRequest: null` (they block on Redis and must not give up on a restart).
 */
export function connectRedis(target: string, options: RedisOptions = {}): Redis {
  const base: RedisOptions = { maxRetriesPerRequest: null, ...options };
  const redis = target.startsWith('/') ? new Redis({ ...base, path: target }) : new Redis(target, base);
  // ioredis reconnects on its own and a failing command rejects where it was issued; without a
  // listener every reconnect attempt during a Redis restart would print an "Unhandled error event".
  redis.on('error', () => undefined);
  return redis;
}
