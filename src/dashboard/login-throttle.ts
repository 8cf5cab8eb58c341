/**
 * Limits wrong tokens typed into the login form, per client address: after `maxFailures` within
 * `windowMs` that address gets 429 until its oldest failure leaves the window. (The git server
 * counts wrong Authorization headers; the form never sends one, so it is counted here.)
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 10 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the address must wait before trying again, or 0. */
  retryAfterSeconds(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((recent[recent.length - this.maxFailures] + this.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.set(address, recent.slice(-this.maxFailures));
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
