import { LOCAL_HOST } from '../cluster/host-name';
import type { DeployContext } from './deploy-context';
import { HostUnreachableError, type HostPhase, type HostPhaseRequest, type HostPhaseResult } from './host-phase-request';
import { runHostPhase } from './host-phase';
import { required } from './step-helpers';
import type { DeployStep } from './step-runner';

type Step = DeployStep<DeployContext>;

/**
 * An app on several hosts (`slipway hosts:set`): one release across all of them, in two phases.
 * `prepare` on every host at once (image, release phase on the first host, pending containers,
 * health); only when every host is prepared does any host switch: `commit` host by host in batches
 * of `rollout.batch` (switch, new workers, watch, next). A prepare that fails anywhere aborts every
 * host (nothing switched anywhere); a commit that fails on one host reverts the hosts already
 * switched (their old web containers still run; their new workers go and the old ones run again).
 * Only when every host is committed do the old containers and workers drain and stop (`finish`). `local` (the server) runs its phases in-process, the others through their
 * agents (cluster/host-access.ts); each phase is the single-host deploy's own steps.
 */

/** A host's lines in the push: `[h2] -----> Starting …`; the server's own lines stay as they are. */
function hostSay(ctx: DeployContext, host: string): (line: string) => void {
  return host === LOCAL_HOST ? ctx.say : (line) => ctx.say(`       [${host}] ${line.replace(/^ +/, '')}`);
}

function hostResults(ctx: DeployContext): Record<string, HostPhaseResult & { committed?: boolean }> {
  ctx.state.hosts ??= {};
  return ctx.state.hosts;
}

/** Runs `phase` on `host`: in-process for the server, through the host's agent otherwise. */
async function runOn(ctx: DeployContext, host: string, phase: HostPhase, extra: Partial<HostPhaseRequest> = {}, keepQueued = false): Promise<HostPhaseResult> {
  const settings = required(ctx.state.appSettings, 'settings');
  const request: HostPhaseRequest = {
    phase,
    deployId: ctx.deployId,
    job: ctx.job,
    appSettings: settings,
    appConfig: required(ctx.state.appConfig, 'app config'),
    procfile: required(ctx.state.procfile, 'procfile'),
    apps: await ctx.deps.listApps(),
    ports: hostResults(ctx)[host]?.ports,
    snapshot: hostResults(ctx)[host]?.snapshot,
    ...extra,
  };
  if (host === LOCAL_HOST) return runHostPhase(request, ctx.deps, ctx.config, ctx.say);
  const hosts = required(ctx.deps.hosts, 'hosts access');
  return hosts.run(host, request, hostSay(ctx, host), { startWithinMs: settings.rollout.startTimeoutSeconds * 1000, keepQueued });
}

/** The hosts the release goes to: the plan's, less those left out because they did not answer. */
export function rolloutHosts(ctx: DeployContext): string[] {
  return required(ctx.state.plan, 'plan').hosts.filter((h) => !ctx.state.skippedHosts?.includes(h));
}

/** Runs `work` on every host of `hosts` at once; resolves with the hosts that failed and why, after all have ended. */
async function failuresOf(hosts: string[], work: (host: string) => Promise<void>): Promise<{ host: string; error: Error }[]> {
  const outcomes = await Promise.allSettled(hosts.map(work));
  return outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ host: hosts[i], error: o.reason as Error }] : []));
}

function failure(failed: { host: string; error: Error }[]): Error {
  return new Error(failed.map(({ host, error }) => `${host}: ${firstLine(error.message)}`).join('; '));
}

/** Runs `work` on every host of `hosts` at once; throws naming every host that failed, after all have ended. */
async function onEvery(hosts: string[], work: (host: string) => Promise<void>): Promise<void> {
  const failed = await failuresOf(hosts, work);
  if (failed.length > 0) throw failure(failed);
}

/** The server pushes the built image to its registry once; every other host pulls it in its prepare. */
export const publishImage: Step = {
  name: 'publish',
  async run(ctx) {
    const { app, sha } = ctx.job;
    const hosts = required(ctx.deps.hosts, 'hosts access');
    if (required(ctx.state.plan, 'plan').hosts.every((h) => h === LOCAL_HOST)) return;
    const published = await hosts.publish(app, sha);
    ctx.state.image = published.image;
    ctx.say(`-----> ${published.line}`);
  },
};

/** Every host at once: image, release (first host only, when it is not the server), pending containers, health. */
export const prepareHosts: Step = {
  name: 'prepare-hosts',
  async run(ctx) {
    const plan = required(ctx.state.plan, 'plan');
    ctx.say(`-----> Preparing ${plan.hosts.length} hosts: ${plan.hosts.join(', ')}`);
    const started = Date.now();
    const failed = await failuresOf(plan.hosts, async (host) => {
      const remote = host !== LOCAL_HOST;
      const result = await runOn(ctx, host, 'prepare', { release: remote && host === plan.hosts[0], image: remote ? ctx.state.image : undefined });
      hostResults(ctx)[host] = { ports: result.ports };
      if (!remote) ctx.state.ports = result.ports;
    });
    // With rollout.skip_unreachable, hosts that did not answer are left out (they get the release
    // when they are back: worker/host-convergence.ts); any other failure, or no host left, fails it.
    const skip = required(ctx.state.appSettings, 'settings').rollout.skipUnreachable;
    const unreachable = failed.filter((f) => f.error instanceof HostUnreachableError);
    if (failed.length > 0 && !(skip && unreachable.length === failed.length && failed.length < plan.hosts.length)) throw failure(failed);
    if (failed.length > 0) {
      ctx.state.skippedHosts = failed.map((f) => f.host);
      for (const { host, error } of failed) ctx.say(`       ${host} left out (rollout.skip_unreachable): ${firstLine(error.message)}; it gets this release when its agent is back`);
      // Whatever its prepare had started there goes when it is back.
      await failuresOf(ctx.state.skippedHosts, (host) => runOn(ctx, host, 'abort', {}, true).then(() => undefined));
    }
    ctx.say(`-----> ${failed.length > 0 ? `${rolloutHosts(ctx).length} of ${plan.hosts.length} hosts` : 'Every host'} prepared and healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
  async undo(ctx) {
    const hosts = rolloutHosts(ctx);
    ctx.say(`-----> Removing the new containers on ${hosts.join(', ')}`);
    await onEvery(hosts, async (host) => {
      await runOn(ctx, host, 'abort', {}, true);
    });
  },
};

/**
 * Host by host, `rollout.batch` at a time: switch, new workers, watch. A host whose watch fails
 * switches itself back (and brings its old workers back); the undo does so on every host already committed.
 */
export const commitHosts: Step = {
  name: 'commit-hosts',
  async run(ctx) {
    const targets = rolloutHosts(ctx);
    const batch = required(ctx.state.appSettings, 'settings').rollout.batch;
    for (let i = 0; i < targets.length; i += batch) {
      const hosts = targets.slice(i, i + batch);
      ctx.say(`-----> Switching ${hosts.join(', ')}`);
      await onEvery(hosts, async (host) => {
        hostResults(ctx)[host].committed = false;
        const result = await runOn(ctx, host, 'commit', { probe: host !== LOCAL_HOST });
        addProbe(ctx, host, result);
        Object.assign(hostResults(ctx)[host], { snapshot: result.snapshot, switchedAt: result.switchedAt, committed: true });
      });
    }
    // Live = every host switched.
    ctx.state.switchedAt = Math.max(...targets.map((h) => hostResults(ctx)[h]?.switchedAt ?? 0));
  },
  async undo(ctx) {
    // Every host whose commit began: the committed ones, and any whose commit failed or did not
    // report back (its agent may have switched before it died). Reverting a host that did not switch changes nothing.
    const hosts = rolloutHosts(ctx).filter((h) => hostResults(ctx)[h]?.committed !== undefined);
    ctx.say(`-----> Switching back ${hosts.join(', ')}`);
    await onEvery(hosts, async (host) => {
      await runOn(ctx, host, 'revert', {}, true);
    });
  },
};

/** Every host committed: drain and stop the old web containers and workers everywhere, rename the new ones. */
export const finishHosts: Step = {
  name: 'finish-hosts',
  pointOfNoReturn: true,
  async run(ctx) {
    // This release counts as the newest, as it does for the server's own retention once it is recorded.
    const liveShas = [ctx.job.sha, ...(await ctx.liveShas())];
    await onEvery(rolloutHosts(ctx), async (host) => {
      // The server's own images are kept by the release bookkeeping after the deploy (run-deploy.ts).
      addProbe(ctx, host, await runOn(ctx, host, 'finish', host === LOCAL_HOST ? {} : { liveShas, probe: true }));
    });
  },
};

/** Adds what a host's probe saw in a phase to its total for the deploy. */
function addProbe(ctx: DeployContext, host: string, result: HostPhaseResult): void {
  if (!result.probe) return;
  const seen = hostResults(ctx)[host];
  const total = seen.probe ?? { requests: 0, failed: 0, longestGapMs: 0 };
  seen.probe = { requests: total.requests + result.probe.requests, failed: total.failed + result.probe.failed, longestGapMs: Math.max(total.longestGapMs, result.probe.longestGapMs) };
}

/** `probe h2: 120 requests, 0 failed; h3: …`: what the other hosts' probes saw from their switch to their old containers' stop. */
export function hostsProbeLine(ctx: DeployContext): string | undefined {
  const seen = Object.entries(ctx.state.hosts ?? {}).flatMap(([host, r]) => (r.probe ? [`${host}: ${r.probe.requests} requests, ${r.probe.failed} failed`] : []));
  return seen.length > 0 ? `probe ${seen.join('; ')}` : undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
