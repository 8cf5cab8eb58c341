/**
 * Statistics over the load generator's samples: latency percentiles per route and failure
 * counts per kind, for any time window.
 */
import type { Sample } from './load-generator';

/** Latency figures of one route in one window (all in ms). */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Everything the report needs about one time window. */
export interface WindowSummary {
  /** Requests whose scheduled start falls in the window (both routes). */
  requests: number;
  /** Failed requests per route path. */
  failedByRoute: Record<string, number>;
  /** Failed requests per kind (`ECONNRESET`, `HTTP 502`, `timeout`, …), both routes together. */
  failedByKind: Record<string, number>;
  /** Latency per route path; failed requests count with their time to failure. */
  latency: Record<string, LatencySummary>;
}

/**
 * Nearest-rank percentile of an ascending array (`p` in 0..100): the smallest value such that at
 * least p % of the values are ≤ it. Nearest-rank never interpolates, so p99 is a latency some
 * request really had. NaN for an empty array.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** p50, p99 and max of a set of latencies (any order). */
export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : Number.NaN };
}

/**
 * Summarises the samples scheduled in `[from, to]`. The window is decided by the scheduled start
 * (not the end), so a request sent during a deploy counts for that deploy even when it finishes
 * (or fails) after the push returned.
 *
 * @param routes route paths to report even when they had no sample in the window
 */
export function summarizeWindow(samples: readonly Sample[], from: number, to: number, routes: readonly string[]): WindowSummary {
  const inWindow = samples.filter((s) => s.scheduled >= from && s.scheduled <= to);
  const failedByRoute: Record<string, number> = Object.fromEntries(routes.map((r) => [r, 0]));
  const failedByKind: Record<string, number> = {};
  const latencies: Record<string, number[]> = Object.fromEntries(routes.map((r) => [r, []]));
  for (const s of inWindow) {
    (latencies[s.route] ??= []).push(s.latency);
    if (s.outcome === 'ok') continue;
    failedByRoute[s.route] = (failedByRoute[s.route] ?? 0) + 1;
    failedByKind[s.outcome] = (failedByKind[s.outcome] ?? 0) + 1;
  }
  const latency = Object.fromEntries(Object.entries(latencies).map(([route, values]) => [route, latencySummary(values)]));
  return { requests: inWindow.length, failedByRoute, failedByKind, latency };
}

/** Total failed requests of a summary (all routes). */
export function totalFailed(summary: WindowSummary): number {
  return Object.values(summary.failedByRoute).reduce((a, b) => a + b, 0);
}

/** `{ECONNRESET: 3, 'HTTP 502': 1}` → `"ECONNRESET×3, HTTP 502×1"`; `"–"` when empty. */
export function formatKinds(kinds: Record<string, number>): string {
  const entries = Object.entries(kinds).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([kind, n]) => `${kind}×${n}`).join(', ') : '–';
}

/** Median of a set of numbers (NaN when empty); used for push→live and floor samples. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
