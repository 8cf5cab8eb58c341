import { connectRedis } from '../queue/redis-connection';
import { readRuntimeInfo } from '../runtime-file';
import { homePaths, type Settings } from '../settings';
import { fail, findExecutable, ok, runCommand, warn, type CheckResult } from './check';

/** `7.0.15` from `redis-server --version` (`Redis server v=7.0.15 sha=…`). */
export function parseRedisServerVersion(output: string): string | undefined {
  return /\bv=(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** A Redis URL or socket path for messages, without its password. */
export function redactRedisTarget(target: string): string {
  return target.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * The queue's Redis answers PING: REDIS_URL when set, else the embedded one a running slipway
 * named in runtime.json. With neither, says whether `redis-server` is installed for the
 * embedded default.
 */
export async function checkRedis(settings: Settings): Promise<CheckResult[]> {
  if (settings.redisUrl !== undefined) {
    const shown = redactRedisTarget(settings.redisUrl);
    const answer = await ping(settings.redisUrl);
    return [
      answer.ok
        ? ok('redis', `REDIS_URL ${shown} answers PING${answer.version ? ` (Redis ${answer.version})` : ''}`)
        : fail('redis', `REDIS_URL ${shown} does not answer: ${answer.error}`, 'start that Redis, fix REDIS_URL, or unset REDIS_URL to let slipway run its own (`apt-get install redis-server`)'),
    ];
  }
  const runtimeFile = homePaths(settings.home).runtimeFile;
  const runtime = await readRuntimeInfo(runtimeFile).catch(() => undefined);
  const installed = await redisServerInstalled();
  if (runtime?.redis) {
    const shown = redactRedisTarget(runtime.redis);
    const answer = await ping(runtime.redis);
    if (answer.ok) return [ok('redis', `${shown} (from runtime.json) answers PING${answer.version ? ` (Redis ${answer.version})` : ''}`)];
    if (!installed.path) return [fail('redis', `${shown} (from runtime.json) does not answer, and redis-server is not installed`, 'apt-get install redis-server')];
    return [
      warn(
        'redis',
        `${shown} (from ${runtimeFile}) does not answer: ${answer.error}; slipway is probably not running (redis-server ${installed.version ?? '?'} is installed)`,
        'start slipway (`slipway up`, or `slipway server` under pm2/systemd): it starts its embedded Redis',
      ),
    ];
  }
  if (!installed.path) {
    return [fail('redis', 'no REDIS_URL, and redis-server (for the embedded Redis) is not installed', 'apt-get install redis-server, or set REDIS_URL to a Redis you run')];
  }
  const version = installed.version ? ` ${installed.version}` : '';
  return [ok('redis', `no REDIS_URL: slipway starts its embedded redis-server${version} (${installed.path}) on a unix socket under ${homePaths(settings.home).redis}`)];
}

async function redisServerInstalled(): Promise<{ path?: string; version?: string }> {
  const file = await findExecutable('redis-server');
  if (!file) return {};
  return { path: file, version: parseRedisServerVersion((await runCommand(file, ['--version'], 5000)).output) };
}

async function ping(target: string): Promise<{ ok: true; version?: string } | { ok: false; error: string }> {
  const redis = connectRedis(target, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, enableOfflineQueue: false });
  let lastError: NodeJS.ErrnoException | undefined;
  redis.on('error', (err: NodeJS.ErrnoException) => (lastError = err));
  try {
    await redis.connect();
    const pong = await redis.ping();
    if (pong !== 'PONG') return { ok: false, error: `PING answered ${String(pong)}` };
    const info = await redis.info('server').catch(() => '');
    return { ok: true, version: /redis_version:(\S+)/.exec(info)?.[1] };
  } catch (err) {
    const e = lastError ?? (err as NodeJS.ErrnoException);
    return { ok: false, error: e.code ?? e.message };
  } finally {
    redis.disconnect();
  }
}
