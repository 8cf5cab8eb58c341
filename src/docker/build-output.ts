/** One JSON object of the Docker build stream (`/build` endpoint). */
export interface BuildEvent {
  /** `moby.buildkit.trace` (aux: base64 status) or `moby.image.id` on BuildKit builds. */
  id?: string;
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string } | string;
}

/** The human text of a build event (a build step's output), without trailing newlines. */
export function buildEventText(event: BuildEvent): string | undefined {
  const text = event.stream ?? event.status ?? event.error;
  if (text === undefined) return undefined;
  const trimmed = text.replace(/\s+$/, '');
  return trimmed === '' ? undefined : trimmed;
}

/**
 * The build's failure, if any. docker-modem's followProgress resolves without an error when a
 * build fails: the failure is an `{error, errorDetail}` entry in the output, so it must be looked for.
 */
export function buildFailure(events: BuildEvent[]): string | undefined {
  const failed = events.find((e) => e.error !== undefined || e.errorDetail !== undefined);
  if (!failed) return undefined;
  return (failed.errorDetail?.message ?? failed.error ?? 'unknown build error').trim();
}
