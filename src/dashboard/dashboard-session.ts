import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The dashboard's login session cookie. */
export const SESSION_COOKIE = 'slipway_session';

/** Sessions last this long from login (no sliding renewal). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** One logged-in browser: when it expires and its CSRF token (embedded in the pages' forms). */
export interface Session {
  csrf: string;
  expiresAt: number;
}

/**
 * Login sessions in memory (a restart logs everyone out, which is fine for one operator's
 * dashboard). The map is keyed by the sha256 of the session id, so the ids themselves are kept
 * nowhere; at most `maxSessions` live at once (the oldest go first).
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs = SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
    private readonly maxSessions = 1000,
  ) {}

  /** Starts a session; returns its id (the cookie value: 32 random bytes, base64url). */
  create(): { id: string; session: Session } {
    this.prune();
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const session: Session = { csrf: randomBytes(32).toString('base64url'), expiresAt: this.now() + this.ttlMs };
    this.sessions.set(key(id), session);
    return { id, session };
  }

  /** The live session with this id, or undefined (unknown, malformed or expired). */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const k = key(id);
    const session = this.sessions.get(k);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(k);
      return undefined;
    }
    return session;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(key(id));
  }

  get size(): number {
    this.prune();
    return this.sessions.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
  }
}

/** Constant-time check of a submitted CSRF token against the session's. */
export function csrfMatches(session: Session, submitted: string | undefined | null): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0 || submitted.length > 200) return false;
  return timingSafeEqual(key(submitted, 'buffer'), key(session.csrf, 'buffer'));
}

/** The value of one cookie in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a new session; `secure` when the browser reached us over https (through Apache). */
export function sessionCookie(id: string, secure: boolean, ttlMs = SESSION_TTL_MS): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(ttlMs / 1000)}${secure ? '; Secure' : ''}`;
}

/** Set-Cookie that removes the session cookie. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

function key(value: string): string;
function key(value: string, as: 'buffer'): Buffer;
function key(value: string, as?: 'buffer'): string | Buffer {
  const hash = createHash('sha256').update(value);
  return as === 'buffer' ? hash.digest() : hash.digest('hex');
}
