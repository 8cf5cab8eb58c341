/**
 * One clock for everything the benchmark timestamps (request starts, push lines, first new
 * version seen), so times taken in different modules can be subtracted from each other.
 */

/**
 * Milliseconds since the Unix epoch with sub-millisecond resolution. Monotonic within a run
 * (`performance.now()` offset by the process start), unlike `Date.now()`, which an NTP step could
 * move backwards in the middle of a deploy window.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Seconds with one decimal, for tables: `1234.5` → `"1.2 s"`. */
export function seconds(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}

/** Whole or fractional milliseconds, for tables: `3.21` → `"3.2 ms"`, `1234.5` → `"1235 ms"`. */
export function millis(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'n/a';
  return ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}
