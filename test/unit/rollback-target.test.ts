import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/releases/release-store';
import { rollbackTarget } from '../../src/releases/rollback-target';

function release(number: number, sha: string, result: ReleaseRecord['result'], reason?: string): ReleaseRecord {
  return {
    number,
    app: 'shop',
    sha: sha.repeat(40),
    ref: 'refs/heads/main',
    kind: 'push',
    deployId: `d${number}`,
    pushedBy: 'ana',
    startedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 1000,
    result,
    reason,
  };
}

describe('rollbackTarget', () => {
  it('goes to the newest successful release with another commit than the live one', () => {
    const releases = [release(1, 'a', 'live'), release(2, 'b', 'live'), release(3, 'c', 'failed', 'health check failed'), release(4, 'b', 'live')];
    expect(rollbackTarget(releases, undefined).number).toBe(1);
  });

  it('goes to the release asked for when it succeeded', () => {
    const releases = [release(1, 'a', 'live'), release(2, 'b', 'live'), release(3, 'c', 'live')];
    expect(rollbackTarget(releases, 2).number).toBe(2);
  });

  it('refuses a failed or missing release, in plain words', () => {
    const releases = [release(1, 'a', 'live'), release(2, 'b', 'failed', 'build failed'), release(3, 'c', 'live')];
    expect(() => rollbackTarget(releases, 2)).toThrow('release 2 failed (build failed); pick a successful one');
    expect(() => rollbackTarget(releases, 9)).toThrow('there is no release 9');
  });

  it('refuses when there is nothing to roll back from or to', () => {
    expect(() => rollbackTarget([], undefined)).toThrow('this app has no successful release to roll back from');
    expect(() => rollbackTarget([release(1, 'a', 'live'), release(2, 'a', 'live')], undefined)).toThrow('there is no earlier successful release with another commit');
  });
});
