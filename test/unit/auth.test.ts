import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthRateLimit } from '../../src/auth/auth-rate-limit';
import { isAuthorized } from '../../src/auth/push-token';
import { TokenStore } from '../../src/auth/token-store';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('token check', () => {
  it('accepts Basic (any user) and Bearer with the token, nothing else', () => {
    expect(isAuthorized(basic('git', 'tok'), 'tok')).toBe(true);
    expect(isAuthorized('Bearer tok', 'tok')).toBe(true);
    expect(isAuthorized(basic('git', 'tok2'), 'tok')).toBe(false);
    expect(isAuthorized(basic('git', 'to'), 'tok')).toBe(false);
    expect(isAuthorized('Bearer ', 'tok')).toBe(false);
    expect(isAuthorized('Digest abc', 'tok')).toBe(false);
    expect(isAuthorized(undefined, 'tok')).toBe(false);
    expect(isAuthorized(`Bearer ${'x'.repeat(10000)}`, 'tok')).toBe(false);
  });
});

describe('named tokens', () => {
  it('adds, authenticates by name, lists without secrets, and revokes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-tokens-'));
    try {
      const store = new TokenStore(path.join(dir, 'tokens.json'), 'admin-secret');
      const alice = await store.add('alice');
      expect(await store.authenticate(basic('git', alice))).toBe('alice');
      expect(await store.authenticate('Bearer admin-secret')).toBe('admin');
      expect(await store.authenticate(basic('git', 'guess'))).toBeUndefined();
      const text = await fs.readFile(path.join(dir, 'tokens.json'), 'utf8');
      expect(text).not.toContain(alice);
      expect((await fs.stat(path.join(dir, 'tokens.json'))).mode & 0o777).toBe(0o600);
      await expect(store.add('alice')).rejects.toThrow(/exists/);
      await expect(store.add('$(x)')).rejects.toThrow(/not a valid token name/);
      await store.revoke('alice');
      expect(await store.authenticate(basic('git', alice))).toBeUndefined();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('failed-auth limit', () => {
  it('blocks an address after N failures in the window, not other addresses, and frees it later', () => {
    let now = 0;
    const limit = new AuthRateLimit(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) limit.recordFailure('10.0.0.1');
    expect(limit.retryAfterSeconds('10.0.0.1')).toBe(60);
    expect(limit.retryAfterSeconds('10.0.0.2')).toBe(0);
    now = 30_000;
    expect(limit.retryAfterSeconds('10.0.0.1')).toBe(30);
    now = 60_001;
    expect(limit.retryAfterSeconds('10.0.0.1')).toBe(0);
  });
});
