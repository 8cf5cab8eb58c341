import net from 'node:net';

/**
 * Reads `SLIPWAY_TRUSTED_PROXIES`: comma-separated addresses and CIDR subnets (`127.0.0.1, ::1,
 * 10.0.0.0/8`). Throws a plain-words error naming the bad entry; returns the entries as written.
 */
export function parseTrustedProxies(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const family = net.isIP(address);
    const bits = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || extra !== undefined || !prefixOk) {
      throw new Error(`SLIPWAY_TRUSTED_PROXIES: "${entry}" is not an IP address or a CIDR subnet (like 127.0.0.1, ::1 or 10.0.0.0/8)`);
    }
  }
  return entries;
}

/** The trusted proxies as a `net.BlockList` (entries already checked by {@link parseTrustedProxies}). */
export function trustedProxyList(entries: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const type = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

/**
 * The address a request comes from, for the failed-login limit and the log fail2ban reads.
 * The TCP peer, unless the peer is a trusted proxy: then the rightmost `X-Forwarded-For` hop that
 * is not itself a trusted proxy (hops to its left were written by the client and prove nothing).
 * A hop that is not an IP address stops the walk at the last trusted hop, so a forged header can
 * only ever name a proxy, never an innocent third party.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: net.BlockList): string {
  let client = normalize(peer ?? '');
  if (!isTrustedProxy(client, trusted) || forwardedFor === undefined) return client || 'unknown';
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => normalize(h.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    if (net.isIP(hops[i]) === 0) return client;
    client = hops[i];
    if (!isTrustedProxy(client, trusted)) return client;
  }
  return client;
}

/** True when `address` (a TCP peer or a forwarded hop) is one of the trusted proxies. */
export function isTrustedProxy(address: string, trusted: net.BlockList): boolean {
  const family = net.isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** `::ffff:192.0.2.1` (an IPv4 client of a dual-stack socket) as `192.0.2.1`, so bans name the address people know. */
function normalize(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1] : address;
}
