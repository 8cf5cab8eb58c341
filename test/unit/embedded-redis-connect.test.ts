import { promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectEmbeddedRedis } from '../../src/queue/redis-connection';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('connectEmbeddedRedis with nothing listening', () => {
  // slipway starts its embedded Redis only when the socket says nothing listens there: after a
  // power cut the killed Redis's socket file is still on disk and must read as "not running".
  it('a socket file left by a killed Redis: rejects with ECONNREFUSED, not a bare "Connection is closed."', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-stale-sock-'));
    const socket = path.join(dir, 'redis.sock');
    // A process listening on the socket, SIGKILLed: its socket file stays, nothing accepts.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`]);
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await fs.access(socket);
    await expect(connectEmbeddedRedis(socket)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('no socket file: rejects with ENOENT', async () => {
    await expect(connectEmbeddedRedis('/nonexistent/slipway/redis.sock')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
