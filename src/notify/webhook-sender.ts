import http from 'node:http';
import https from 'node:https';

/** One POST of a JSON body; resolves with the status, rejects on network errors and timeouts. */
function postJson(url: string, body: unknown, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const payload = JSON.stringify(body);
    const req = client.request(
      target,
      { method: 'POST', timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'slipway' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Posts to a webhook, retrying a failed attempt (network error, 5xx, 429) after 1 s and 4 s.
 * Resolves with what happened; never rejects, so a caller may fire and forget.
 */
export async function sendWebhook(url: string, body: unknown, options: { attempts?: number; timeoutMs?: number; backoffMs?: number[] } = {}): Promise<{ ok: boolean; attempts: number; last: string }> {
  const attempts = options.attempts ?? 3;
  const backoff = options.backoffMs ?? [1000, 4000];
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const status = await postJson(url, body, options.timeoutMs ?? 5000);
      last = `HTTP ${status}`;
      if (status >= 200 && status < 300) return { ok: true, attempts: attempt, last };
      if (status < 500 && status !== 429) return { ok: false, attempts: attempt, last };
    } catch (err) {
      last = (err as Error).message;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, backoff[Math.min(attempt - 1, backoff.length - 1)]));
  }
  return { ok: false, attempts, last };
}

/** Webhook URLs must be http(s) with a host; anything else is refused when it is added. */
export function webhookUrlProblem(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `${url.slice(0, 80)} is not an http(s) URL`;
    return undefined;
  } catch {
    return `${url.slice(0, 80)} is not a URL`;
  }
}
