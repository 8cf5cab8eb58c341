/**
 * Why a deploy runs: a push (of a branch or a release tag), a rollback to an earlier release, or
 * a config change (env) that redeploys the live image.
 */
export type DeployKind = 'push' | 'rollback' | 'config';

/** What a deploy job carries through Redis. Secrets never go here: env values are read by the worker. */
export interface DeployJobData {
  app: string;
  sha: string;
  /** The pushed ref (`refs/heads/main`, `refs/tags/v3`), or the ref of the release rolled back to. */
  ref: string;
  kind: DeployKind;
  /** Build even if the image exists (`git push -o rebuild`). */
  rebuild?: boolean;
  /** A few words for the release record ("rollback to release 4", "env: set 2 keys"). */
  note?: string;
  /** Who pushed (token name, or "git" for the single-token setup). */
  pushedBy: string;
  /** ISO time the push was received. */
  pushedAt: string;
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
