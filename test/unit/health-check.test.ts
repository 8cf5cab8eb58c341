import { describe, expect, it } from 'vitest';
import http from 'node:http';
import { judgeHealth, waitHealthy } from '../../src/deploy/health-check';
import { freePort } from '../support/free-port';

describe('health verdict', () => {
  it.each([
    [200, 'ok', true],
    [204, '', true],
    [200, '{"status":"UP"}', true],
    [200, '{"status":"up"}', true],
    [200, '{"status":"DOWN"}', false],
    [200, '{"other":1}', true],
    [500, '{"status":"UP"}', false],
    [302, '', false],
  ])('%i %s → %s', (status, body, ok) => {
    expect(judgeHealth('/health', status, body).ok).toBe(ok);
  });
  it('words a failure the way the pusher reads it', () => {
    expect(judgeHealth('/health', 500, '').reason).toBe('GET /health → 500');
  });
});

describe('waiting for health', () => {
  it('returns as soon as a real server answers UP, and fails fast when the app dies', async () => {
    let calls = 0;
    const server = http.createServer((_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 503 : 200, { 'content-type': 'application/json' });
      res.end(calls < 3 ? '{}' : '{"status":"UP"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const { elapsedMs } = await waitHealthy({ port, path: '/h', timeoutMs: 5000, intervalMs: 20, checkAlive: async () => undefined });
      expect(elapsedMs).toBeLessThan(2000);
      await expect(waitHealthy({ port, path: '/h', timeoutMs: 5000, checkAlive: async () => 'the new container exited with code 1' })).rejects.toThrow(/exited with code 1/);
    } finally {
      server.close();
    }
  });
  it('asks whether the container still runs only every 100 ms, however often it polls', async () => {
    const port = await freePort();
    const server = http.createServer((_req, res) => res.end('{"status":"UP"}'));
    // Refused for 600 ms (polled every 20 ms), then healthy.
    const listening = setTimeout(() => server.listen(port, '127.0.0.1'), 600);
    let aliveChecks = 0;
    try {
      const { elapsedMs } = await waitHealthy({ port, path: '/h', timeoutMs: 5000, checkAlive: async () => void aliveChecks++ });
      expect(elapsedMs).toBeGreaterThanOrEqual(600);
      expect(aliveChecks).toBeGreaterThanOrEqual(2);
      expect(aliveChecks).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 1);
    } finally {
      clearTimeout(listening);
      server.close();
    }
  });
  it('gives up after the timeout with the last reason', async () => {
    await expect(waitHealthy({ port: 1, path: '/h', timeoutMs: 300, intervalMs: 50, checkAlive: async () => undefined })).rejects.toThrow(/health check failed: GET \/h: connection refused/);
  });
});
