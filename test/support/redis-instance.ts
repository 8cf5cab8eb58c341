/**
 * A private redis-server for end-to-end tests: unix socket only (`--port 0`), its own temp directory,
 * append-only file on, daemonized with a pid file. Never touches the system Redis.
 */
import { readPid, run, safeKill, sleep, tailFile, terminate } from './daemon-process';
import { promises as fs } from 'node:fs';
import { createConnection } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** A running private Redis. */
export interface RedisInstance {
  /** The unix socket Redis listens on (`<dir>/redis.sock`, mode 0700: root only). */
  socketPath: string;
  /** The instance's temp directory: socket, pid file, log, AOF (`appendonlydir/`). */
  dir: string;
  /** Pid of the current redis-server process (changes after `restart()`). */
  pid: number;
  /** SIGTERM to the pid in the pid file, wait (SIGKILL after 10 s), remove `dir`. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Stops the process the same way but keeps `dir`, then starts redis-server again with the same
   * arguments, so data written to the AOF survives. Resolves when the new process answers PING.
   */
  restart(): Promise<void>;
}

/**
 * Starts `redis-server --port 0 --unixsocket DIR/redis.sock --unixsocketperm 700 --dir DIR
 * --appendonly yes --daemonize yes --pidfile DIR/redis.pid --logfile DIR/redis.log` in a fresh temp
 * dir (prefix `slipway-redis-`) and resolves once the socket answers PING (at most 10 s; the error
 * includes the tail of redis.log).
 *
 * Connect with ioredis as `new Redis({ path: instance.socketPath })`.
 */
export async function startRedis(): Promise<RedisInstance> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-redis-'));
  const socketPath = path.join(dir, 'redis.sock');
  const pidFile = path.join(dir, 'redis.pid');
  const logFile = path.join(dir, 'redis.log');
  const args = ['--port', '0', '--unixsocket', socketPath, '--unixsocketperm', '700', '--dir', dir, '--appendonly', 'yes', '--daemonize', 'yes', '--pidfile', pidFile, '--logfile', logFile];

  let pid: number | undefined;
  let stopped = false;
  const onExit = (): void => {
    if (pid !== undefined && !stopped) safeKill(pid, 'SIGTERM');
  };
  process.once('exit', onExit);

  const launch = async (): Promise<number> => {
    await fs.rm(pidFile, { force: true });
    const started = await run('redis-server', args);
    if (started.code !== 0) {
      throw new Error(`redis-server exited ${started.code}: ${started.output}\n--- redis.log ---\n${await tailFile(logFile, 20)}`);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const found = await readPid(pidFile);
      if (found !== undefined && (await ping(socketPath))) return found;
      if (Date.now() > deadline) {
        throw new Error(`redis-server did not answer PING on ${socketPath} within ${START_TIMEOUT_MS} ms\n--- redis.log ---\n${await tailFile(logFile, 20)}`);
      }
      await sleep(50);
    }
  };

  const kill = async (): Promise<void> => {
    const target = (await readPid(pidFile)) ?? pid;
    if (target !== undefined) await terminate(target, STOP_TIMEOUT_MS, 'redis-server');
  };

  const instance: RedisInstance = {
    socketPath,
    dir,
    pid: 0,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      await kill();
      await fs.rm(dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await kill();
      pid = await launch();
      instance.pid = pid;
    },
  };

  try {
    pid = await launch();
    instance.pid = pid;
  } catch (err) {
    await instance.stop().catch(() => undefined);
    throw err;
  }
  return instance;
}

/**
 * Sends `PING` over the unix socket and resolves true on `+PONG`. Raw RESP inline command, so no
 * client library or redis-cli is needed.
 */
export function ping(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: socketPath });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
