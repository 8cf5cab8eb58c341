import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/releases/release-store';
import { alreadyLiveSummary } from '../../src/worker/duplicate-push';

const SHA = '025195a0000000000000000000000000000000aa';
const QUEUED = Date.parse('2026-12-04T01:00:00Z');

function live(over: Partial<ReleaseRecord>): ReleaseRecord {
  return {
    number: 5,
    app: 'shop',
    sha: SHA,
    ref: 'refs/heads/main',
    kind: 'push',
    deployId: 'recovered-job',
    pushedBy: 'slipway',
    startedAt: '2026-12-04T01:00:02Z',
    durationMs: 3000,
    result: 'live',
    ...over,
  };
}

describe('a push job whose commit another job made live after it was queued', () => {
  it('ends without deploying, naming the release that did it (reconcile re-queued the push beside its own job)', () => {
    expect(alreadyLiveSummary('shop', SHA, 'push-job', QUEUED, live({}))).toBe('✔ shop 025195a is already live: release 5 (recovered-job) deployed it after this push was queued');
  });

  it('still deploys when the live release started before the job was queued (the same commit pushed again redeploys it)', () => {
    expect(alreadyLiveSummary('shop', SHA, 'push-job', QUEUED, live({ startedAt: '2026-12-04T00:59:59Z' }))).toBeUndefined();
  });

  it('still deploys another commit, a first deploy, or its own release (BullMQ redelivery is handled by the release record)', () => {
    expect(alreadyLiveSummary('shop', SHA, 'push-job', QUEUED, live({ sha: 'ffffffff' }))).toBeUndefined();
    expect(alreadyLiveSummary('shop', SHA, 'push-job', QUEUED, undefined)).toBeUndefined();
    expect(alreadyLiveSummary('shop', SHA, 'recovered-job', QUEUED, live({}))).toBeUndefined();
  });
});
