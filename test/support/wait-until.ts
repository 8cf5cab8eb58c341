/**
 * Polls `probe` every 200 ms until it returns a value and resolves with it. At `timeoutMs` it
 * throws naming `what`, with the tail of `output()` (the slipway under test's log) to say why.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
