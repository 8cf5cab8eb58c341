import type { ReleaseRecord } from '../releases/release-store';
import { shortSha } from '../names';

/**
 * The summary for a push job whose commit another job already made live after this one was queued,
 * or undefined when the job still has work to do. It happens when slipway restarts while a push
 * arrives: reconcile finds the branch tip without a release record and queues it again beside the
 * push's own job. Deploying the same commit twice would replace healthy containers for nothing, so
 * the later of the two ends here. A push of a commit that went live before it was queued (a branch
 * pushed again after a rollback) still deploys.
 */
export function alreadyLiveSummary(app: string, sha: string, jobId: string, queuedAt: number, live: ReleaseRecord | undefined): string | undefined {
  if (live === undefined || live.sha !== sha || live.deployId === jobId) return undefined;
  if (!(Date.parse(live.startedAt) >= queuedAt)) return undefined;
  return `✔ ${app} ${shortSha(sha)} is already live: release ${live.number} (${live.deployId}) deployed it after this push was queued`;
}
