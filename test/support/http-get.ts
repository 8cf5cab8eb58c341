/** Plain HTTP GETs for tests: through Apache with a Host header, or straight to a port. */
import http from 'node:http';
import https from 'node:https';

export interface HttpResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** GET `http://<address, default 127.0.0.1>:<port><path>` with an optional Host header (and other headers); rejects on network errors. */
export function httpGet(port: number, path: string, host?: string, timeoutMs = 10_000, headers: Record<string, string> = {}, address = '127.0.0.1'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port, path, headers: { ...headers, ...(host ? { host } : {}) }, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/**
 * GET `https://127.0.0.1:<port>/` with `host` as Host header and SNI name. The certificate is not
 * verified: tests that care read the served certificate apart.
 */
export function httpsGet(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', servername: host, headers: { host }, rejectUnauthorized: false, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}
