/**
 * Turns a mode's raw records (requests, push lines) into per-deploy figures: failures by kind
 * and route, latency against steady state, push→live time, and where each failure fell relative
 * to the moment slipway switched Apache.
 */
import type { DeployRecord, ModeRun } from './deploy-scenario';
import type { Sample } from './load-generator';
import { latencySummary, summarizeWindow, type LatencySummary, type WindowSummary } from './stats';
import { lineTime } from './timed-push';

/** The fast route whose latency the p99 target is about, and whose body carries the version. */
export const FAST_ROUTE = '/';

/** slipway's progress lines the analysis places events against (times relative to push start). */
const MARKERS = {
  building: /^-----> Building/,
  starting: /^-----> Starting .* on :\d+/,
  healthy: /^-----> Health OK/,
  switching: /^-----> Switching Apache/,
  draining: /^-----> Draining previous container/,
  stopping: /^-----> Stopping previous container/,
  done: /^[✔✘] /,
} as const;

/** Names of the markers. */
export type Marker = keyof typeof MARKERS;

/** One failed request of a deploy window. */
export interface FailureEvent {
  route: string;
  kind: string;
  /** Scheduled start relative to the "Switching Apache" line (ms; negative = before the switch). */
  fromSwitchMs: number | undefined;
  /** When it failed, relative to the same line. */
  failedFromSwitchMs: number | undefined;
  /** Scheduled start relative to push start (ms). */
  fromPushMs: number;
}

/** Figures for one deploy. */
export interface DeployAnalysis {
  index: number;
  version: string;
  ok: boolean;
  /** The deploy window: push start → git exit (clock.ts epoch ms). */
  span: { from: number; to: number };
  window: WindowSummary;
  /** push start → git exit. */
  pushMs: number;
  /** push start → first `/` response carrying the new version (undefined if never seen). */
  pushToLiveMs: number | undefined;
  /** When each progress line arrived, relative to push start. */
  marks: Partial<Record<Marker, number>>;
  /** `/` latency before the new container started, while it booted, and from the switch on. */
  phases: { build: LatencySummary; boot: LatencySummary; switchOn: LatencySummary };
  failures: FailureEvent[];
  /**
   * p99 of the load generator's own lag in the window (slot → real send, both routes). Latency is
   * measured from the slot, so this much of the latency is the client machine being busy, not
   * the server being slow (both run on the same cores).
   */
  clientLagP99: number;
  /** `/` answers with another version that were sent after the new one was first seen. */
  staleAfterLive: number;
  /** slipway reported a graceful reload of Apache. */
  reloaded: boolean;
  /** Every line git printed, with its time relative to push start (for the detail log). */
  lines: { atMs: number; text: string }[];
}

/** Figures for one mode. */
export interface ModeAnalysis {
  run: ModeRun;
  steady: WindowSummary;
  deploys: DeployAnalysis[];
  /** Requests sent while load ran but in no deploy window and in no steady window. */
  outside: WindowSummary;
  /** Largest delay between a request's slot and its real send (the load generator's own lag). */
  maxClientLagMs: number;
}

/** Analyses a finished mode; `routes` are the load's route paths. */
export function analyzeMode(run: ModeRun, routes: readonly string[]): ModeAnalysis {
  const inSteady = (s: Sample): boolean => run.steady.some((w) => s.scheduled >= w.from && s.scheduled <= w.to);
  const steady = summarizeWindow(run.samples.filter(inSteady), -Infinity, Infinity, routes);
  const deploys = run.deploys.map((d) => analyzeDeploy(d, run.samples, routes));
  const inSomeWindow = (s: Sample): boolean => inSteady(s) || run.deploys.some((d) => s.scheduled >= d.push.start && s.scheduled <= d.push.end);
  const outsideSamples = run.samples.filter((s) => !inSomeWindow(s));
  const outside = summarizeWindow(outsideSamples, -Infinity, Infinity, routes);
  const maxClientLagMs = run.samples.reduce((m, s) => Math.max(m, s.sent - s.scheduled), 0);
  return { run, steady, deploys, outside, maxClientLagMs };
}

function analyzeDeploy(deploy: DeployRecord, samples: readonly Sample[], routes: readonly string[]): DeployAnalysis {
  const { push } = deploy;
  const window = summarizeWindow(samples, push.start, push.end, routes);
  const marks: Partial<Record<Marker, number>> = {};
  for (const [name, pattern] of Object.entries(MARKERS) as [Marker, RegExp][]) {
    const at = lineTime(push, pattern);
    if (at !== undefined) marks[name] = at - push.start;
  }
  const expected = `version=${deploy.version}`;
  const fast = samples.filter((s) => s.route === FAST_ROUTE);
  const liveAt = fast.filter((s) => s.outcome === 'ok' && s.body === expected && s.end >= push.start).reduce((m, s) => Math.min(m, s.end), Infinity);
  const switchAt = marks.switching === undefined ? undefined : push.start + marks.switching;
  const failures = samples
    .filter((s) => s.outcome !== 'ok' && s.scheduled >= push.start && s.scheduled <= push.end)
    .sort((a, b) => a.scheduled - b.scheduled)
    .map((s) => ({
      route: s.route,
      kind: s.outcome,
      fromSwitchMs: switchAt === undefined ? undefined : s.scheduled - switchAt,
      failedFromSwitchMs: switchAt === undefined ? undefined : s.end - switchAt,
      fromPushMs: s.scheduled - push.start,
    }));
  const staleAfterLive = Number.isFinite(liveAt) ? fast.filter((s) => s.outcome === 'ok' && s.scheduled > liveAt && s.scheduled <= push.end && s.body !== expected).length : 0;
  return {
    index: deploy.index,
    version: deploy.version,
    ok: deploy.ok,
    span: { from: push.start, to: push.end },
    window,
    pushMs: push.end - push.start,
    pushToLiveMs: Number.isFinite(liveAt) ? liveAt - push.start : undefined,
    marks,
    phases: phaseLatencies(fast, push.start, push.end, marks),
    failures,
    clientLagP99: latencySummary(samples.filter((s) => s.scheduled >= push.start && s.scheduled <= push.end).map((s) => s.sent - s.scheduled)).p99,
    staleAfterLive,
    reloaded: push.lines.some((l) => /Apache reloaded/.test(l.text)),
    lines: push.lines.map((l) => ({ atMs: l.at - push.start, text: l.text })),
  };
}

/**
 * `/` latency in three phases of a deploy, to tell CPU contention from the image build apart from
 * trouble at the switch: push start → "Starting", "Starting" → "Switching", "Switching" → push end.
 */
function phaseLatencies(fast: readonly Sample[], start: number, end: number, marks: Partial<Record<Marker, number>>): DeployAnalysis['phases'] {
  const starting = start + (marks.starting ?? 0);
  const switching = start + (marks.switching ?? marks.starting ?? 0);
  const between = (from: number, to: number): LatencySummary => latencySummary(fast.filter((s) => s.scheduled >= from && s.scheduled < to).map((s) => s.latency));
  return { build: between(start, starting), boot: between(starting, switching), switchOn: between(switching, end + 1) };
}
