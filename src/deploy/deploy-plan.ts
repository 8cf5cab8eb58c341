import { LABEL, type ContainerInfo } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployKind } from '../queue/deploy-job';
import type { DeployContext } from './deploy-context';
import { hasWebProcess, type Procfile } from './procfile';
import { required } from './step-helpers';
import type { DeployStep } from './step-runner';
import { containerPort, listWebContainers, webReplicas } from './web-containers';

type Step = DeployStep<DeployContext>;

/**
 * What a deploy does with each side of the app, decided once (the `plan` step) from the Procfile,
 * the kind of job and what runs now. The steps that do not apply are skipped by `onlyWhen`, so the
 * deploy stays one list of named steps.
 */
export interface DeployPlan {
  /**
   * `deploy`: new web containers, health, Apache switch, drain and stop the old ones (every push).
   * `keep`: the web containers are left as they are (a `scale` job that changes worker counts only).
   * `none`: the release has no web process (a workers-only Procfile): no web container, no port,
   * no Apache route; any web container of an earlier release (stopped: see `planStep`) is retired
   * and the app's Apache site removed.
   */
  web: 'deploy' | 'keep' | 'none';
  /**
   * `replace`: every worker of the new release starts beside (or after) the old ones, which retire
   * (worker-steps.ts). `converge`: the live workers stay; only missing ones start and surplus ones
   * stop (a `scale` job; worker-scale.ts).
   */
  workers: 'replace' | 'converge';
}

/**
 * The plan of a deploy (pure). A `scale` job whose web count and web containers are already right
 * (all running, of this commit) keeps web as it is; any other job deploys web, unless the release
 * has no web process.
 */
export function planDeploy(input: { kind: DeployKind; procfile: Procfile; webScale: number; liveWeb: ContainerInfo[]; sha: string }): DeployPlan {
  const converge = input.kind === 'scale';
  if (!hasWebProcess(input.procfile)) return { web: 'none', workers: converge ? 'converge' : 'replace' };
  const webIsRight = input.liveWeb.length === input.webScale && input.liveWeb.every((c) => c.running && !c.restarted && c.labels[LABEL.sha] === input.sha);
  return converge && webIsRight ? { web: 'keep', workers: 'converge' } : { web: 'deploy', workers: 'replace' };
}

/**
 * Decides the plan (after the Procfile is read, before the build). A workers-only release is
 * refused while the app's web containers serve: dropping the `web:` line (or adding a Procfile of
 * workers to an app whose image CMD serves) must not take a live site offline by accident. Stopping
 * the app first (`slipway stop`) says it is meant: the stopped web containers are then retired with
 * the app's Apache site.
 */
export const planStep: Step = {
  name: 'plan',
  async run(ctx) {
    const { app, sha, kind } = ctx.job;
    const procfile = required(ctx.state.procfile, 'procfile');
    const { live } = await listWebContainers(ctx.deps.docker, app);
    const plan = planDeploy({ kind, procfile, webScale: webReplicas(ctx.state.appConfig), liveWeb: live, sha });
    if (plan.web === 'none') {
      if (live.some((c) => c.running)) {
        throw new Error(
          `the Procfile at ${shortSha(sha)} has no web process, but ${app} serves web traffic now: a deploy does not take a live site offline. ` +
            `Add a "web:" line to keep serving it, or run \`slipway stop ${app}\` first to retire its web containers and Apache site, then deploy again`,
        );
      }
      ctx.say(`-----> No web process in the Procfile: workers only (no web container, port or Apache route)`);
    }
    if (plan.web === 'keep') {
      ctx.state.ports = live.flatMap((c) => containerPort(c) ?? []);
      ctx.say(`-----> web unchanged (${live.length} container${live.length > 1 ? 's keep' : ' keeps'} serving); only worker counts change`);
    }
    ctx.state.plan = plan;
  },
};

/** `step` when the plan says so, else a step of the same name that does nothing (and undoes nothing). */
export function onlyWhen(applies: (plan: DeployPlan) => boolean, step: Step): Step {
  const { undo } = step;
  return {
    ...step,
    async run(ctx) {
      if (applies(required(ctx.state.plan, 'plan'))) await step.run(ctx);
    },
    undo:
      undo &&
      (async (ctx) => {
        if (ctx.state.plan && applies(ctx.state.plan)) await undo.call(step, ctx);
      }),
  };
}

/** Web steps of a deploy that starts new web containers. */
export const deploysWeb = (plan: DeployPlan): boolean => plan.web === 'deploy';
/** Retiring the previous web containers: after a web deploy, and for a workers-only release (its stopped leftovers). */
export const retiresWeb = (plan: DeployPlan): boolean => plan.web !== 'keep';
/** Worker steps that replace every worker. */
export const replacesWorkers = (plan: DeployPlan): boolean => plan.workers === 'replace';
/** The worker step that only starts missing workers and stops surplus ones. */
export const convergesWorkers = (plan: DeployPlan): boolean => plan.workers === 'converge';
