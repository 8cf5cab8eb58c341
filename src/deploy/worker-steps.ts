import { processSettings } from '../app-settings';
import { LABEL, type ContainerInfo } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployContext } from './deploy-context';
import { required, sleep } from './step-helpers';
import type { DeployStep } from './step-runner';
import { healthcheckCommand, isNextWorker, nextWorkerName, plannedWorkers, promotedName, workerContainers, workerSpec, type PlannedWorker } from './worker-plan';

/*
 * The worker containers of a deploy (Procfile types other than release and web; see worker-plan.ts
 * for their names). Four steps around the web ones:
 *
 *   switch → workers → watch → watch-workers → retire → retire-workers → promote → promote-workers
 *
 * `workers` starts the new release's workers as `<app>-<type>-<n>-next`. Per type, `start-first`
 * (the default) leaves the old workers running until `retire-workers`, after the watch: both
 * versions run side by side for the watch window. `stop-first` stops the old workers (SIGTERM,
 * `stop_grace`, SIGKILL) before the new ones start, so they never overlap; the old containers are
 * stopped, not removed, until `retire-workers`. A new worker that exits, or fails its health, fails
 * the deploy: the runner undoes `workers` (the new workers are removed and any old worker a
 * stop-first type stopped is started again: the same container, the previous release's image and
 * env) and then the web switch. Every step looks at Docker, not at memory, so a re-run after a
 * crash (BullMQ redelivers) adopts or replaces what the first run left.
 */

type Step = DeployStep<DeployContext>;

/** Longest single run of a `processes.<type>.healthcheck` command. */
const HEALTH_EXEC_TIMEOUT_MS = 10_000;

/** Starts the new release's workers (after stopping the old ones of stop-first types) and waits until they are healthy. */
export const startWorkers: Step = {
  name: 'workers',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const settings = required(ctx.state.appSettings, 'settings');
    const planned = plannedWorkers(required(ctx.state.procfile, 'procfile'), ctx.state.appConfig?.scale);
    const existing = workerContainers(await ctx.deps.docker.listSlipwayContainers(), app);
    // A `-next` worker of another deploy (a dead one's leftovers) is replaced; one of this deploy is adopted below.
    for (const stale of existing.filter((c) => isNextWorker(c) && c.labels[LABEL.deploy] !== ctx.deployId)) await ctx.deps.docker.removeContainer(stale.name);
    const stopFirst = new Set(Object.keys(ctx.state.procfile?.workers ?? {}).filter((type) => processSettings(settings, type).strategy === 'stop-first'));
    const toStop = existing.filter((c) => !isNextWorker(c) && c.running && stopFirst.has(c.labels[LABEL.process] ?? ''));
    if (toStop.length > 0) {
      ctx.say(`-----> Stopping ${describe(toStop)} first (stop-first)`);
      await stopAll(ctx, toStop);
    }
    if (planned.length === 0) return;
    ctx.say(`-----> Starting ${countByType(planned.map((w) => w.type))} of ${shortSha(sha)}`);
    const started = Date.now();
    await Promise.all(planned.map((worker) => startOne(ctx, worker)));
    await Promise.all(planned.map((worker) => waitWorkerHealthy(ctx, nextWorkerName(app, worker.type, worker.index), worker.type)));
    ctx.state.workersStartedAt = Date.now();
    ctx.say(`       workers up after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
  async undo(ctx) {
    const workers = workerContainers(await ctx.deps.docker.listSlipwayContainers(), ctx.job.app);
    for (const next of workers.filter(isNextWorker)) await ctx.deps.docker.removeContainer(next.name);
    // Old workers that are not running were stopped by `run` (stop-first): the previous release's
    // containers start again. A start of a stopped app had none running before, so none come back.
    if (ctx.job.kind === 'start') return;
    const stopped = workers.filter((c) => !isNextWorker(c) && !c.running);
    for (const old of stopped) await ctx.deps.docker.startContainer(old.name);
    if (stopped.length > 0) ctx.say(`       started the previous release's ${describe(stopped)} again`);
  },
};

/**
 * Watches the new workers for the rest of the watch window (counted from their start): one that
 * exits (Docker restarting it counts) fails the deploy, and the runner brings the previous
 * release's workers and web back.
 */
export const watchWorkers: Step = {
  name: 'watch-workers',
  async run(ctx) {
    const settings = required(ctx.state.appSettings, 'settings');
    const startedAt = ctx.state.workersStartedAt;
    if (startedAt === undefined || settings.watchSeconds === 0) return;
    const names = workerContainers(await ctx.deps.docker.listSlipwayContainers(), ctx.job.app)
      .filter(isNextWorker)
      .map((c) => c.name);
    // At least one look: the web watch before this one may already have used up the window.
    do {
      for (const name of names) {
        const info = await ctx.deps.docker.inspectContainer(name);
        if (!info?.running || info.restarted) {
          const after = ((Date.now() - startedAt) / 1000).toFixed(1);
          throw new Error(`reverted: the new worker ${name} ${howItEnded(info)} within ${after} s of its start${await lastLogLine(ctx, name)}`);
        }
      }
      await sleep(250);
    } while (Date.now() - startedAt < settings.watchSeconds * 1000);
  },
};

/**
 * After the point of no return: the previous release's workers get SIGTERM, their type's
 * `stop_grace`, then SIGKILL, and are removed. A worker this deploy already promoted stays, unless
 * a `-next` worker is there to take its name: a host's `finish` run again (BullMQ hands the job
 * over after its agent died past `promote-workers`) must not retire the release it just promoted,
 * while a whole deploy run again after a crash started new `-next` ones for every slot.
 */
export const retireWorkers: Step = {
  name: 'retire-workers',
  async run(ctx) {
    const workers = workerContainers(await ctx.deps.docker.listSlipwayContainers(), ctx.job.app);
    const replaced = new Set(workers.filter(isNextWorker).map(promotedName));
    const old = workers.filter((c) => !isNextWorker(c) && (c.labels[LABEL.deploy] !== ctx.deployId || replaced.has(c.name)));
    if (old.length === 0) return;
    const running = old.filter((c) => c.running);
    if (running.length > 0) ctx.say(`-----> Stopping previous ${describe(running)}`);
    await stopAll(ctx, running);
    for (const container of old) await ctx.deps.docker.removeContainer(container.name);
  },
};

/** Renames the new workers `<app>-<type>-<n>-next` → `<app>-<type>-<n>`. */
export const promoteWorkers: Step = {
  name: 'promote-workers',
  async run(ctx) {
    for (const next of workerContainers(await ctx.deps.docker.listSlipwayContainers(), ctx.job.app).filter(isNextWorker)) {
      await ctx.deps.docker.removeContainer(promotedName(next));
      await ctx.deps.docker.renameContainer(next.name, promotedName(next));
    }
  },
};

/** Starts one new worker, adopting this deploy's own from an interrupted run when it still runs. */
async function startOne(ctx: DeployContext, worker: PlannedWorker): Promise<void> {
  const spec = workerSpec(worker, { app: ctx.job.app, sha: ctx.job.sha, deployId: ctx.deployId }, required(ctx.state.appSettings, 'settings'), ctx.state.appConfig);
  const leftover = await ctx.deps.docker.inspectContainer(spec.name);
  if (leftover?.running && !leftover.restarted && leftover.labels[LABEL.deploy] === ctx.deployId && leftover.labels[LABEL.sha] === ctx.job.sha) return;
  if (leftover) await ctx.deps.docker.removeContainer(spec.name);
  await ctx.deps.docker.runContainer(spec);
}

/**
 * A new worker is healthy when it runs, its `processes.<type>.healthcheck` command (if any) exits 0,
 * and the image's Dockerfile HEALTHCHECK (if any) says healthy; all within slipway.json's
 * `healthcheck.timeout`.
 */
export async function waitWorkerHealthy(ctx: DeployContext, name: string, type: string): Promise<void> {
  const settings = required(ctx.state.appSettings, 'settings');
  const timeoutMs = settings.healthcheck.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  const command = processSettings(settings, type).healthcheck;
  for (;;) {
    const info = await ctx.deps.docker.inspectContainer(name);
    if (!info?.running || info.restarted) throw new Error(`the new worker ${name} ${howItEnded(info)} before it was healthy${await lastLogLine(ctx, name)}`);
    if (command === undefined) break;
    if ((await ctx.deps.docker.exec(name, healthcheckCommand(command), Math.min(HEALTH_EXEC_TIMEOUT_MS, timeoutMs))) === 0) break;
    if (Date.now() >= deadline) throw new Error(`the new worker ${name} was not healthy after ${settings.healthcheck.timeoutSeconds} s (processes.${type}.healthcheck: ${command})`);
    await sleep(500);
  }
  await ctx.deps.docker.waitForDockerHealth(name, Math.max(1000, deadline - Date.now()));
}

/** SIGTERM to each, SIGKILL after its type's stop_grace; all at once, so the longest grace bounds the wait. */
export async function stopAll(ctx: DeployContext, containers: ContainerInfo[]): Promise<void> {
  const settings = required(ctx.state.appSettings, 'settings');
  const started = Date.now();
  await Promise.all(containers.map((c) => ctx.deps.docker.stopContainer(c.name, processSettings(settings, c.labels[LABEL.process] ?? '').stopGraceSeconds)));
  if (containers.length > 0) ctx.say(`       stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Docker shows a restarted container as running again with exit code 0: say it crashed instead. */
function howItEnded(info: ContainerInfo | undefined): string {
  if (info?.running && info.restarted) return 'exited (Docker restarted it)';
  return `exited with code ${info?.exitCode ?? '?'}`;
}

/** The worker's last log line, quoted, for a one-line reason the pusher reads. */
async function lastLogLine(ctx: DeployContext, name: string): Promise<string> {
  const last = (await ctx.deps.docker.logsTail(name, 5))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  return last ? ` (its last log line: ${JSON.stringify(last.slice(0, 200))})` : '';
}

/** "worker ×2, clock ×1" */
export function countByType(types: string[]): string {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, n]) => `${type} ×${n}`).join(', ');
}

/** "worker ×2 (shop-worker-1, shop-worker-2)" */
export function describe(containers: ContainerInfo[]): string {
  return `${countByType(containers.map((c) => c.labels[LABEL.process] ?? '?'))} (${containers.map((c) => c.name).join(', ')})`;
}
