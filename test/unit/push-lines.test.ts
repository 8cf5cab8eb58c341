import { describe, expect, it } from 'vitest';
import { decidePush, parseRefUpdates } from '../../src/hook/push-lines';

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
  it('deploys the deploy branch and says why other refs do not', () => {
    const decision = decidePush(
      [
        { oldSha: A, newSha: B, ref: 'refs/heads/main' },
        { oldSha: Z, newSha: A, ref: 'refs/heads/dev' },
      ],
      'main',
    );
    expect(decision.deploy?.newSha).toBe(B);
    expect(decision.skipped).toEqual([{ ref: 'refs/heads/dev', reason: 'not the deploy branch (main), not deployed' }]);
  });
  it('compares ref names exactly: main00x is not main', () => {
    const decision = decidePush([{ oldSha: Z, newSha: A, ref: 'refs/heads/main00x' }], 'main');
    expect(decision.deploy).toBeUndefined();
    expect(decision.skipped[0].reason).toMatch(/not the deploy branch/);
  });
  it('does not deploy a deleted branch', () => {
    const decision = decidePush([{ oldSha: A, newSha: Z, ref: 'refs/heads/main' }], 'main');
    expect(decision.deploy).toBeUndefined();
    expect(decision.skipped[0].reason).toMatch(/deleted/);
  });
});
