import http from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRequestStream } from './request-stream';

/**
 * The request stream against a server that resets every kept-alive connection when its second
 * request arrives (what an Apache graceful reload does to a client sending on an idle one).
 */
describe('request stream', () => {
  let server: http.Server;
  let port = 0;
  const served = new WeakMap<Socket, number>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (count > 1) return req.socket.destroy();
      res.end('ok');
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const run = async (retryReusedReset: boolean) => {
    const stream = startRequestStream(port, 'reset.test', '/', 20, { retryReusedReset });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return stream.stop();
  };

  it('counts a reset of a kept-alive connection as failed', async () => {
    const result = await run(false);
    expect(result.failed).toBeGreaterThan(0);
    expect(result.failures.every((f) => f.endsWith('ECONNRESET'))).toBe(true);
    expect(result.retried).toBe(0);
  });

  it('with retryReusedReset, sends it again on a fresh connection and counts it as retried, not failed', async () => {
    const result = await run(true);
    expect(result.failed).toBe(0);
    expect(result.retried).toBeGreaterThan(0);
    expect(result.bodies.get('ok')).toBe(result.total);
  });
});
