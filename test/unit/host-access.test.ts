import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createHostAccess } from '../../src/cluster/host-access';

describe('the server side of hosts', () => {
  it('refuses SLIPWAY_IMAGE_TRANSPORT=save-load for a rollout before it touches anything, naming the fix', async () => {
    // Nothing may be called: no Redis, no registry, no docker.
    const redis = new Proxy({}, { get: () => () => Promise.reject(new Error('Redis was used')) }) as unknown as Redis;
    const access = createHostAccess({ redis, home: '/nonexistent', address: '10.0.0.1', registryPort: 6381, server: { cli: 'false', dockerHost: undefined, parentEnv: {} }, transport: 'save-load' });
    await expect(access.publish('shop', 'a'.repeat(40))).rejects.toThrow(/SLIPWAY_IMAGE_TRANSPORT is save-load, .* set SLIPWAY_IMAGE_TRANSPORT=registry/);
  });
});
