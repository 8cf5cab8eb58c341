import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { webhookBody, type DeployEvent } from '../../src/notify/deploy-event';
import { sendWebhook, webhookUrlProblem } from '../../src/notify/webhook-sender';

const event: DeployEvent = {
  event: 'deploy.succeeded',
  app: 'shop',
  sha: '3f2a9c1d'.padEnd(40, '0'),
  ref: 'refs/heads/main',
  kind: 'push',
  pushedBy: 'alice',
  release: 12,
  summary: '✔ shop 3f2a9c1 live on port 8081 in 9.4 s',
  url: 'http://shop.example.com/',
  at: '2026-11-26T00:00:00Z',
};

describe('webhook body', () => {
  it('carries the event fields and a Slack-compatible text line', () => {
    const body = webhookBody(event);
    expect(body).toMatchObject({ event: 'deploy.succeeded', app: 'shop', release: 12 });
    expect(body.text).toBe('shop: ✔ shop 3f2a9c1 live on port 8081 in 9.4 s http://shop.example.com/');
    expect(webhookBody({ ...event, event: 'deploy.started', summary: undefined }).text).toBe('shop: deploying 3f2a9c1 (main) by alice');
  });
  it('accepts only http(s) URLs', () => {
    expect(webhookUrlProblem('https://hooks.slack.com/services/x')).toBeUndefined();
    expect(webhookUrlProblem('file:///etc/passwd')).toMatch(/not an http/);
    expect(webhookUrlProblem('not a url')).toMatch(/not a URL/);
  });
});

describe('webhook sending', () => {
  it('retries a failing receiver and gives up after the attempts, never throwing', async () => {
    let calls = 0;
    const bodies: unknown[] = [];
    const server = http.createServer((req, res) => {
      calls++;
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        bodies.push(JSON.parse(text));
        res.writeHead(calls < 3 ? 503 : 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    try {
      expect(await sendWebhook(url, { a: 1 }, { backoffMs: [10] })).toEqual({ ok: true, attempts: 3, last: 'HTTP 200' });
      expect(bodies).toHaveLength(3);
      expect(await sendWebhook('http://127.0.0.1:1/', {}, { backoffMs: [10] })).toMatchObject({ ok: false, attempts: 3 });
    } finally {
      server.close();
    }
  });
});
