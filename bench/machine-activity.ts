/**
 * Watches for other work on the machine while the benchmark runs: on 2 cores, a test suite or
 * another slipway building images at the same time moves every figure, so the report must say
 * whether, and during which deploys, that happened.
 */
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { now } from './clock';

/** One look at the machine. */
export interface ActivitySample {
  /** When (clock.ts epoch ms). */
  at: number;
  /** 1-minute load average. */
  load1: number;
  /** Processes that look like other test runs or slipway servers (vitest, dist/cli.js). */
  foreignProcesses: number;
  /** Running containers that are not this run's. */
  foreignContainers: number;
}

/** What was seen over the run. */
export interface ActivityLog {
  samples: ActivitySample[];
  intervalMs: number;
}

/** A running monitor. */
export interface ActivityMonitor {
  /** Stops sampling; returns every sample taken. */
  stop(): ActivityLog;
}

/** Processes whose command line contains one of these are someone else's tests or slipway. */
const FOREIGN_MARKERS = ['vitest', 'dist/cli.js'];

/** The local Docker Engine (the benchmark drives the engine on this machine). */
const DOCKER_SOCKET = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';

/**
 * Samples every `intervalMs`: the load average, foreign processes (not `ownPids()`, not this
 * process) and containers whose names do not start with one of `ownNamePrefixes`.
 */
export function startActivityMonitor(ownPids: () => number[], ownNamePrefixes: string[], intervalMs = 2_000): ActivityMonitor {
  const samples: ActivitySample[] = [];
  let busy = false;
  const sample = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const [foreignProcs, containers] = await Promise.all([foreignProcesses([process.pid, ...ownPids()]), foreignContainers(ownNamePrefixes)]);
      samples.push({ at: now(), load1: os.loadavg()[0], foreignProcesses: foreignProcs, foreignContainers: containers });
    } finally {
      busy = false;
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { samples: [...samples], intervalMs };
    },
  };
}

/**
 * True when other work was seen in `[from, to]` (widened by one sampling interval on each side,
 * since work between two samples is only seen by the next one).
 */
export function otherWorkDuring(log: ActivityLog, from: number, to: number): boolean {
  return log.samples.some((s) => s.at >= from - log.intervalMs && s.at <= to + log.intervalMs && s.foreignProcesses + s.foreignContainers > 0);
}

/** One line for the machine facts: peak load and the most foreign work seen at once. */
export function describeActivity(log: ActivityLog): string {
  const max = (f: (s: ActivitySample) => number): number => log.samples.reduce((m, s) => Math.max(m, f(s)), 0);
  const processes = max((s) => s.foreignProcesses);
  const containers = max((s) => s.foreignContainers);
  const busy = log.samples.filter((s) => s.foreignProcesses + s.foreignContainers > 0).length;
  const verdict = busy ? ` — in ${busy} of ${log.samples.length} samples; figures taken then are skewed by that work (the tables flag them)` : ' — none';
  return `highest load average ${max((s) => s.load1).toFixed(2)}; at most ${processes} other vitest/slipway process(es) and ${containers} other container(s) at once (sampled every ${log.intervalMs / 1000} s)${verdict}`;
}

async function foreignProcesses(own: number[]): Promise<number> {
  let count = 0;
  for (const entry of await fs.readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || own.includes(pid)) continue;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (FOREIGN_MARKERS.some((m) => cmdline.includes(m))) count += 1;
  }
  return count;
}

/**
 * Asks the Engine API over its socket rather than running `docker ps`: a CLI process every 2 s
 * would itself be the kind of other work this looks for.
 */
async function foreignContainers(ownPrefixes: string[]): Promise<number> {
  const list = await new Promise<{ Names?: string[] }[]>((resolve) => {
    const req = http.get({ socketPath: DOCKER_SOCKET, path: '/containers/json', timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { Names?: string[] }[]);
        } catch {
          resolve([]);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve([]));
  });
  const names = list.map((c) => (c.Names?.[0] ?? '').replace(/^\//, ''));
  return names.filter((n) => !ownPrefixes.some((p) => n.startsWith(p))).length;
}
