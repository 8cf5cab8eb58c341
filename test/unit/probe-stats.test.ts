import { describe, expect, it } from 'vitest';
import { longestGap, probeLine, summarizeProbe } from '../../src/deploy/probe-stats';

describe('probe figures', () => {
  it('the longest gap is the slowest answer when nothing fails', () => {
    expect(
      longestGap([
        { startedAt: 0, endedAt: 5, ok: true },
        { startedAt: 50, endedAt: 64, ok: true },
      ]),
    ).toBe(14);
  });
  it('a run of failures counts from the first failure to the next good answer', () => {
    const samples = [
      { startedAt: 0, endedAt: 5, ok: true },
      { startedAt: 50, endedAt: 51, ok: false },
      { startedAt: 100, endedAt: 101, ok: false },
      { startedAt: 150, endedAt: 158, ok: true },
    ];
    expect(longestGap(samples)).toBe(108);
    expect(probeLine(summarizeProbe(samples))).toBe('probe: 4 requests, 2 failed, longest gap 108 ms');
  });
  it('failures at the end count up to the last sample', () => {
    expect(
      longestGap([
        { startedAt: 0, endedAt: 3, ok: true },
        { startedAt: 50, endedAt: 60, ok: false },
        { startedAt: 100, endedAt: 130, ok: false },
      ]),
    ).toBe(80);
  });
});
