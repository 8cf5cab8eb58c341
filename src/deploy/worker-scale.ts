import { LABEL, type ContainerInfo } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployContext } from './deploy-context';
import { required } from './step-helpers';
import type { DeployStep } from './step-runner';
import { isNextWorker, plannedWorkers, workerContainers, workerName, workerSpec, type PlannedWorker } from './worker-plan';
import { countByType, describe, stopAll, waitWorkerHealthy } from './worker-steps';

/*
 * Worker counts without replacing the workers that run: a `scale` job that changes only worker
 * counts, and reconcile restoring the counts after slipway was down, start the missing workers of
 * a type under their live names (`<app>-<type>-<n>`) and stop the surplus ones; every other worker
 * keeps running, and web is not touched.
 */

type Step = DeployStep<DeployContext>;

/** What converging takes: the workers to start (under their live names) and the containers to stop and remove. */
export interface WorkerChanges {
  start: PlannedWorker[];
  remove: ContainerInfo[];
}

/**
 * Converges the app's live workers (`-next` ones left out) on `planned` (pure). Per type, the
 * lowest-numbered existing workers are kept up to the planned count; the rest (and every worker of
 * a type the release no longer has) are surplus; the missing ones take the lowest free numbers.
 */
export function workerChanges(existing: ContainerInfo[], planned: PlannedWorker[]): WorkerChanges {
  const live = existing.filter((c) => !isNextWorker(c));
  const indexOf = (c: ContainerInfo) => Number(c.labels[LABEL.index]) || Number.MAX_SAFE_INTEGER;
  const wanted = new Map<string, PlannedWorker[]>();
  for (const worker of planned) wanted.set(worker.type, [...(wanted.get(worker.type) ?? []), worker]);
  const changes: WorkerChanges = { start: [], remove: live.filter((c) => !wanted.has(c.labels[LABEL.process] ?? '')) };
  for (const [type, workers] of wanted) {
    const ofType = live.filter((c) => c.labels[LABEL.process] === type).sort((a, b) => indexOf(a) - indexOf(b));
    const kept = ofType.slice(0, workers.length);
    changes.remove.push(...ofType.slice(workers.length));
    const used = new Set(kept.map(indexOf));
    let index = 1;
    for (let i = kept.length; i < workers.length; i++) {
      while (used.has(index)) index++;
      used.add(index);
      changes.start.push({ type, index, command: workers[0].command });
    }
  }
  return changes;
}

/**
 * Starts the missing workers of the live release (this job's commit) and waits until they are
 * healthy, then stops the surplus ones (SIGTERM, their type's stop_grace, SIGKILL) and removes them.
 * A re-run counts what the first run started. Undo removes the workers this run started.
 */
export const scaleWorkers: Step = {
  name: 'scale-workers',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const settings = required(ctx.state.appSettings, 'settings');
    const planned = plannedWorkers(required(ctx.state.procfile, 'procfile'), ctx.state.appConfig?.scale);
    const changes = workerChanges(workerContainers(await ctx.deps.docker.listSlipwayContainers(), app), planned);
    if (changes.start.length > 0) {
      ctx.say(`-----> Starting ${countByType(changes.start.map((w) => w.type))} more of ${shortSha(sha)}`);
      const specs = changes.start.map((worker) => ({
        worker,
        spec: { ...workerSpec(worker, { app, sha, deployId: ctx.deployId }, settings, ctx.state.appConfig), name: workerName(app, worker.type, worker.index) },
      }));
      for (const { spec } of specs) await ctx.deps.docker.removeContainer(spec.name);
      await Promise.all(specs.map(({ spec }) => ctx.deps.docker.runContainer(spec)));
      await Promise.all(specs.map(({ worker, spec }) => waitWorkerHealthy(ctx, spec.name, worker.type)));
    }
    if (changes.remove.length > 0) {
      ctx.say(`-----> Stopping ${describe(changes.remove)}`);
      await stopAll(
        ctx,
        changes.remove.filter((c) => c.running),
      );
      for (const container of changes.remove) await ctx.deps.docker.removeContainer(container.name);
    }
    if (changes.start.length === 0 && changes.remove.length === 0) ctx.say('-----> Worker counts already match the scale');
  },
  async undo(ctx) {
    const started = workerContainers(await ctx.deps.docker.listSlipwayContainers(), ctx.job.app).filter((c) => !isNextWorker(c) && c.labels[LABEL.deploy] === ctx.deployId);
    for (const container of started) await ctx.deps.docker.removeContainer(container.name);
  },
};
