/** Small helpers the deploy steps share. */

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A value an earlier step sets; missing means the steps run out of order (a bug, not bad input). */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} missing (step order)`);
  return value;
}
