/** What a deploy job carries through Redis. Secrets never go here: env values are read by the worker. */
export interface DeployJobData {
  app: string;
  sha: string;
  ref: string;
  /** Who pushed (token name, or "git" for the single-token setup). */
  pushedBy: string;
  /** ISO time the push was received. */
  pushedAt: string;
}

/** What a finished deploy job returns: the one line the pusher sees last. */
export interface DeployJobResult {
  ok: boolean;
  summary: string;
}

/** BullMQ job ids may not contain ":"; this id says which app and commit and stays unique per push. */
export function deployJobId(app: string, sha: string, now: number): string {
  return `deploy-${app}-${sha.slice(0, 12)}-${now}`;
}
