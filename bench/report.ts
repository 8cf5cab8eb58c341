/**
 * Markdown for the results: a summary table over modes, a table per mode with one row per
 * deploy, failure details placed relative to the Apache switch, and per-deploy timelines.
 */
import { promises as fs } from 'node:fs';
import { FAST_ROUTE, type DeployAnalysis, type ModeAnalysis } from './analysis';
import { millis, seconds } from './clock';
import type { FloorSample } from './floor';
import { otherWorkDuring, type ActivityLog } from './machine-activity';
import type { Facts } from './machine-facts';
import { formatKinds, median, totalFailed, type LatencySummary } from './stats';

/** The three targets slipway aims at. */
export const TARGETS = {
  /** Deploy-window `/` p99 at most this many times the steady-state p99. */
  p99Factor: 2,
  /** push→live at most the floor plus this many ms. */
  floorSlackMs: 500,
} as const;

/** What the report is made of. */
export interface ReportInput {
  facts: Facts;
  /** Other work seen on the machine, to flag the windows it may have skewed. */
  activity: ActivityLog;
  modes: ModeAnalysis[];
  floor: FloorSample[];
  /** Load description, e.g. "100 rps to /, 5 rps to /slow". */
  loadText: string;
  slowRoute: string;
}

/** Median floor total (ms), NaN without samples. */
export function floorMs(floor: readonly FloorSample[]): number {
  return median(floor.map((f) => f.totalMs));
}

/** The summary table: one row per mode. */
export function summaryTable(input: ReportInput): string {
  const floor = floorMs(input.floor);
  const head = [
    '| mode | deploys live | requests in deploy windows | failed `/` | failed `/slow` | failure kinds | steady `/` p99 | deploy `/` p99: median / worst | deploys with p99 ≤ 2× steady | push→live: median / worst | floor | push→live − floor (median) | deploys with push→live ≤ floor + 0.5 s | deploys with other work on the machine |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rows = input.modes.map((mode) => {
    const d = mode.deploys;
    const steadyP99 = mode.steady.latency[FAST_ROUTE].p99;
    const p99s = d.map((x) => x.window.latency[FAST_ROUTE].p99);
    const lives = d.map((x) => x.pushToLiveMs).filter((x): x is number => x !== undefined);
    const kinds: Record<string, number> = {};
    for (const x of d) for (const [k, n] of Object.entries(x.window.failedByKind)) kinds[k] = (kinds[k] ?? 0) + n;
    const sum = (f: (x: DeployAnalysis) => number): number => d.reduce((a, x) => a + f(x), 0);
    const skipped = mode.run.skipped ? ` (${mode.run.skipped} skipped: time budget)` : '';
    return `| ${mode.run.config.title} | ${d.filter((x) => x.ok).length}/${d.length}${skipped} | ${sum((x) => x.window.requests)} | ${sum((x) => x.window.failedByRoute[FAST_ROUTE] ?? 0)} | ${sum((x) => x.window.failedByRoute[input.slowRoute] ?? 0)} | ${formatKinds(kinds)} | ${millis(steadyP99)} | ${millis(median(p99s))} / ${millis(Math.max(...p99s))} | ${p99s.filter((p) => p <= TARGETS.p99Factor * steadyP99).length}/${d.length} | ${seconds(median(lives))} / ${seconds(lives.length ? Math.max(...lives) : NaN)} | ${seconds(floor)} | ${signedSeconds(median(lives) - floor)} | ${lives.filter((l) => l <= floor + TARGETS.floorSlackMs).length}/${d.length} | ${d.filter((x) => otherWorkDuring(input.activity, x.span.from, x.span.to)).length}/${d.length} |`;
  });
  return [...head, ...rows].join('\n');
}

/** One row per deploy of a mode, after a steady-state row. */
export function modeTable(mode: ModeAnalysis, input: ReportInput): string {
  const floor = floorMs(input.floor);
  const steady = mode.steady;
  const fast = (l: Record<string, LatencySummary>): LatencySummary => l[FAST_ROUTE];
  const steadyP99 = fast(steady.latency).p99;
  const lines = [
    '| deploy | live | requests | failed `/` | failed `/slow` | failure kinds | `/` p50 | `/` p99 (× steady) | `/` max | `/slow` max | push→live | vs floor | push total | Apache reload | other work on the machine |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| steady state (${steadyWindowsText(mode.run.steady)}) | | ${steady.requests} | ${steady.failedByRoute[FAST_ROUTE] ?? 0} | ${steady.failedByRoute[input.slowRoute] ?? 0} | ${formatKinds(steady.failedByKind)} | ${millis(fast(steady.latency).p50)} | ${millis(steadyP99)} | ${millis(fast(steady.latency).max)} | ${millis(steady.latency[input.slowRoute].max)} | | | | | ${mode.run.steady.some((w) => otherWorkDuring(input.activity, w.from, w.to)) ? '**yes**' : 'no'} |`,
  ];
  for (const d of mode.deploys) {
    const l = fast(d.window.latency);
    const live = d.pushToLiveMs;
    lines.push(
      `| ${d.index} (${d.version}) | ${d.ok ? 'yes' : '**no**'} | ${d.window.requests} | ${d.window.failedByRoute[FAST_ROUTE] ?? 0} | ${d.window.failedByRoute[input.slowRoute] ?? 0} | ${formatKinds(d.window.failedByKind)} | ${millis(l.p50)} | ${millis(l.p99)} (${(l.p99 / steadyP99).toFixed(1)}×) | ${millis(l.max)} | ${millis(d.window.latency[input.slowRoute].max)} | ${seconds(live)} | ${live === undefined ? 'n/a' : signedSeconds(live - floor)} | ${seconds(d.pushMs)} | ${d.reloaded ? 'yes' : 'no'} | ${busyText(input.activity, d.span.from, d.span.to)} |`,
    );
  }
  if (mode.run.skipped) lines.push('', `${mode.run.skipped} deploy(s) not run: the run's time budget was used up.`);
  return lines.join('\n');
}

/** Where each deploy's failures fell, relative to the "Switching Apache" line; and stray events. */
export function failureDetails(mode: ModeAnalysis): string {
  const out: string[] = [];
  for (const d of mode.deploys) {
    if (d.failures.length === 0 && d.staleAfterLive === 0) continue;
    const shown = d.failures.slice(0, 25).map((f) => `${f.kind} on \`${f.route}\` sent ${relative(f.fromSwitchMs, 'S')}, failed ${relative(f.failedFromSwitchMs, 'S')}`);
    const more = d.failures.length > shown.length ? `, … (${d.failures.length - shown.length} more)` : '';
    if (d.failures.length) out.push(`- deploy ${d.index}: ${shown.join('; ')}${more}`);
    if (d.staleAfterLive) out.push(`- deploy ${d.index}: ${d.staleAfterLive} \`/\` answer(s) from the OLD version sent after the new one was first seen`);
  }
  const outsideFailed = totalFailed(mode.outside);
  if (outsideFailed) out.push(`- outside the deploy windows (between deploys, warm-up, floor measurement): ${formatKinds(mode.outside.failedByKind)}`);
  return out.length ? out.join('\n') : '- none';
}

/** Per deploy: when slipway's steps reported, and `/` p99 in each phase. */
export function timelines(mode: ModeAnalysis): string {
  return mode.deploys
    .map((d) => {
      const m = d.marks;
      const at = (x: number | undefined): string => (x === undefined ? '–' : `${(x / 1000).toFixed(2)}`);
      const p = d.phases;
      return `- deploy ${d.index}: building ${at(m.building)} → starting ${at(m.starting)} → healthy ${at(m.healthy)} → switching ${at(m.switching)} → new version seen ${at(d.pushToLiveMs)} → draining old ${at(m.draining)} → stopping old ${at(m.stopping)} → done ${at(m.done)} → push exit ${at(d.pushMs)} s; \`/\` p99 while building ${millis(p.build.p99)}, booting ${millis(p.boot.p99)}, from switch on ${millis(p.switchOn.p99)}; load generator lag p99 ${millis(d.clientLagP99)}`;
    })
    .join('\n');
}

/** The full results document (bench/results/latest.md). */
export function resultsDocument(input: ReportInput): string {
  const floor = input.floor;
  const parts = [
    '# Zero-downtime benchmark: latest results',
    '',
    'Written by `npx tsx bench/zero-downtime-bench.ts` (see docs/benchmark.md). Times are wall-clock on the machine below.',
    '',
    '## Machine',
    '',
    ...input.facts.map(([k, v]) => `- ${k}: ${v}`),
    '',
    resultsBody(input),
    '## Floor samples',
    '',
    ...floor.map((f, i) => `- ${i + 1}: build ${seconds(f.buildMs)} + boot to healthy ${seconds(f.bootMs)} = ${seconds(f.totalMs)}`),
    '',
  ];
  return parts.join('\n');
}

/** The part shared by the results file and docs/benchmark.md: summary, per-mode tables, details. */
export function resultsBody(input: ReportInput): string {
  const parts = [
    `## Summary (load through Apache: ${input.loadText})`,
    '',
    summaryTable(input),
    '',
    `Floor = \`docker build\` of the same change by hand, with the builder slipway used (see "builder" above) + \`docker run\` until \`/health\` is UP, median of ${input.floor.length}: ${seconds(floorMs(input.floor))}.`,
    '',
  ];
  for (const mode of input.modes) {
    parts.push(
      `## ${mode.run.config.title}`,
      '',
      modeTable(mode, input),
      '',
      '**Failed requests** (S = when slipway\'s "Switching Apache" line reached the pusher; "sent" is the request\'s scheduled start):',
      '',
      failureDetails(mode),
      '',
      '**Timelines** (seconds after push start, as the push output reported them):',
      '',
      timelines(mode),
      '',
      `Load generator lag (largest delay between a request's slot and its send): ${millis(mode.maxClientLagMs)}.`,
      '',
    );
  }
  return parts.join('\n');
}

/** Every push's output with arrival times (seconds after push start), for digging into a figure. */
export function pushTranscripts(modes: readonly ModeAnalysis[]): string {
  const out: string[] = [];
  for (const mode of modes) {
    for (const d of mode.deploys) {
      out.push(`=== ${mode.run.config.appName} deploy ${d.index} (${d.version}) ===`);
      for (const line of d.lines) out.push(`+${(line.atMs / 1000).toFixed(3).padStart(7)} s  ${line.text}`);
      out.push('');
    }
  }
  return out.join('\n');
}

/**
 * Replaces the text between `<!-- <marker>:start -->` and `<!-- <marker>:end -->` (default marker
 * `bench`) in `file` with `block`. Returns false (and changes nothing) when the file or a marker is missing.
 */
export async function replaceMarkedSection(file: string, block: string, marker = 'bench'): Promise<boolean> {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return false;
  }
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return false;
  await fs.writeFile(file, `${text.slice(0, i + start.length)}\n${block.trim()}\n${text.slice(j)}`);
  return true;
}

/** "yes" (bold: the figures may be skewed) or "no", for the other-work column. */
/** "2 × 15.0 s, before the first deploy and after the last". */
function steadyWindowsText(windows: { from: number; to: number }[]): string {
  const lengths = [...new Set(windows.map((w) => seconds(w.to - w.from)))];
  const where = windows.length === 2 ? ', before the first deploy and after the last' : '';
  return lengths.length === 1 ? `${windows.length} × ${lengths[0]}${where}` : windows.map((w) => seconds(w.to - w.from)).join(' + ') + where;
}

function busyText(activity: ActivityLog, from: number, to: number): string {
  return otherWorkDuring(activity, from, to) ? '**yes**' : 'no';
}

function signedSeconds(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

function relative(ms: number | undefined, what: string): string {
  if (ms === undefined) return `(no ${what} line)`;
  return `${what}${ms >= 0 ? '+' : '−'}${Math.round(Math.abs(ms))} ms`;
}
