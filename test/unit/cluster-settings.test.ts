import { describe, expect, it } from 'vitest';
import { readSettings } from '../../src/settings';

describe('cluster settings', () => {
  it('are off by default: one host', () => {
    expect(readSettings({}).cluster).toEqual({ address: undefined, redisPort: 6380, registryPort: 6381 });
  });

  it('take an IPv4 or IPv6 address and a port', () => {
    expect(readSettings({ SLIPWAY_CLUSTER_ADDRESS: '10.77.0.1', SLIPWAY_CLUSTER_REDIS_PORT: '16380', SLIPWAY_CLUSTER_REGISTRY_PORT: '16381' }).cluster).toEqual({
      address: '10.77.0.1',
      redisPort: 16380,
      registryPort: 16381,
    });
    expect(readSettings({ SLIPWAY_CLUSTER_ADDRESS: 'fd00::1' }).cluster.address).toBe('fd00::1');
  });

  it.each(['slipway.example', '0.0.0.0', '::', '10.0.0.256'])('refuse %s as the address, naming the variable', (address) => {
    expect(() => readSettings({ SLIPWAY_CLUSTER_ADDRESS: address })).toThrow(/SLIPWAY_CLUSTER_ADDRESS: expected the IP address other hosts reach/);
  });

  it('refuse a port out of range', () => {
    expect(() => readSettings({ SLIPWAY_CLUSTER_REDIS_PORT: '70000' })).toThrow(/SLIPWAY_CLUSTER_REDIS_PORT/);
  });
});
