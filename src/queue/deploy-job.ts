/**
 * Why a deploy runs: a push (of a branch or a release tag), a rollback to an earlier release, a
 * config change (env) that redeploys the live image, a restart (a fresh container of the live
 * image, same env), or a start of a stopped app (its last live release).
 */
export type DeployKind = 'push' | 'rollback' | 'config' | 'restart' | 'start';

/** What a deploy job carries through Redis. Secrets never go here: env values are read by the worker. */
export interface DeployJobData {
  app: string;
  sha: string;
  /** The pushed ref (`refs/heads/main`, `refs/tags/v3`), or the ref of the release rolled back to. */
  ref: string;
  kind: DeployKind;
  /** Build even if the image exists (`git push -o rebuild`). */
  rebuild?: boolean;
  /** Skip the Procfile's release command (`git push -o skip-release`, `rollback --skip-release`). */
  skipRelease?: boolean;
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
}

/** BullMQ job ids may not contain ":"; this id says which app and commit and stays unique per push. */
export function deployJobId(app: string, sha: string, now: number): string {
  return `deploy-${app}-${sha.slice(0, 12)}-${now}`;
}
