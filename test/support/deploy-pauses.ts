/**
 * The test side of slipway's `SLIPWAY_TEST_PAUSE_AFTER_STEPS` seam (src/deploy/fault-injection.ts):
 * after each listed step a deploy creates `$SLIPWAY_HOME/test-pauses/paused-after-<step>` and waits
 * until the test removes it, so a fault (Apache killed, the disk filled) lands at an exact point.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sleep } from './daemon-process';

function marker(home: string, step: string): string {
  return path.join(home, 'test-pauses', `paused-after-${step}`);
}

/** Waits until a deploy pauses after `step` (true), or `gaveUp()` says to stop waiting (false). */
export async function waitForPause(home: string, step: string, gaveUp: () => boolean = () => false, timeoutMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const paused = await fs.stat(marker(home, step)).then(
      () => true,
      () => false,
    );
    if (paused) return true;
    if (gaveUp()) return false;
    if (Date.now() > deadline) throw new Error(`no deploy paused after ${step} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Lets the paused deploy go on. */
export async function resume(home: string, step: string): Promise<void> {
  await fs.rm(marker(home, step));
}

/**
 * Runs `push` while a deploy pauses after each of `steps` in turn: at each pause, the step's action
 * (if any) runs, then the deploy goes on. Resolves with the push's result.
 */
export async function pushThroughPauses<T>(home: string, steps: string[], push: Promise<T>, actions: Record<string, () => Promise<void>> = {}): Promise<T> {
  let ended = false;
  const pushed = push.finally(() => {
    ended = true;
  });
  for (const step of steps) {
    // A deploy that fails earlier never reaches the later steps.
    if (!(await waitForPause(home, step, () => ended))) break;
    await actions[step]?.();
    await resume(home, step);
  }
  return pushed;
}
