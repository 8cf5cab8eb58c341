import { describe, expect, it } from 'vitest';
import { clientAddress, isTrustedProxy, parseTrustedProxies, trustedProxyList } from '../../src/client-address';

const trusted = trustedProxyList(parseTrustedProxies('127.0.0.1, ::1, 10.0.0.0/8'));

describe('SLIPWAY_TRUSTED_PROXIES', () => {
  it('takes addresses and CIDR subnets, refuses anything else in plain words', () => {
    expect(parseTrustedProxies(undefined)).toEqual([]);
    expect(parseTrustedProxies(' 127.0.0.1 ,::1,,10.0.0.0/8, fd00::/8')).toEqual(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8']);
    for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.0/8/1', '::/129', '1.2.3', '10.0.0.0/x', '*']) {
      expect(() => parseTrustedProxies(bad), bad).toThrow(/SLIPWAY_TRUSTED_PROXIES: ".*" is not an IP address or a CIDR subnet/);
    }
    expect(isTrustedProxy('10.200.0.1', trusted)).toBe(true);
    expect(isTrustedProxy('::ffff:10.200.0.1', trusted)).toBe(true);
    expect(isTrustedProxy('11.0.0.1', trusted)).toBe(false);
    expect(isTrustedProxy('not an address', trusted)).toBe(false);
  });
});

describe('client address', () => {
  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('192.0.2.7', '10.6.6.6', trusted)).toBe('192.0.2.7');
    expect(clientAddress('::ffff:192.0.2.7', undefined, trusted)).toBe('192.0.2.7');
    expect(clientAddress(undefined, '10.6.6.6', trusted)).toBe('unknown');
  });

  it('behind a trusted proxy: the rightmost hop that is not a trusted proxy', () => {
    expect(clientAddress('127.0.0.1', '192.0.2.7', trusted)).toBe('192.0.2.7');
    // The client wrote "10.6.6.6, 198.51.100.1" itself; the proxy appended the address it saw.
    expect(clientAddress('127.0.0.1', '10.6.6.6, 198.51.100.1, 192.0.2.7', trusted)).toBe('192.0.2.7');
    // A chain of trusted proxies is walked through.
    expect(clientAddress('127.0.0.1', '192.0.2.7, 10.1.1.1', trusted)).toBe('192.0.2.7');
    expect(clientAddress('127.0.0.1', ['192.0.2.7', '10.1.1.1'], trusted)).toBe('192.0.2.7');
    expect(clientAddress('::1', '2001:db8::7', trusted)).toBe('2001:db8::7');
    // No header: the proxy itself (or a local client) is the client.
    expect(clientAddress('127.0.0.1', undefined, trusted)).toBe('127.0.0.1');
    // Every hop trusted: the leftmost one.
    expect(clientAddress('127.0.0.1', '10.9.9.9', trusted)).toBe('10.9.9.9');
  });

  it('a hop that is not an address stops the walk at the last trusted hop: a forged header never names a third party', () => {
    expect(clientAddress('127.0.0.1', '192.0.2.7, 10.1.1.1"', trusted)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', 'unknown, 10.1.1.1', trusted)).toBe('10.1.1.1');
    expect(clientAddress('127.0.0.1', '', trusted)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '192.0.2.7:4444', trusted)).toBe('127.0.0.1');
  });
});
