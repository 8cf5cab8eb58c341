import { LABEL, type ContainerInfo } from '../docker/docker-engine';
import { shortSha } from '../names';
import type { DeployKind } from '../queue/deploy-job';
import type { DeployContext } from './deploy-context';
import { hasWebProcess, processTypes, type Procfile } from './procfile';
import { LOCAL_HOST } from '../cluster/host-name';
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
  /**
   * The hosts the release goes to (`slipway hosts:set`), `local` being the server itself; `['local']`
   * for an app on one host, which deploys as it always has. On several hosts the web steps run as
   * phases on every host (rollout-steps.ts).
   */
  hosts: string[];
}

/**
 * The plan of a deploy (pure). A `scale` job whose web count and web containers are already right
 * (all running, of this commit) keeps web as it is; any other job deploys web, unless the release
 * has no web process.
 */
export function planDeploy(input: { kind: DeployKind; procfile: Procfile; webScale: number; liveWeb: ContainerInfo[]; sha: string }): Omit<DeployPlan, 'hosts'> {
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
    const appHosts = ctx.state.appConfig?.hosts ?? [LOCAL_HOST];
    // A job for some hosts only (bringing a host that missed a release to it): those still listed.
    const hosts = ctx.job.hosts ? appHosts.filter((h) => ctx.job.hosts?.includes(h)) : appHosts;
    if (hosts.length === 0) throw new Error(`${app} no longer runs on ${ctx.job.hosts?.join(', ')} (\`slipway hosts:set\`): nothing to deploy there`);
    if (onSeveralHosts(hosts)) {
      // Every job is a whole rollout, a `scale` of worker counts too: the hosts' phases replace web and workers together.
      ctx.state.plan = { web: 'deploy', workers: 'replace', hosts };
      ctx.say(`-----> Hosts: ${hosts.join(', ')} (every host prepared and healthy before any switches)`);
      return multiHostProblem(ctx, hosts);
    }
    const plan = { ...planDeploy({ kind, procfile, webScale: webReplicas(ctx.state.appConfig), liveWeb: live, sha }), hosts };
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

/** True unless the app runs on the server alone. */
export function onSeveralHosts(hosts: string[]): boolean {
  return hosts.length !== 1 || hosts[0] !== LOCAL_HOST;
}

/**
 * What an app on several hosts cannot do yet, checked before the build: the server must have its
 * hosts set up, the release must have a web process, and `tls: auto` stays single-host for now.
 * Worker types go to every host, `scale.<type>` of each per host, like web replicas (host-phase.ts).
 * A workers-only release is refused: every host's phases are built around its web containers
 * (prepare starts and checks them, commit switches to them), so it would need phases of its own.
 */
function multiHostProblem(ctx: DeployContext, hosts: string[]): void {
  const { app } = ctx.job;
  const procfile = required(ctx.state.procfile, 'procfile');
  const fix = `or \`slipway hosts:set ${app} local\` to deploy it on this server alone`;
  if (!ctx.deps.hosts) throw new Error(`${app} runs on ${hosts.join(', ')}, but this server has no hosts set up (SLIPWAY_CLUSTER_ADDRESS and \`slipway hosts:add\`, see docs/hosts.md), ${fix}`);
  if (!hasWebProcess(procfile))
    throw new Error(`an app on several hosts needs a web process, for now; the Procfile at ${shortSha(ctx.job.sha)} has ${processTypes(procfile).join(', ')} only: add a "web:" line, ${fix}`);
  if (ctx.state.tlsNames)
    throw new Error(`"tls": "auto" is not available for an app on several hosts yet (each host's mod_md would need its own certificate); terminate TLS in front of the hosts, ${fix}`);
}

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

/** Web steps of a deploy that starts new web containers on this server alone. */
export const deploysWeb = (plan: DeployPlan): boolean => plan.web === 'deploy' && !onSeveralHosts(plan.hosts);
/** The phases of a deploy of web to several hosts (rollout-steps.ts). */
export const deploysToHosts = (plan: DeployPlan): boolean => plan.web === 'deploy' && onSeveralHosts(plan.hosts);
/** The release command runs on the server: always, except when the app's first host is another one (its prepare runs it). */
export const releasesHere = (plan: DeployPlan): boolean => plan.hosts[0] === LOCAL_HOST;
/** Retiring the previous web containers: after a web deploy, and for a workers-only release (its stopped leftovers). */
export const retiresWeb = (plan: DeployPlan): boolean => plan.web !== 'keep' && !onSeveralHosts(plan.hosts);
/**
 * Worker steps that replace every worker on this server alone. On several hosts each host's commit
 * and finish phases replace that host's workers (host-phase.ts), `local`'s included: the server's
 * own steps must not do it a second time.
 */
export const replacesWorkersHere = (plan: DeployPlan): boolean => plan.workers === 'replace' && !onSeveralHosts(plan.hosts);
/** The worker step that only starts missing workers and stops surplus ones. */
export const convergesWorkers = (plan: DeployPlan): boolean => plan.workers === 'converge';
