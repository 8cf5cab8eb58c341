/**
 * Undo actions for everything the benchmark starts, run in reverse order of registration, also
 * when the run fails or is interrupted, so no container, Apache, Redis, slipway process or temp
 * directory is left behind.
 */

/** A stack of named undo actions. */
export class Cleanup {
  private readonly actions: { name: string; run: () => Promise<void> }[] = [];
  private running: Promise<void> | undefined;

  /** Registers an undo action; it runs before the ones registered earlier. */
  add(name: string, run: () => Promise<void>): void {
    this.actions.push({ name, run });
  }

  /**
   * Runs every action once, newest first, each bounded by `perActionMs`; a failing or hanging
   * action is reported and the rest still run. Safe to call again (returns the same promise).
   */
  runAll(perActionMs = 45_000): Promise<void> {
    this.running ??= (async () => {
      while (this.actions.length > 0) {
        const action = this.actions.pop();
        if (action === undefined) break;
        try {
          await withTimeout(action.run(), perActionMs, action.name);
        } catch (err) {
          console.error(`cleanup: ${action.name}: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}

/** Rejects when `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
