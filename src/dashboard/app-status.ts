import { parseAppSettings } from '../app-settings';
import { listWebContainers } from '../deploy/web-containers';
import { probeHealth } from '../deploy/health-check';
import { processStatus, type ProcessType } from '../apps/process-status';
import { parseProcfile, processTypes } from '../deploy/procfile';
import { readFileAtCommit } from '../git/bare-repo';
import type { DeployQueue } from '../queue/deploy-queue';
import type { ReleaseRecord } from '../releases/release-store';
import { repoPath } from '../settings';
import { appStateProblems } from '../state/state-files';
import { StateError } from '../state/state-format';
import type { DashboardDeps } from './dashboard-deps';

/** The dashboard's health check answers within this, or the app counts as unhealthy. */
export const HEALTH_TIMEOUT_MS = 1000;

/** A deploy that has not finished: running now, waiting for a worker, or queued behind the app's running deploy. */
export interface PendingDeploy {
  id: string;
  app: string;
  sha: string;
  state: 'active' | 'waiting' | 'delayed';
  kind: string;
  note?: string;
}

/** What the overview shows about one app. */
export interface AppStatus {
  app: string;
  live: ReleaseRecord | undefined;
  /** `restarted`: Docker restarted it since it started (it crashed at least once). */
  container: { state: 'running' | 'stopped' | 'none'; restarted: boolean; exitCode?: number; startedAt?: string };
  /** The app's web containers (replicas behind Apache): how many there are and how many run. */
  web: { running: number; total: number };
  health: { ok: boolean; reason: string } | undefined;
  pending: PendingDeploy[];
  /** Why slipway will not touch this app: a damaged state file, named with its problem. */
  stateProblem?: string;
  /** Per process type of the live release (web unless workers-only, then its workers): its scale and how many of its containers run. */
  processes: ProcessType[];
}

/** Deploys not yet finished, per app, newest first. */
export async function pendingDeploys(queue: DeployQueue): Promise<Map<string, PendingDeploy[]>> {
  const states = ['active', 'waiting', 'delayed'] as const;
  const lists = await Promise.all(states.map((state) => queue.getJobs([state]).then((jobs) => jobs.map((job) => ({ job, state })))));
  const seen = new Set<string>();
  const byApp = new Map<string, PendingDeploy[]>();
  for (const { job, state } of lists.flat()) {
    if (!job?.id || !job.data || seen.has(job.id)) continue;
    seen.add(job.id);
    const entry: PendingDeploy = { id: job.id, app: job.data.app, sha: job.data.sha, state, kind: job.data.kind, note: job.data.note };
    byApp.set(entry.app, [...(byApp.get(entry.app) ?? []), entry]);
  }
  for (const list of byApp.values()) list.sort((a, b) => enqueuedAt(b.id) - enqueuedAt(a.id));
  return byApp;
}

/** The enqueue time a deploy id carries (`deploy-<app>-<sha12>-<ms>`). */
export function enqueuedAt(deployId: string): number {
  return Number(deployId.split('-').at(-1)) || 0;
}

/**
 * Reads an app's live state: the live release, its container from Docker (state and uptime), and
 * one quick health request on its port (the healthcheck path of the live commit's slipway.json).
 */
export class AppStatusReader {
  private readonly healthPaths = new Map<string, string>();
  private readonly typesAt = new Map<string, string[]>();

  constructor(private readonly deps: DashboardDeps) {}

  async read(app: string, pending: PendingDeploy[]): Promise<AppStatus> {
    const [problem] = await appStateProblems(this.deps.home, app);
    // A damaged release history has no live release to show; the container is still worth showing.
    const live = await this.deps.releases.live(app).catch((err: unknown) => {
      if (err instanceof StateError) return undefined;
      throw err;
    });
    const web = (await listWebContainers(this.deps.docker, app).catch(() => undefined))?.live ?? [];
    // The first running replica speaks for the app (replica 1, `<app>`, unless it is down).
    const first = web.find((c) => c.running) ?? web[0];
    const info = first && (await this.deps.docker.inspectContainer(first.name).catch(() => undefined));
    const state: AppStatus['container']['state'] = !info ? 'none' : info.running ? 'running' : 'stopped';
    const container = { state, restarted: info?.restarted ?? false, exitCode: info && !info.running ? info.exitCode : undefined, startedAt: info?.running ? info.startedAt : undefined };
    let health: AppStatus['health'];
    if (live?.port !== undefined && state === 'running') {
      const path = await this.healthPath(app, live.sha);
      health = await probeHealth(live.port, path, HEALTH_TIMEOUT_MS);
    }
    const containers = await this.deps.docker.listSlipwayContainers().catch(() => []);
    const types = live ? await this.processTypes(app, live.sha) : [];
    const config = await this.deps.control.appConfigs.read(app).catch(() => undefined);
    const { types: processes } = processStatus(app, { containers, types, scale: config?.scale, releaseOfSha: () => undefined, now: Date.now() });
    return { app, live, container, web: { running: web.filter((c) => c.running).length, total: web.length }, health, pending, processes, ...(problem ? { stateProblem: problem.message } : {}) };
  }

  /** The process types at a commit (its Procfile; cached like the health path). */
  private async processTypes(app: string, sha: string): Promise<string[]> {
    const key = `${app}@${sha}`;
    const known = this.typesAt.get(key);
    if (known !== undefined) return known;
    let types = ['web'];
    try {
      types = processTypes(parseProcfile(await readFileAtCommit(repoPath(this.deps.home, app), sha, 'Procfile')));
    } catch {
      // An unreadable Procfile could not have deployed: show web, as without one.
    }
    if (this.typesAt.size > 1000) this.typesAt.clear();
    this.typesAt.set(key, types);
    return types;
  }

  /** The healthcheck path at a commit (cached: a commit's slipway.json never changes). */
  private async healthPath(app: string, sha: string): Promise<string> {
    const key = `${app}@${sha}`;
    const known = this.healthPaths.get(key);
    if (known !== undefined) return known;
    let path = '/';
    try {
      path = parseAppSettings(await readFileAtCommit(repoPath(this.deps.home, app), sha, 'slipway.json')).healthcheck.path;
    } catch {
      // An unreadable or invalid slipway.json could not have deployed; "/" is the default.
    }
    if (this.healthPaths.size > 1000) this.healthPaths.clear();
    this.healthPaths.set(key, path);
    return path;
  }
}
