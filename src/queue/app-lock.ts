import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A held per-app deploy lock. */
export interface AppLock {
  release(): Promise<void>;
}

const RELEASE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Takes the app's deploy lock if nobody holds it: one deploy per app at a time, across worker
 * processes. The lock expires `ttlMs` after its holder stops renewing it, so a killed worker
 * never leaves it stuck; a live holder renews it every third of the TTL.
 */
export async function tryLockApp(redis: Redis, queueName: string, app: string, ttlMs = 30_000): Promise<AppLock | undefined> {
  const key = `slipway:${queueName}:lock:${app}`;
  const owner = randomBytes(12).toString('hex');
  if ((await redis.set(key, owner, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
  const timer = setInterval(
    () => {
      redis.eval(RENEW_IF_OWNER, 1, key, owner, String(ttlMs)).catch(() => undefined);
    },
    Math.floor(ttlMs / 3),
  );
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE_IF_OWNER, 1, key, owner);
    },
  };
}
