/**
 * Hand-made HTTP requests for attack tests: any method, headers and body, from any loopback
 * source address (`localAddress`: 127.0.0.0/8 all reaches the host), plus a client that trickles
 * a request body a byte at a time and reports when the server closed the connection.
 */
import http from 'node:http';
import net from 'node:net';

export interface RawResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string;
  localAddress?: string;
  timeoutMs?: number;
}

/** One request on its own connection to `127.0.0.1:<port>`; rejects on network errors and after `timeoutMs` (default 10 s) without an answer. */
export function rawRequest(port: number, options: RawRequest): Promise<RawResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, localAddress: options.localAddress, agent: false, timeout: timeoutMs, headers: options.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms (hang)`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** How a trickled request ended. */
export interface TrickleResult {
  /** ms from connecting until the connection closed. */
  closedAfterMs: number;
  /** True when the server closed it (the client never stopped on its own). */
  closedByServer: boolean;
  /** What the server sent before closing, if anything. */
  reply: string;
}

/**
 * Sends `head` (request line and headers), then `body` one byte every `everyMs`, from
 * `localAddress`, until the server closes the connection or `giveUpMs` passes (then the client
 * closes it: `closedByServer` false). A body shorter than the head's Content-Length never
 * finishes. `abortAfterMs` makes the client hang up itself mid-body instead.
 */
export function trickleBody(port: number, options: { localAddress: string; head: string; body: string; everyMs: number; giveUpMs: number; abortAfterMs?: number }): Promise<TrickleResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
    let reply = '';
    let byClient = false;
    let sent = 0;
    const timers: NodeJS.Timeout[] = [];
    const clientClose = () => {
      byClient = true;
      socket.destroy();
    };
    socket.on('connect', () => {
      socket.write(options.head);
      timers.push(
        setInterval(() => {
          if (sent >= options.body.length) return;
          socket.write(options.body[sent++], () => undefined);
        }, options.everyMs),
      );
      timers.push(setTimeout(clientClose, options.giveUpMs));
      if (options.abortAfterMs !== undefined) timers.push(setTimeout(clientClose, options.abortAfterMs));
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (reply += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const t of timers) clearTimeout(t);
      resolve({ closedAfterMs: Date.now() - started, closedByServer: !byClient, reply });
    });
  });
}

/**
 * Opens `count` idle TCP connections from `localAddress` and reports, after `settleMs`, how many
 * the server has left open. `close()` ends the ones still open.
 */
export async function openIdleConnections(port: number, localAddress: string, count: number, settleMs = 500): Promise<{ open: number; close(): void }> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port, localAddress });
          socket.on('error', () => undefined);
          socket.once('connect', () => resolve(socket));
          socket.once('close', () => resolve(socket));
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, settleMs));
  return {
    open: sockets.filter((s) => !s.destroyed && s.readyState === 'open').length,
    close: () => sockets.forEach((s) => s.destroy()),
  };
}
