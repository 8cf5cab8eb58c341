import { logAuthFailure, type AuthFailureVia, type Logger } from '../logger';

/**
 * Limits failed authentications (wrong Authorization headers, wrong tokens typed into the
 * dashboard's login form) per client address: after `maxFailures` wrong credentials within
 * `windowMs`, that address gets 429 until its oldest failure leaves the window. Other addresses
 * (the real user elsewhere) are not affected. Requests without credentials are git's normal
 * first round trip and do not count.
 */
export class AuthRateLimit {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the address must wait, or 0 when it may try. */
  retryAfterSeconds(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((recent[recent.length - this.maxFailures] + this.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.set(address, recent.slice(-this.maxFailures));
    // Bounded memory under a flood of addresses: forget the oldest one.
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recent(address: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const recent = (this.failures.get(address) ?? []).filter((t) => t > cutoff);
    if (recent.length === 0) this.failures.delete(address);
    else this.failures.set(address, recent);
    return recent;
  }
}

/**
 * The one place every failed login goes, from the git remote and the dashboard alike: counted in
 * ONE limit per client address (so 10 wrong dashboard tokens and 10 wrong git tokens are 20
 * guesses, not 10 + 20) and logged in the line fail2ban reads.
 */
export class AuthFailures {
  constructor(
    private readonly limit: AuthRateLimit,
    private readonly log: Logger,
  ) {}

  /** Seconds `client` must wait before it may try again, or 0. */
  retryAfterSeconds(client: string): number {
    return this.limit.retryAfterSeconds(client);
  }

  record(client: string, via: AuthFailureVia): void {
    this.limit.recordFailure(client);
    logAuthFailure(this.log, client, via);
  }
}
