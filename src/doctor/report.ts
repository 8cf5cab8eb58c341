import type { CheckResult } from './check';

const MARK: Record<CheckResult['status'], string> = { ok: '✔', warn: '!', fail: '✘' };

/**
 * The doctor's report: one line per check (`✔`, `!` or `✘`, the name, what was found and, for a
 * problem, `→` what to do), then a summary line; or, with `json`, the same as a JSON document.
 * With `version`, the report says first which slipway made it (an operator pasting it into a bug
 * report then never has to be asked).
 */
export function formatReport(results: CheckResult[], options: { json?: boolean; version?: string } = {}): string {
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) counts[r.status]++;
  if (options.json) {
    const version = options.version === undefined ? {} : { version: options.version };
    return `${JSON.stringify({ ...version, ok: counts.fail === 0, counts, checks: results }, null, 2)}\n`;
  }
  const heading = options.version === undefined ? '' : `slipway ${options.version}\n\n`;
  const width = Math.min(24, Math.max(0, ...results.map((r) => r.name.length)));
  const lines = results.map((r) => {
    const fix = r.status !== 'ok' && r.fix ? `  → ${oneLine(r.fix)}` : '';
    return `${MARK[r.status]} ${r.name.padEnd(width)}  ${oneLine(r.detail)}${fix}`;
  });
  const summary =
    counts.fail === 0 && counts.warn === 0 ? `all ${counts.ok} checks passed` : [plural(counts.fail, 'problem'), plural(counts.warn, 'warning'), `${counts.ok} ok`].filter(Boolean).join(', ');
  return `${heading}${lines.join('\n')}\n\n${summary}\n`;
}

/** 1 when any check failed (warnings do not fail the doctor), else 0. */
export function exitCodeFor(results: CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

function plural(n: number, word: string): string {
  return n === 0 ? '' : `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Multi-line details (Apache output, say) are folded so each check stays on one line. */
function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' | ');
}
