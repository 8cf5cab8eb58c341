/** A fixed-rate stream of GETs through Apache, like visitors, for zero-downtime tests. */
import http from 'node:http';
import https from 'node:https';

export interface StreamResult {
  total: number;
  failed: number;
  /** One line per failure: when (ms since start), and what (status or error code). */
  failures: string[];
  bodies: Map<string, number>;
}

export interface RequestStream {
  stop(): Promise<StreamResult>;
}

/**
 * Sends `ratePerSecond` GETs per second to Apache at `port` with `host`, keep-alive, open-loop.
 * With `tls`, over HTTPS with `host` as SNI name (the certificate is not verified: tests check it apart).
 * With `address`, to Apache on that address (a simulated host's) instead of 127.0.0.1.
 */
export function startRequestStream(port: number, host: string, path: string, ratePerSecond: number, options: { tls?: boolean; address?: string } = {}): RequestStream {
  const agent = options.tls ? new https.Agent({ keepAlive: true, maxSockets: 32, servername: host, rejectUnauthorized: false }) : new http.Agent({ keepAlive: true, maxSockets: 32 });
  const get = options.tls ? https.get : http.get;
  const started = Date.now();
  const result: StreamResult = { total: 0, failed: 0, failures: [], bodies: new Map() };
  const pending = new Set<Promise<void>>();
  const fail = (what: string) => {
    result.failed++;
    result.failures.push(`${Date.now() - started} ms: ${what}`);
  };
  const timer = setInterval(() => {
    result.total++;
    const done = new Promise<void>((resolve) => {
      const req = get({ host: options.address ?? '127.0.0.1', port, path, headers: { host }, agent, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 500) fail(`HTTP ${res.statusCode}`);
          else result.bodies.set(body.trim(), (result.bodies.get(body.trim()) ?? 0) + 1);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(err.code ?? err.message);
        resolve();
      });
    });
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
