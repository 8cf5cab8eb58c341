import type { ContainerInfo } from '../docker/docker-engine';
import { LABEL } from '../docker/docker-engine';

/** One container of an app, as `slipway ps` shows it. */
export interface ProcessContainer {
  name: string;
  type: string;
  state: string;
  /** Seconds since it started; undefined when it is not running. */
  uptimeSeconds?: number;
  sha: string;
  /** The release number whose commit it runs, when one is recorded. */
  release?: number;
}

/** One process type of an app: how many containers it should run and how many do. */
export interface ProcessType {
  type: string;
  scale: number;
  running: number;
}

/** What `slipway ps <app> --json` prints. */
export interface ProcessStatus {
  app: string;
  types: ProcessType[];
  containers: ProcessContainer[];
}

/**
 * The process status of `app`: `types` are the live release's process types (`processTypes` of its
 * Procfile: web unless it is a workers-only app, then its worker types) with their scale (a type the
 * scale does not name runs one), `containers` its long-running containers
 * (one-off ones left out), web first. A container without a process label is a web container.
 */
export function processStatus(
  app: string,
  input: { containers: ContainerInfo[]; types: string[]; scale: Record<string, number> | undefined; releaseOfSha: (sha: string) => number | undefined; now: number },
): ProcessStatus {
  const containers = input.containers
    .filter((c) => c.labels[LABEL.app] === app && c.labels[LABEL.oneOff] === undefined)
    .map((c): ProcessContainer => {
      const sha = c.labels[LABEL.sha] ?? '';
      const started = c.startedAt === undefined ? NaN : Date.parse(c.startedAt);
      return {
        name: c.name,
        type: c.labels[LABEL.process] ?? 'web',
        state: c.restarted ? 'restarting' : c.running ? 'running' : `exited (${c.exitCode})`,
        uptimeSeconds: c.running && Number.isFinite(started) ? Math.max(0, Math.round((input.now - started) / 1000)) : undefined,
        sha,
        release: input.releaseOfSha(sha),
      };
    })
    .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name, 'en', { numeric: true }) : a.type === 'web' ? -1 : b.type === 'web' ? 1 : a.type.localeCompare(b.type)));
  const types = input.types.map((type) => ({
    type,
    scale: input.scale?.[type] ?? 1,
    running: containers.filter((c) => c.type === type && c.state === 'running').length,
  }));
  return { app, types, containers };
}

/**
 * Whether any long-running container of `app` runs (a web container, or a worker: a workers-only
 * app has no web one). One-off containers (release, `slipway run`) do not count.
 */
export function appIsRunning(containers: ContainerInfo[], app: string): boolean {
  return containers.some((c) => c.labels[LABEL.app] === app && c.labels[LABEL.oneOff] === undefined && c.running);
}

/** "web 3/3, worker 2/2": per type, the containers running against its scale (status, dashboard, deploy summaries). */
export function formatTypeCounts(types: ProcessType[]): string {
  return types.map((t) => `${t.type} ${t.running}/${t.scale}`).join(', ');
}

/** `slipway ps` as text: one line per type, then one per container. */
export function formatProcessStatus(status: ProcessStatus, table: (headers: string[], rows: string[][]) => string): string {
  const types = status.types.map((t) => `${t.type}=${t.scale} (${t.running} running)`).join('  ');
  if (status.containers.length === 0) return `${status.app}: ${types}\nno containers`;
  const rows = status.containers.map((c) => [
    c.type,
    c.name,
    c.state,
    c.uptimeSeconds === undefined ? '-' : formatUptime(c.uptimeSeconds),
    c.release === undefined ? '-' : `v${c.release}`,
    c.sha.slice(0, 7) || '-',
  ]);
  return `${status.app}: ${types}\n${table(['type', 'container', 'state', 'uptime', 'release', 'sha'], rows)}`;
}

/** 42s, 5m12s, 3h04m, 2d05h. */
export function formatUptime(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}
