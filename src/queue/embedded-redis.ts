import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { connectEmbeddedRedis, connectRedis } from './redis-connection';

/** A private redis-server on a unix socket only (no TCP port: a `--net=host` app cannot reach it). */
export interface EmbeddedRedis {
  socketPath: string;
  stop(): Promise<void>;
}

/**
 * Starts redis-server with AOF on (`appendfsync everysec`: Redis writes each change to the file before
 * it answers, unless a slow disk holds the write back, so a killed Redis loses nothing it acknowledged; only a power cut can lose the
 * last second, and a push lost that way is queued again by reconcile from the repo's refs), data in `dir`, listening only on `dir/redis.sock` with mode 700.
 * If one started earlier by slipway still answers on that socket, it is reused (a restart of
 * slipway must not lose the queue).
 */
export async function startEmbeddedRedis(dir: string): Promise<EmbeddedRedis> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(dir, 'redis.sock');
  const pidFile = path.join(dir, 'redis.pid');
  if (!(await answers(socketPath))) {
    const child = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--unixsocket',
        socketPath,
        '--unixsocketperm',
        '700',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--pidfile',
        pidFile,
        '--daemonize',
        'yes',
        '--logfile',
        path.join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`cannot run redis-server (install Debian's redis-server): ${err.message}`)));
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`redis-server exited with ${code}; see ${path.join(dir, 'redis.log')}`);
    const deadline = Date.now() + 10_000;
    while (!(await answers(socketPath))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${socketPath} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    socketPath,
    async stop() {
      const redis = connectRedis(socketPath, { maxRetriesPerRequest: 1 });
      try {
        await redis.shutdown('SAVE').catch(() => undefined);
      } finally {
        redis.disconnect();
      }
    },
  };
}

async function answers(socketPath: string): Promise<boolean> {
  try {
    await fs.stat(socketPath);
  } catch {
    return false;
  }
  try {
    (await connectEmbeddedRedis(socketPath)).disconnect();
    return true;
  } catch (err) {
    // Nothing listens on the socket (a Redis that died left it): start one. Any other answer, even a
    // refusal, is a Redis that runs.
    return !['ENOENT', 'ECONNREFUSED'].includes((err as NodeJS.ErrnoException).code ?? '');
  }
}
