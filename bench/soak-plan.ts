/**
 * The soak's plan and arithmetic, apart from the code that runs it: which deploy gets which fault
 * (from a seeded generator, so a run can be repeated), which failed requests fall in an injected
 * app failure's window, and growth per deploy across restarts of slipway.
 */

/** What is done to a deploy. */
export type FaultKind =
  /** slipway SIGKILLed right after a deploy step (the test seam), then started again. */
  | 'kill-slipway'
  /** The private Redis stopped and started again (by pid) while the deploy runs. */
  | 'restart-redis'
  /** A version whose health check never passes: the deploy fails before the switch. */
  | 'health-fails'
  /** A version that passes its health check, then dies: the watch after the switch reverts it. */
  | 'app-dies-after-switch'
  /** A Dockerfile whose `RUN` exits 3. */
  | 'build-fails';

export const FAULT_KINDS: readonly FaultKind[] = ['kill-slipway', 'restart-redis', 'health-fails', 'app-dies-after-switch', 'build-fails'];

/** Faults whose version must not go live (the deploy must fail, the old version serving). */
export function versionIsBad(kind: FaultKind | undefined): boolean {
  return kind === 'health-fails' || kind === 'app-dies-after-switch' || kind === 'build-fails';
}

/** One planned deploy. */
export interface PlannedDeploy {
  /** 1-based. */
  index: number;
  /** Index into the soak's apps. */
  app: number;
  fault?: FaultKind;
  /** For `kill-slipway`: the step after which slipway is killed. */
  step?: string;
  /** For `restart-redis`: ms after the push starts. */
  delayMs?: number;
}

/** mulberry32: a small seeded generator, good enough to pick faults; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `deploys` deploys, round robin over `apps` apps (each app gets the same share), each with a
 * fault with probability `faultRate`, the kind drawn uniformly, a kill after one of `steps`, a
 * Redis restart 0-5 s into the push. No fault in the first round: every app is first deployed
 * again cleanly after the warm-up.
 */
export function planSoak(options: { deploys: number; apps: number; seed: number; faultRate: number; steps: readonly string[] }): PlannedDeploy[] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const plan: PlannedDeploy[] = [];
  for (let index = 1; index <= options.deploys; index += 1) {
    const deploy: PlannedDeploy = { index, app: (index - 1) % options.apps };
    if (index > options.apps && random() < options.faultRate) {
      deploy.fault = pick(FAULT_KINDS);
      if (deploy.fault === 'kill-slipway') deploy.step = pick(options.steps);
      if (deploy.fault === 'restart-redis') deploy.delayMs = Math.round(random() * 5_000);
    }
    plan.push(deploy);
  }
  return plan;
}

/** A span of time in which one app's requests may fail because of a fault injected into that app. */
export interface FailureWindow {
  host: string;
  from: number;
  to: number;
  /** The deploy it belongs to. */
  index: number;
}

/**
 * The injected app failure window of an `app-dies-after-switch` deploy: that app's requests
 * scheduled from the moment its push started until `graceMs` after the push returned (the
 * version dies after the switch; until the watch reverts the port map, Apache proxies to a dead
 * port). No other fault has a window: slipway and Redis are not on the request path, and a
 * version that fails its build or health check never gets traffic.
 */
export function failureWindow(index: number, host: string, pushStart: number, pushEnd: number, graceMs = 2_000): FailureWindow {
  return { index, host, from: pushStart, to: pushEnd + graceMs };
}

/** True when a request to `host` scheduled at `at` falls in one of `windows`. */
export function inFailureWindow(windows: readonly FailureWindow[], host: string, at: number): boolean {
  return windows.some((w) => w.host === host && at >= w.from && at <= w.to);
}

/** One figure after one deploy, tagged with the slipway process it was read from. */
export interface GrowthPoint {
  deploy: number;
  value: number;
  /** Which start of slipway (0, 1, …): a restart resets memory and fds. */
  life: number;
}

/**
 * Growth per deploy by least squares with one intercept per slipway life ("fixed effects"), so a
 * restart (which frees everything) is not read as a drop, and each life's first `warmup` points
 * (module loading, JIT, caches filling) are left out. NaN when no life has two points left.
 */
export function growthPerDeploy(points: readonly GrowthPoint[], warmup: number): number {
  const lives = new Map<number, GrowthPoint[]>();
  for (const p of points) lives.set(p.life, [...(lives.get(p.life) ?? []), p]);
  let sxy = 0;
  let sxx = 0;
  for (const life of lives.values()) {
    const kept = life.slice(warmup);
    if (kept.length < 2) continue;
    const mx = kept.reduce((a, p) => a + p.deploy, 0) / kept.length;
    const my = kept.reduce((a, p) => a + p.value, 0) / kept.length;
    for (const p of kept) {
      sxy += (p.deploy - mx) * (p.value - my);
      sxx += (p.deploy - mx) ** 2;
    }
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}
