import { describe, expect, it } from 'vitest';
import { isRecoveredPushOf, RECOVERED_PUSH_NOTE } from '../../src/queue/deploy-job';

const sha = 'a'.repeat(40);

describe('a push that reconcile queued again', () => {
  it('matches the same app and commit, queued by reconcile', () => {
    expect(isRecoveredPushOf({ app: 'shop', sha, kind: 'push', note: RECOVERED_PUSH_NOTE }, 'shop', sha)).toBe(true);
  });
  it.each([
    ['a push of its own', { app: 'shop', sha, kind: 'push' as const, note: undefined }],
    ['another app', { app: 'blog', sha, kind: 'push' as const, note: RECOVERED_PUSH_NOTE }],
    ['another commit', { app: 'shop', sha: 'b'.repeat(40), kind: 'push' as const, note: RECOVERED_PUSH_NOTE }],
    ['a rollback', { app: 'shop', sha, kind: 'rollback' as const, note: RECOVERED_PUSH_NOTE }],
  ])('not %s', (_what, data) => {
    expect(isRecoveredPushOf(data, 'shop', sha)).toBe(false);
  });
});
