import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';

/**
 * The push token: `SLIPWAY_TOKEN` when set, else the one generated on first start and kept in
 * `tokenFile` (mode 600). `created` tells the caller to print it once.
 */
export async function loadOrCreateToken(tokenFile: string, fromEnv: string | undefined): Promise<{ token: string; created: boolean }> {
  if (fromEnv !== undefined) return { token: fromEnv, created: false };
  const stored = (await readFileIfExists(tokenFile))?.trim();
  if (stored) return { token: stored, created: false };
  const token = randomBytes(24).toString('base64url');
  await writeFileAtomic(tokenFile, `${token}\n`, 0o600);
  await fs.chmod(tokenFile, 0o600);
  return { token, created: true };
}

/**
 * Checks an `Authorization` header against the token. Both sides are hashed first so the
 * comparison takes the same time whatever the length or common prefix of the guess.
 * Accepts `Basic` (any user name, password = token) and `Bearer <token>`.
 */
export function isAuthorized(header: string | undefined, token: string): boolean {
  const presented = presentedSecret(header);
  return presented !== undefined && hashesEqual(hashToken(presented), hashToken(token));
}

/** sha256 of a token: what the token store keeps instead of the token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Constant-time comparison of two token hashes (always 32 bytes, so no length leaks). */
export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}

/** The secret an Authorization header presents (Bearer token, or Basic password), if any. */
export function presentedSecret(header: string | undefined): string | undefined {
  if (!header || header.length > 4096) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}
