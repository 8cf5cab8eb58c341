import { describe, expect, it } from 'vitest';
import { decidePush, matchesTagPattern, parseRefUpdates } from '../../src/push/push-lines';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

describe('post-receive input', () => {
  it('parses old new ref lines, including branch names with 00 that node-git-server cuts', () => {
    const { updates, malformed } = parseRefUpdates(`${A} ${B} refs/heads/main\n${Z} ${A} refs/heads/feature-v1.00-fix\n`);
    expect(malformed).toEqual([]);
    expect(updates).toEqual([
      { oldSha: A, newSha: B, ref: 'refs/heads/main' },
      { oldSha: Z, newSha: A, ref: 'refs/heads/feature-v1.00-fix' },
    ]);
  });
  it('reports malformed lines instead of guessing', () => {
    const { updates, malformed } = parseRefUpdates(`garbage\n${A} ${B}\n${A} ${B} refs/heads/a b\n${A} nothex refs/heads/main\n`);
    expect(updates).toEqual([]);
    expect(malformed).toHaveLength(4);
  });
});

describe('push decision', () => {
  const rules = { branch: 'main', tagPattern: 'v*' };
  const c = (ref: string, commit: string | undefined) => ({ ref, commit, rules });

  it('deploys the deploy branch and says why other refs do not', () => {
    const decision = decidePush([c('refs/heads/main', B), c('refs/heads/dev', A)]);
    expect(decision.deploy).toEqual({ ref: 'refs/heads/main', sha: B });
    expect(decision.skipped).toEqual([{ ref: 'refs/heads/dev', reason: 'not the deploy branch (main), not deployed' }]);
  });
  it('compares ref names exactly: main00x is not main', () => {
    const decision = decidePush([c('refs/heads/main00x', A)]);
    expect(decision.deploy).toBeUndefined();
    expect(decision.skipped[0].reason).toMatch(/not the deploy branch/);
  });
  it('does not deploy a deleted branch', () => {
    const decision = decidePush([c('refs/heads/main', undefined)]);
    expect(decision.deploy).toBeUndefined();
    expect(decision.skipped[0].reason).toMatch(/deleted/);
  });
  it('deploys a release tag, and a tag that does not match the pattern is only stored', () => {
    expect(decidePush([c('refs/tags/v3', A)]).deploy).toEqual({ ref: 'refs/tags/v3', sha: A });
    expect(decidePush([c('refs/tags/nightly', A)]).skipped[0].reason).toMatch(/does not match the release pattern \(v\*\)/);
  });
  it('a branch and a tag on the same commit deploy once', () => {
    const decision = decidePush([c('refs/tags/v3', A), c('refs/heads/main', A)]);
    expect(decision.deploy).toEqual({ ref: 'refs/heads/main', sha: A });
    expect(decision.skipped).toEqual([{ ref: 'refs/tags/v3', reason: 'same commit as refs/heads/main, deployed once' }]);
  });
  it('the branch wins over a tag on another commit', () => {
    const decision = decidePush([c('refs/tags/v3', A), c('refs/heads/main', B)]);
    expect(decision.deploy?.sha).toBe(B);
  });
  it('matches tag patterns as globs, literally otherwise', () => {
    expect(matchesTagPattern('v1.2.3', 'v*')).toBe(true);
    expect(matchesTagPattern('release-1', 'release-*')).toBe(true);
    expect(matchesTagPattern('v1', 'v1.*')).toBe(false);
    expect(matchesTagPattern('vX1', 'v.1')).toBe(false);
  });
});
