import http from 'node:http';

/** The verdict on one health response. */
export interface HealthVerdict {
  ok: boolean;
  /** Plain words: "GET /health → 500", "status is DOWN". */
  reason: string;
  /** Nothing listens on the port yet. */
  refused?: boolean;
}

/**
 * Judges a health response: 2xx, and when the body is JSON with a `status` field it must be
 * `UP` in any case (Spring Boot's actuator says `UP`, others say `up`).
 */
export function judgeHealth(path: string, statusCode: number, body: string): HealthVerdict {
  if (statusCode < 200 || statusCode > 299) return { ok: false, reason: `GET ${path} → ${statusCode}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: true, reason: `GET ${path} → ${statusCode}` };
  }
  if (typeof parsed === 'object' && parsed !== null && 'status' in parsed) {
    const status = String(parsed.status);
    if (status.toUpperCase() !== 'UP') return { ok: false, reason: `GET ${path} → ${statusCode} with status "${status.slice(0, 40)}"` };
  }
  return { ok: true, reason: `GET ${path} → ${statusCode}` };
}

/** One health request with its own timeout; a refused or hung connection is a verdict, not an exception. */
export function probeHealth(port: number, path: string, timeoutMs: number): Promise<HealthVerdict> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('end', () => resolve(judgeHealth(path, res.statusCode ?? 0, body)));
      res.on('error', (err) => resolve({ ok: false, reason: `GET ${path}: ${err.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'ECONNREFUSED';
      resolve({ ok: false, reason: `GET ${path}: ${refused ? 'connection refused (app not listening yet)' : err.message}`, refused });
    });
  });
}

export interface WaitHealthyOptions {
  port: number;
  path: string;
  timeoutMs: number;
  /** Time between polls once the app answers (unhealthy); small, so a fast app goes live fast. */
  intervalMs?: number;
  /** Asked between polls; returning a reason stops the wait at once (the container exited). */
  checkAlive: () => Promise<string | undefined>;
}

/**
 * While nothing listens, a poll is a refused connect that costs the booting app nothing, so it is
 * repeated this often: the moment the app listens is what push→live waits for.
 */
const REFUSED_INTERVAL_MS = 20;

/**
 * How often the container is asked whether it still runs: a Docker API call, not free at 50 Hz.
 * Not much rarer either: Docker restarts a crashed container (restart policy) after 100 ms, and
 * once it runs again its inspect no longer tells the exit code the pusher should see.
 */
const ALIVE_CHECK_INTERVAL_MS = 100;

/** Polls until healthy; rejects with the last verdict's reason when time runs out or the app dies. */
export async function waitHealthy(options: WaitHealthyOptions): Promise<{ elapsedMs: number }> {
  const started = Date.now();
  const interval = options.intervalMs ?? 100;
  let last: HealthVerdict = { ok: false, reason: 'no answer yet' };
  let aliveCheckedAt = -Infinity;
  while (Date.now() - started < options.timeoutMs) {
    if (Date.now() - aliveCheckedAt >= ALIVE_CHECK_INTERVAL_MS) {
      aliveCheckedAt = Date.now();
      const dead = await options.checkAlive();
      if (dead !== undefined) throw new Error(dead);
    }
    const remaining = options.timeoutMs - (Date.now() - started);
    last = await probeHealth(options.port, options.path, Math.max(100, Math.min(5000, remaining)));
    if (last.ok) return { elapsedMs: Date.now() - started };
    await new Promise((r) => setTimeout(r, last.refused ? REFUSED_INTERVAL_MS : interval));
  }
  throw new Error(`health check failed: ${last.reason} after ${Math.round(options.timeoutMs / 1000)} s`);
}
