import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/doctor/check';
import { exitCodeFor, formatReport } from '../../src/doctor/report';

const results: CheckResult[] = [
  { name: 'docker', status: 'ok', detail: 'Engine 20.10.24 (API 1.41)' },
  { name: 'apache modules', status: 'warn', detail: 'unknown: `x -M` is not supported', fix: 'check by hand' },
  { name: 'redis', status: 'fail', detail: 'REDIS_URL redis://***@h:6379 does not answer: ECONNREFUSED', fix: 'start that Redis' },
];

describe('doctor report', () => {
  it('prints one line per check with ✔/!/✘, the fix after →, and a summary', () => {
    expect(formatReport(results)).toBe(
      [
        '✔ docker          Engine 20.10.24 (API 1.41)',
        '! apache modules  unknown: `x -M` is not supported  → check by hand',
        '✘ redis           REDIS_URL redis://***@h:6379 does not answer: ECONNREFUSED  → start that Redis',
        '',
        '1 problem, 1 warning, 1 ok',
        '',
      ].join('\n'),
    );
  });

  it('says so when everything passed, and never shows a fix on an ok line', () => {
    const text = formatReport([{ name: 'git', status: 'ok', detail: 'git 2.39.5', fix: 'ignored' }]);
    expect(text).toBe('✔ git  git 2.39.5\n\nall 1 checks passed\n');
  });

  it('folds multi-line details so each check stays on one line', () => {
    const text = formatReport([{ name: 'apache config', status: 'fail', detail: 'configtest failed:\n  AH00526: Syntax error\n  line 3', fix: 'fix it\nthen retry' }]);
    expect(text.split('\n')[0]).toBe('✘ apache config  configtest failed: | AH00526: Syntax error | line 3  → fix it | then retry');
  });

  it('plural counts', () => {
    const fails: CheckResult[] = [
      { name: 'a', status: 'fail', detail: 'x' },
      { name: 'b', status: 'fail', detail: 'y' },
      { name: 'c', status: 'warn', detail: 'z' },
      { name: 'd', status: 'warn', detail: 'w' },
    ];
    expect(formatReport(fails).trimEnd().split('\n').at(-1)).toBe('2 problems, 2 warnings, 0 ok');
  });

  it('--json gives the same checks, counts and an overall ok flag', () => {
    const parsed = JSON.parse(formatReport(results, { json: true }));
    expect(parsed).toEqual({ ok: false, counts: { ok: 1, warn: 1, fail: 1 }, checks: results });
    expect(JSON.parse(formatReport(results.slice(0, 2), { json: true })).ok).toBe(true);
  });

  it('names the slipway version first when given (text and JSON)', () => {
    expect(formatReport(results.slice(0, 1), { version: '0.2.0-dev' })).toBe('slipway 0.2.0-dev\n\n✔ docker  Engine 20.10.24 (API 1.41)\n\nall 1 checks passed\n');
    expect(JSON.parse(formatReport(results, { json: true, version: '0.2.0-dev' }))).toMatchObject({ version: '0.2.0-dev', ok: false });
  });

  it('exit code 1 only when a check failed (warnings pass)', () => {
    expect(exitCodeFor(results)).toBe(1);
    expect(exitCodeFor(results.slice(0, 2))).toBe(0);
    expect(exitCodeFor([])).toBe(0);
  });
});
