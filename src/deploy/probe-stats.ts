/** One probe request as seen by a user of the site. */
export interface ProbeSample {
  startedAt: number;
  endedAt: number;
  ok: boolean;
}

/** What the probe saw during a deploy. */
export interface ProbeReport {
  requests: number;
  failed: number;
  /** The longest time a user would have waited for a good answer (ms): see {@link longestGap}. */
  longestGapMs: number;
}

/**
 * The longest a user would have waited for a good answer: for a successful request, its own
 * latency; for a run of failures, from the first failed request's start to the end of the next
 * success (or of the last sample, if none followed).
 */
export function longestGap(samples: ProbeSample[]): number {
  const sorted = [...samples].sort((a, b) => a.startedAt - b.startedAt);
  let longest = 0;
  let failingSince: number | undefined;
  for (const s of sorted) {
    if (!s.ok) {
      failingSince ??= s.startedAt;
      continue;
    }
    longest = Math.max(longest, s.endedAt - (failingSince ?? s.startedAt));
    failingSince = undefined;
  }
  if (failingSince !== undefined) longest = Math.max(longest, (sorted.at(-1)?.endedAt ?? failingSince) - failingSince);
  return Math.round(longest);
}

export function summarizeProbe(samples: ProbeSample[]): ProbeReport {
  return { requests: samples.length, failed: samples.filter((s) => !s.ok).length, longestGapMs: longestGap(samples) };
}

export function probeLine(report: ProbeReport): string {
  return `probe: ${report.requests} requests, ${report.failed} failed, longest gap ${report.longestGapMs} ms`;
}
