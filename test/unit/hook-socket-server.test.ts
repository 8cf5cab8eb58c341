import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeHookRequest, HELD_ANSWER, MAX_REQUEST_BYTES, OUTCOME_QUESTION, type HookRequest } from '../../src/push/hook-protocol';
import { PushRegistry } from '../../src/push/push-registry';
import { startHookSocketServer, type HookHandler, type HookSocketServer } from '../../src/server/hook-socket-server';
import { hookExchange } from '../support/hook-socket-client';
import { leaveStaleSocket } from '../support/stale-socket';

const log = pino({ level: 'silent' });
const request: HookRequest = { app: 'shop', refUpdates: '', pushOptions: [], receivePackPid: 4242, user: null };

let dir: string;
let socketPath: string;
let server: HookSocketServer | undefined;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-hook-socket-'));
  socketPath = path.join(dir, 'run', 'hook.sock');
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

const exchange = (text: string | Buffer) => hookExchange(socketPath, text);

/** A handler that says its app and pid, then exits with the pid's last digit. */
const echo: HookHandler = async (req, say) => {
  say(`push of ${req.app} by ${req.receivePackPid}`);
  return req.receivePackPid % 10;
};

describe('hook socket server', () => {
  it('answers a hook with its lines and exit code; only the owner can reach the socket', async () => {
    server = await startHookSocketServer(socketPath, echo, log);
    expect(await exchange(encodeHookRequest(request))).toEqual([{ line: 'push of shop by 4242' }, { exit: 2 }]);
    expect((await fs.stat(path.dirname(socketPath))).mode & 0o777).toBe(0o700);
    expect((await fs.stat(socketPath)).mode & 0o777).toBe(0o600);
  });

  it('answers a malformed request with a plain error line and exit 1, without calling the handler', async () => {
    let called = false;
    server = await startHookSocketServer(socketPath, async () => ((called = true), 0), log);
    expect(await exchange('{"app": "shop"}\n')).toEqual([
      { line: 'slipway: bad hook request: refUpdates: is required; pushOptions: is required; receivePackPid: is required; user: is required' },
      { exit: 1 },
    ]);
    expect(await exchange('garbage\n')).toEqual([{ line: expect.stringMatching(/^slipway: bad hook request: not valid JSON \(/) as string }, { exit: 1 }]);
    expect(await exchange(Buffer.alloc(MAX_REQUEST_BYTES + 10, 'x'))).toEqual([{ line: `slipway: bad hook request: larger than ${MAX_REQUEST_BYTES} bytes` }, { exit: 1 }]);
    expect(called).toBe(false);
  });

  it('reports a failing handler as a failed hook and keeps serving', async () => {
    let calls = 0;
    server = await startHookSocketServer(
      socketPath,
      async (req, say) => {
        if (calls++ === 0) throw new Error('Redis is gone');
        return echo(req, say, new AbortController().signal);
      },
      log,
    );
    expect(await exchange(encodeHookRequest(request))).toEqual([{ line: 'slipway: the deploy hook failed: Redis is gone' }, { exit: 1 }]);
    expect(await exchange(encodeHookRequest(request))).toEqual([{ line: 'push of shop by 4242' }, { exit: 2 }]);
  });

  it('aborts the handler when the hook disconnects mid-way; later writes go nowhere and nothing crashes', async () => {
    let aborted: () => void = () => undefined;
    const wasAborted = new Promise<void>((resolve) => (aborted = resolve));
    let writesAfterAbort = 0;
    server = await startHookSocketServer(
      socketPath,
      async (req, say, signal) => {
        if (req.app !== 'slow') return echo(req, say, signal);
        say('-----> Deploying');
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        aborted();
        for (let i = 0; i < 100; i++, writesAfterAbort++) say('still here');
        signal.throwIfAborted();
        return 0;
      },
      log,
    );
    expect(await hookExchange(socketPath, encodeHookRequest({ ...request, app: 'slow' }), { hangUpAfter: 1 })).toEqual([{ line: '-----> Deploying' }]);
    await wasAborted;
    expect(writesAfterAbort).toBe(100);
    expect(await exchange(encodeHookRequest(request))).toHaveLength(2);
  });

  it('serves many hooks at once, each its own answer', async () => {
    server = await startHookSocketServer(
      socketPath,
      async (req, say) => {
        await new Promise((r) => setTimeout(r, 50));
        return echo(req, say, new AbortController().signal);
      },
      log,
    );
    const pids = Array.from({ length: 60 }, (_, i) => 1000 + i);
    const answers = await Promise.all(pids.map((pid) => exchange(encodeHookRequest({ ...request, receivePackPid: pid }))));
    expect(answers).toEqual(pids.map((pid) => [{ line: `push of shop by ${pid}` }, { exit: pid % 10 }]));
  });

  it('close() takes no new hooks and removes the socket at once, but answers the push in progress', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => (started = resolve));
    const running = await startHookSocketServer(
      socketPath,
      async (_req, say) => {
        started();
        await held;
        say('done');
        return 0;
      },
      log,
    );
    const answer = exchange(encodeHookRequest(request));
    await inHandler;
    const closed = running.close();
    await expect(fs.lstat(socketPath)).rejects.toThrow(/ENOENT/);
    release();
    expect(await answer).toEqual([{ line: 'done' }, { exit: 0 }]);
    await closed;
  });

  it('replaces a socket file left by a dead process, refuses a live one and a non-socket file', async () => {
    await fs.mkdir(path.dirname(socketPath), { recursive: true });
    await leaveStaleSocket(socketPath);
    expect((await fs.lstat(socketPath)).isSocket()).toBe(true);
    server = await startHookSocketServer(socketPath, echo, log);
    expect(await exchange(encodeHookRequest(request))).toHaveLength(2);

    await expect(startHookSocketServer(socketPath, echo, log)).rejects.toThrow(/another slipway process serves hooks/);
    await server.close();
    server = undefined;

    await fs.writeFile(socketPath, 'not a socket');
    await expect(startHookSocketServer(socketPath, echo, log)).rejects.toThrow(/exists and is not a socket/);
  });

  it('refuses a socket path longer than a unix socket allows', async () => {
    await expect(startHookSocketServer(path.join(dir, 'x'.repeat(120), 'hook.sock'), echo, log)).rejects.toThrow(/use a shorter SLIPWAY_HOME/);
  });
});

describe("an ssh entry's held report", () => {
  it('registers the push while the entry is connected and answers the outcome question with the rejected refs', async () => {
    const pushes = new PushRegistry();
    server = await startHookSocketServer(socketPath, echo, log, pushes);
    const socket = net.createConnection(socketPath);
    socket.setEncoding('utf8');
    const lines: string[] = [];
    let waiting: (() => void) | undefined;
    socket.on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter(Boolean));
      waiting?.();
    });
    const nextLine = async (count: number) => {
      while (lines.length < count) await new Promise<void>((resolve) => (waiting = resolve));
      return lines[count - 1];
    };
    socket.write('{"holdReport":{"receivePackPid":777,"pusher":"ssh:alice"}}\n');
    expect(await nextLine(1)).toBe(HELD_ANSWER);
    expect(pushes.pusherOf(777)).toBe('ssh:alice');
    expect(pushes.holdsReport(777)).toBe(true);
    pushes.reject(777, 'refs/heads/main', 'health check failed');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`${OUTCOME_QUESTION}\n`);
    expect(JSON.parse(await nextLine(2))).toEqual({ rejected: { 'refs/heads/main': 'health check failed' } });
    await closed;
    // The server's side closes right after the entry's.
    await vi.waitFor(() => expect(pushes.holdsReport(777)).toBe(false));
  });
});
