/** A fixed-rate stream of GETs through Apache, like visitors, for zero-downtime tests. */
import http from 'node:http';
import https from 'node:https';

export interface StreamResult {
  total: number;
  failed: number;
  /** One line per failure: when (ms since start), and what (status or error code). */
  failures: string[];
  /** Requests sent again on a fresh connection after a reset of a kept-alive one (only with `retryReusedReset`). */
  retried: number;
  bodies: Map<string, number>;
}

export interface RequestStream {
  stop(): Promise<StreamResult>;
}

/**
 * Sends `ratePerSecond` GETs per second to Apache at `port` with `host`, keep-alive, open-loop.
 * With `tls`, over HTTPS with `host` as SNI name (the certificate is not verified: tests check it apart).
 * With `address`, to Apache on that address (a simulated host's) instead of 127.0.0.1.
 * With `retryReusedReset`, a GET reset on a kept-alive connection before any response byte is sent
 * once more on a fresh connection, as browsers and curl do (and Node's docs advise for
 * `request.reusedSocket`), and counted in `retried`: for tests across an Apache graceful reload,
 * which closes idle kept-alive connections a client may be sending on at that moment. A failure of
 * that second try, and every other failure, counts as failed.
 */
export function startRequestStream(port: number, host: string, path: string, ratePerSecond: number, options: { tls?: boolean; address?: string; retryReusedReset?: boolean } = {}): RequestStream {
  const agent = options.tls ? new https.Agent({ keepAlive: true, maxSockets: 32, servername: host, rejectUnauthorized: false }) : new http.Agent({ keepAlive: true, maxSockets: 32 });
  const get = options.tls ? https.get : http.get;
  const started = Date.now();
  const result: StreamResult = { total: 0, failed: 0, failures: [], retried: 0, bodies: new Map() };
  const pending = new Set<Promise<void>>();
  const fail = (what: string) => {
    result.failed++;
    result.failures.push(`${Date.now() - started} ms: ${what}`);
  };
  const send = (resolve: () => void, fresh: boolean) => {
    const req = get(
      {
        host: options.address ?? '127.0.0.1',
        port,
        path,
        headers: { host },
        timeout: 10_000,
        ...(fresh ? { agent: false, servername: options.tls ? host : undefined, rejectUnauthorized: false } : { agent }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 500) fail(`HTTP ${res.statusCode}`);
          else result.bodies.set(body.trim(), (result.bodies.get(body.trim()) ?? 0) + 1);
          resolve();
        });
      },
    );
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (options.retryReusedReset && !fresh && !answered && req.reusedSocket && err.code === 'ECONNRESET') {
        result.retried++;
        send(resolve, true);
        return;
      }
      fail(err.code ?? err.message);
      resolve();
    });
  };
  const timer = setInterval(() => {
    result.total++;
    const done = new Promise<void>((resolve) => send(resolve, false));
    pending.add(done);
    void done.then(() => pending.delete(done));
  }, 1000 / ratePerSecond);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      agent.destroy();
      return result;
    },
  };
}
