import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';

/** The Redis ACL user slipway's own server, worker and CLI authenticate as once hosts exist. */
export const SLIPWAY_REDIS_USER = 'slipway';

/**
 * The file (mode 600, beside the embedded Redis's socket) holding the password of slipway's own
 * Redis user. It exists only once a host was added: before that the embedded Redis has no ACL
 * users and is reached as `default` on its private socket, as always.
 */
export function embeddedRedisPasswordFile(socketPath: string): string {
  return path.join(path.dirname(socketPath), 'slipway.password');
}

/** slipway's own password for the embedded Redis at `socketPath`, or undefined while it has none. */
export function readEmbeddedRedisPassword(socketPath: string): string | undefined {
  try {
    return readFileSync(embeddedRedisPasswordFile(socketPath), 'utf8').trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Makes `redis` (and every duplicate BullMQ makes of it) authenticate as slipway's user with the
 * password read at each (re)connect: the first `hosts:add` turns the embedded Redis's `default`
 * user off while slipway's processes are connected; they keep their connections, and a reconnect
 * then needs the password that did not exist when they started.
 */
function authenticateEachConnect(redis: Redis, socketPath: string): Redis {
  const refresh = () => {
    const password = readEmbeddedRedisPassword(socketPath);
    redis.options.username = password === undefined ? undefined : SLIPWAY_REDIS_USER;
    redis.options.password = password;
  };
  refresh();
  redis.on('reconnecting', refresh);
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override?: Partial<RedisOptions>) => authenticateEachConnect(duplicate(override), socketPath);
  return redis;
}

/**
 * Opens an ioredis connection to a `redis://` URL or a unix socket path. BullMQ workers need
 * `maxRetriesPerRequest: null` (they block on Redis and must not give up on a restart). A unix
 * socket is the embedded Redis: once it has ACL users, slipway's own password is used
 * (`authenticate: false` connects as `default`, for the one who sets the users up on a fresh Redis).
 */
export function connectRedis(target: string, options: RedisOptions = {}, authenticate = true): Redis {
  const base: RedisOptions = { maxRetriesPerRequest: null, ...options };
  const redis = target.startsWith('/') ? new Redis({ ...base, path: target, lazyConnect: true }) : new Redis(target, base);
  // ioredis reconnects on its own and a failing command rejects where it was issued; without a
  // listener every reconnect attempt during a Redis restart would print an "Unhandled error event".
  redis.on('error', () => undefined);
  if (!target.startsWith('/')) return redis;
  if (authenticate) authenticateEachConnect(redis, target);
  // Connected only now, so the first connect already carries the credentials.
  if (options.lazyConnect !== true) redis.connect().catch(() => undefined);
  return redis;
}

/**
 * Connects to the embedded Redis as slipway's user, or as `default` when slipway's user does not
 * exist yet (a Redis that never had hosts, or was restarted and has not had its users back).
 * Rejects with the last refusal when neither is let in, or with the socket's error when nothing
 * listens. No ready check: it would run before the credentials are known to work.
 */
export async function connectEmbeddedRedis(socketPath: string, options: RedisOptions = {}): Promise<Redis> {
  let refusal: unknown;
  for (const authenticate of readEmbeddedRedisPassword(socketPath) === undefined ? [false] : [true, false]) {
    const redis = connectRedis(socketPath, { maxRetriesPerRequest: 1, retryStrategy: () => null, enableReadyCheck: false, ...options, lazyConnect: true }, authenticate);
    // Without retries, ioredis rejects connect() with "Connection is closed." and no code; the
    // socket's own error (ECONNREFUSED from a killed Redis's socket file) comes as an event.
    let socketError: NodeJS.ErrnoException | undefined;
    redis.on('error', (err: NodeJS.ErrnoException) => (socketError = err));
    try {
      await redis.connect();
      await redis.ping();
      return redis;
    } catch (err) {
      redis.disconnect();
      const cause = (err as NodeJS.ErrnoException).code !== undefined ? err : (socketError ?? err);
      if (['ENOENT', 'ECONNREFUSED'].includes((cause as NodeJS.ErrnoException).code ?? '')) throw cause;
      refusal = err;
    }
  }
  throw refusal instanceof Error ? refusal : new Error(String(refusal));
}
