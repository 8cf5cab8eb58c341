import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { encodeExit, encodeLine, HELD_ANSWER, MAX_REQUEST_BYTES, type HoldReportRequest } from '../push/hook-protocol';
import { parseSocketRequest, type HookRequest } from '../push/hook-request-schema';
import type { Logger } from '../logger';

/**
 * Serves one push handed over by a hook: writes lines for the pusher with `say` and resolves with
 * the hook's exit code. `signal` aborts when the hook has gone away (nobody is left to show
 * anything to).
 */
export type HookHandler = (request: HookRequest, say: (line: string) => void, signal: AbortSignal) => Promise<number>;

/** Where pushes whose report an ssh entry holds are registered (the server's PushRegistry). */
export interface HeldReports {
  register(receivePackPid: number, pusher: string): void;
  unregister(receivePackPid: number): void;
  rejectionsOf(receivePackPid: number): Map<string, string>;
}

/** The listening hook socket. */
export interface HookSocketServer {
  /**
   * Takes no new hooks and resolves once every push already handed over is answered (as the git
   * server lets running pushes finish); the socket file is gone at once.
   */
  close(): Promise<void>;
}

/** A hook writes its request right after connecting; a connection silent for this long is dropped. */
const REQUEST_TIMEOUT_MS = 10_000;
/** sun_path holds 108 bytes with the terminating NUL; node silently cuts longer paths. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Listens on the unix socket `socketPath` for post-receive hooks, one connection per push (see
 * push/hook-protocol.ts). Only the owner can connect: the directory is 0700 and the socket 0600.
 * A socket file left by a process that died is replaced; one that still answers means another
 * slipway serves this home, and starting fails.
 */
export async function startHookSocketServer(socketPath: string, handle: HookHandler, log: Logger, heldReports?: HeldReports): Promise<HookSocketServer> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`the hook socket path ${socketPath} is longer than a unix socket allows (${MAX_SOCKET_PATH_BYTES} bytes): use a shorter SLIPWAY_HOME`);
  }
  const dir = path.dirname(socketPath);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  await removeStaleSocket(socketPath);

  const waitingForRequest = new Set<net.Socket>();
  const server = net.createServer((socket) => serve(socket));

  function serve(socket: net.Socket): void {
    const gone = new AbortController();
    socket.once('close', () => {
      waitingForRequest.delete(socket);
      gone.abort();
    });
    // EPIPE/ECONNRESET from a hook that went away; 'close' follows and aborts the handler.
    socket.on('error', (err) => log.debug({ err: err.message }, 'hook connection error'));
    waitingForRequest.add(socket);
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());

    const send = (text: string) => {
      if (!socket.destroyed && socket.writable) socket.write(text);
    };
    const answer = (code: number) => {
      send(encodeExit(code));
      socket.end();
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let received = false;
    socket.on('data', (chunk: Buffer) => {
      // Anything after the request line is ignored; reading goes on so a hook that leaves is noticed.
      if (received) return;
      const end = chunk.indexOf(0x0a);
      chunks.push(end >= 0 ? chunk.subarray(0, end) : chunk);
      size += end >= 0 ? end : chunk.length;
      if (end < 0 && size <= MAX_REQUEST_BYTES) return;
      received = true;
      waitingForRequest.delete(socket);
      socket.setTimeout(0);
      let parsed: HookRequest | HoldReportRequest;
      try {
        parsed = parseSocketRequest(end < 0 ? undefined : Buffer.concat(chunks).toString('utf8'));
        if ('holdReport' in parsed && !heldReports) throw new Error('hold-report request: this server holds no reports');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'bad hook request');
        send(encodeLine(`slipway: bad ${(err as Error).message}`));
        return answer(1);
      }
      if ('holdReport' in parsed) return holdReport(socket, parsed.holdReport, chunk.subarray(end + 1), heldReports as HeldReports);
      const request = parsed;
      handle(request, (line) => send(encodeLine(line)), gone.signal).then(answer, (err: Error) => {
        if (gone.signal.aborted) return log.debug({ app: request.app }, 'hook went away; stopped following its deploy');
        log.error({ err, app: request.app }, 'hook request failed');
        send(encodeLine(`slipway: the deploy hook failed: ${err.message}`));
        answer(1);
      });
    });
  }

  /**
   * An ssh entry's push: registered until the entry goes away; once the entry says receive-pack's
   * response is complete (any further line), it gets the refs to report rejected.
   */
  function holdReport(socket: net.Socket, push: HoldReportRequest['holdReport'], rest: Buffer, reports: HeldReports): void {
    reports.register(push.receivePackPid, push.pusher);
    socket.once('close', () => reports.unregister(push.receivePackPid));
    socket.write(`${HELD_ANSWER}\n`);
    let asked = false;
    const onData = (data: Buffer) => {
      if (asked || data.indexOf(0x0a) < 0) return;
      asked = true;
      socket.end(`${JSON.stringify({ rejected: Object.fromEntries(reports.rejectionsOf(push.receivePackPid)) })}\n`);
    };
    socket.on('data', onData);
    onData(rest);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await fs.chmod(socketPath, 0o600);
  server.on('error', (err) => log.error({ err }, 'hook socket error'));

  return {
    close() {
      // net.Server unlinks its socket file when it closes; the callback waits for the
      // connections, so every push in progress is answered first.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of waitingForRequest) socket.destroy();
      return closed;
    },
  };
}

/** Removes a socket file no process listens on any more; refuses to take over a live one or a non-socket. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const stat = await fs.lstat(socketPath).catch(() => undefined);
  if (stat === undefined) return;
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket: move it away`);
  if (await answers(socketPath)) throw new Error(`another slipway process serves hooks at ${socketPath}: stop it first`);
  await fs.rm(socketPath, { force: true });
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
