import type http from 'node:http';
import type { DeployQueue } from '../queue/deploy-queue';

/** How often the job's log is polled (one LRANGE per tick, as `followJob` does). */
export const EVENTS_POLL_MS = 200;
/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
export const EVENTS_HEARTBEAT_MS = 15_000;

/** One server-sent event as text: `id:`, optional `event:`, and one `data:` field per line of `data`. */
export function sseEvent(data: string, options: { id?: number; event?: string } = {}): string {
  const head = `${options.id !== undefined ? `id: ${options.id}\n` : ''}${options.event ? `event: ${options.event}\n` : ''}`;
  return `${head}${data
    .split(/\r\n|\r|\n/)
    .map((part) => `data: ${part}`)
    .join('\n')}\n\n`;
}

/** Where a (re)connecting client resumes: after its Last-Event-ID, else at `?from=`, else 0. */
export function resumeIndex(lastEventId: string | string[] | undefined, from: string | null): number {
  const last = Number(Array.isArray(lastEventId) ? lastEventId[0] : lastEventId);
  if (lastEventId !== undefined && Number.isInteger(last) && last >= 0) return last + 1;
  const start = Number(from);
  return from !== null && Number.isInteger(start) && start >= 0 ? start : 0;
}

/**
 * Streams a deploy job's log as server-sent events: each new line a `data:` event whose id is its
 * index (so EventSource resumes exactly after a reconnect), an `event: state` when it goes from
 * queued to running, and `event: end` with `{ok, summary, superseded}` when it finishes; then the
 * response ends. Polls the queue every `pollMs` and stops as soon as the client goes away or
 * `stop` is called (server shutdown).
 */
export async function streamDeployEvents(
  queue: DeployQueue,
  jobId: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  start: number,
  options: { pollMs?: number; heartbeatMs?: number; onStop?: (stop: () => void) => () => void } = {},
): Promise<void> {
  const pollMs = options.pollMs ?? EVENTS_POLL_MS;
  const heartbeatMs = options.heartbeatMs ?? EVENTS_HEARTBEAT_MS;
  let closed = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    closed = true;
    wake?.();
  };
  req.once('close', stop);
  res.once('close', stop);
  const unregister = options.onStop?.(stop);

  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  let lastWrite = Date.now();
  const write = (text: string) => {
    if (closed) return;
    res.write(text);
    lastWrite = Date.now();
  };
  write('retry: 2000\n\n');

  let sent = start;
  let lastState = '';
  const sendNewLines = async () => {
    const { logs } = await queue.getJobLogs(jobId, sent, -1, true);
    for (const line of logs) write(sseEvent(line, { id: sent++ }));
  };

  try {
    while (!closed) {
      await sendNewLines();
      const state = await queue.getJobState(jobId);
      if (state === 'completed' || state === 'failed') {
        await sendNewLines();
        const job = await queue.getJob(jobId);
        const result = state === 'completed' && job?.returnvalue ? job.returnvalue : { ok: false, summary: `✘ deploy stopped: ${job?.failedReason ?? 'the job is gone'}` };
        write(sseEvent(JSON.stringify({ ok: result.ok, summary: result.summary, superseded: result.superseded ?? false }), { event: 'end' }));
        break;
      }
      if (state === 'unknown') {
        write(sseEvent(JSON.stringify({ ok: false, summary: 'the deploy job is no longer in the queue', superseded: false }), { event: 'end' }));
        break;
      }
      if (state !== lastState) {
        write(sseEvent(state, { event: 'state' }));
        lastState = state;
      }
      if (Date.now() - lastWrite >= heartbeatMs) write(': keepalive\n\n');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } catch {
    // Redis went away mid-stream: end the response; EventSource reconnects and resumes by id.
  } finally {
    req.off('close', stop);
    res.off('close', stop);
    unregister?.();
    if (!res.writableEnded) res.end();
  }
}
