import { z } from 'zod';
import { strictFields } from '../parse-input';
import { decodeState, versionedObjectFormat } from '../state/state-format';

/**
 * What a deploy job carries through Redis. Secrets never go here: env values are read by the
 * worker. Jobs outlive a restart (and an upgrade) in Redis, so the data carries a format version:
 * format 1 (0.1.0) had none.
 */
const DEPLOY_JOB_SCHEMA = strictFields({
  version: z.literal(2),
  app: z.string().min(1),
  sha: z.string().min(1),
  /** The pushed ref (`refs/heads/main`, `refs/tags/v3`), or the ref of the release rolled back to. */
  ref: z.string().min(1),
  /**
   * Why a deploy runs: a push (of a branch or a release tag), a rollback to an earlier release, a
   * config change (env) that redeploys the live image, a restart (a fresh container of the live
   * image, same env), a start of a stopped app (its last live release), or a change of scale
   * (`slipway ps:scale`: the live image again, no build, at the new counts).
   */
  kind: z.enum(['push', 'rollback', 'config', 'restart', 'start', 'scale']),
  /** Build even if the image exists (`git push -o rebuild`). */
  rebuild: z.boolean().optional(),
  /** Skip the Procfile's release command (`git push -o skip-release`, `rollback --skip-release`). */
  skipRelease: z.boolean().optional(),
  /** A few words for the release record ("rollback to release 4", "env: set 2 keys"). */
  note: z.string().optional(),
  /**
   * Only these hosts of an app on several hosts: slipway bringing a host that missed the live
   * release (`rollout.skip_unreachable`) to it. Unset: every host of the app.
   */
  hosts: z.array(z.string().min(1)).min(1).optional(),
  /** Who pushed (token name, or "git" for the single-token setup). */
  pushedBy: z.string(),
  /** ISO time the push was received. */
  pushedAt: z.string(),
});

export const DEPLOY_JOB_FORMAT = versionedObjectFormat('deploy job data', DEPLOY_JOB_SCHEMA, 'deploy-job-v2');

export type DeployJobData = Omit<z.output<typeof DEPLOY_JOB_SCHEMA>, 'version'>;
export type DeployKind = DeployJobData['kind'];

/** A job's data as stored, in the current format. */
export function storedJobData(data: DeployJobData): z.output<typeof DEPLOY_JOB_SCHEMA> {
  return { ...data, version: 2 };
}

/** A job's data as a worker reads it, of any known format; throws a StateError (naming the job) for data it cannot use. */
export function readJobData(raw: unknown, jobId: string): DeployJobData {
  const { version: _version, ...data } = decodeState(DEPLOY_JOB_FORMAT, raw, `deploy job ${jobId}`);
  return data;
}

/** What a finished deploy job returns: the one line the pusher sees last. */
export interface DeployJobResult {
  ok: boolean;
  summary: string;
  /** A newer push of the same branch made this one pointless; nothing was done. */
  superseded?: boolean;
  /** Not ok, yet the new version is live: a step after the switch failed (retire, promote). */
  live?: boolean;
}

/** BullMQ job ids may not contain ":"; this id says which app and commit and stays unique per push. */
export function deployJobId(app: string, sha: string, now: number): string {
  return `deploy-${app}-${sha.slice(0, 12)}-${now}`;
}

/** The note reconcile gives a push it queues again from the repo's refs (its own job was lost). */
export const RECOVERED_PUSH_NOTE = 'recovered: its deploy was lost while slipway was down';

/** True for the job data of a push of `sha` to `app` that reconcile queued again (see {@link RECOVERED_PUSH_NOTE}). */
export function isRecoveredPushOf(data: Pick<DeployJobData, 'app' | 'sha' | 'kind' | 'note'>, app: string, sha: string): boolean {
  return data.app === app && data.sha === sha && data.kind === 'push' && data.note === RECOVERED_PUSH_NOTE;
}
