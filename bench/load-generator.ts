/**
 * Fixed-rate, open-loop HTTP load: requests are sent on a schedule (k / rps seconds after the
 * start) whether or not earlier ones have finished, so a stalled server shows up as latency and
 * failures instead of silently lowering the request rate (closed-loop clients hide stalls:
 * "coordinated omission").
 */
import http from 'node:http';
import { now } from './clock';

/** One route and its fixed request rate. */
export interface RouteLoad {
  /** Request path, e.g. `/` or `/slow`. */
  path: string;
  /** Requests per second. */
  rps: number;
  /** Host header for this route; default {@link LoadOptions.host} (one stream can load several apps). */
  host?: string;
}

/** Options for {@link startLoad}. */
export interface LoadOptions {
  /** Port to send to on 127.0.0.1 (Apache's). */
  port: number;
  /** Host header (selects the vhost). */
  host: string;
  routes: RouteLoad[];
  /** A request not finished after this many ms is destroyed and counted as `timeout`. */
  timeoutMs: number;
  /** Sockets per route's keep-alive agent. */
  maxSockets: number;
}

/**
 * How a request ended: `ok` (2xx), or a failure kind: `ECONNRESET`, `ECONNREFUSED`, `timeout`,
 * `HTTP <status>` for any non-2xx answer, `other:<code or message>` for anything else.
 */
export type Outcome = string;

/** One request. */
export interface Sample {
  route: string;
  /** The Host header it was sent with (which app). */
  host: string;
  /** When it was due (epoch ms, see clock.ts); latency is measured from here. */
  scheduled: number;
  /** When it was really handed to the agent; `sent - scheduled` is the client's own lag. */
  sent: number;
  /** When the response ended or the request failed. */
  end: number;
  /** `end - scheduled`: includes any queueing in the client's agent, so nothing is hidden. */
  latency: number;
  outcome: Outcome;
  /** HTTP status (0 when none arrived). */
  status: number;
  /** Response body, trimmed, first 200 characters (`version=v3`). */
  body: string;
}

/** A running load; see {@link startLoad}. */
export interface RunningLoad {
  /** Every finished request so far, in completion order. */
  readonly samples: Sample[];
  /** Requests sent and not yet finished. */
  inFlight(): number;
  /**
   * Stops sending, waits for the requests in flight (each ends within `timeoutMs`) and closes the
   * agents' sockets. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** How often the scheduler wakes up to send what is due; small against the 10 ms gap at 100 rps. */
const TICK_MS = 2;

/**
 * Free keep-alive sockets are closed by the client after this long idle, before Apache's own
 * `KeepAliveTimeout 5` does: otherwise a request can be written onto a socket Apache is closing at
 * that very moment, a client-side race that would be counted as a deploy failure.
 */
const FREE_SOCKET_TIMEOUT_MS = 4_000;

/**
 * Starts sending `routes` at their fixed rates through keep-alive agents (one per route, so slow
 * requests never queue fast ones behind them) until `stop()`.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const samples: Sample[] = [];
  const agents = options.routes.map(() => new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, timeout: FREE_SOCKET_TIMEOUT_MS }));
  const started = now();
  const sentPerRoute = options.routes.map(() => 0);
  const pending = new Set<Promise<void>>();

  const tick = (): void => {
    const t = now();
    options.routes.forEach((route, i) => {
      const interval = 1000 / route.rps;
      // Every request whose slot has come is sent now, with its slot time as its start time.
      while (started + sentPerRoute[i] * interval <= t) {
        const scheduled = started + sentPerRoute[i] * interval;
        sentPerRoute[i] += 1;
        const done = sendOne(options, route, agents[i], scheduled).then((sample) => {
          samples.push(sample);
        });
        pending.add(done);
        void done.finally(() => pending.delete(done));
      }
    });
  };
  const timer = setInterval(tick, TICK_MS);

  let stopping: Promise<void> | undefined;
  return {
    samples,
    inFlight: () => pending.size,
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await Promise.all([...pending]);
        for (const agent of agents) agent.destroy();
      })();
      return stopping;
    },
  };
}

/** Sends one GET and resolves with its sample; never rejects. */
function sendOne(options: LoadOptions, route: RouteLoad, agent: http.Agent, scheduled: number): Promise<Sample> {
  const path = route.path;
  return new Promise<Sample>((resolve) => {
    const sent = now();
    let settled = false;
    let timedOut = false;
    let status = 0;
    let body = '';
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const end = now();
      resolve({ route: path, host: route.host ?? options.host, scheduled, sent, end, latency: end - scheduled, outcome, status, body: body.trim().slice(0, 200) });
    };
    const req = http.get({ host: '127.0.0.1', port: options.port, path, agent, headers: { host: route.host ?? options.host } }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1_000) body += chunk;
      });
      res.on('end', () => finish(status >= 200 && status < 300 ? 'ok' : `HTTP ${status}`));
      res.on('error', (err) => finish(classify(err, timedOut)));
      res.on('aborted', () => finish(timedOut ? 'timeout' : 'ECONNRESET'));
    });
    // One deadline for the whole exchange (connect, wait, body), unlike a socket idle timeout.
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (err) => finish(classify(err, timedOut)));
  });
}

/** Maps a request error to a failure kind. */
function classify(err: Error, timedOut: boolean): Outcome {
  if (timedOut) return 'timeout';
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || code === 'ECONNREFUSED') return code;
  return `other:${code ?? err.message}`;
}
