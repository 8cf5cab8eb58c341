import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A host token, `<host>.<secret>`: the host's name (its Redis user is `host-<name>`) and a random
 * secret, which is the Redis password. The server keeps only the secret's sha256 (as Redis does):
 * the token is shown once, in the join line.
 */
export interface HostToken {
  host: string;
  secret: string;
}

/** A new random secret: 32 bytes, base64url (no character a shell or a URL treats specially). */
export function newHostSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The sha256 of a secret, lowercase hex (what Redis's `#<hash>` ACL rule takes). */
export function secretSha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** True when `secret` hashes to `sha256` (compared in constant time). */
export function secretMatches(secret: string, sha256: string): boolean {
  const a = Buffer.from(secretSha256(secret), 'hex');
  const b = Buffer.from(sha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function formatHostToken(token: HostToken): string {
  return `${token.host}.${token.secret}`;
}

/** Reads `<host>.<secret>`; throws in plain words when it is not one. */
export function parseHostToken(text: string): HostToken {
  const match = /^([a-z][a-z0-9-]{0,39})\.([A-Za-z0-9_-]{20,})$/.exec(text.trim());
  if (!match) throw new Error('expected a host token like h2.<secret>, as `slipway hosts:add` printed it');
  return { host: match[1], secret: match[2] };
}
