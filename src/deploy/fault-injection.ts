import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathExists } from '../atomic-write';
import type { DeployStep } from './step-runner';

/** Kills this process the way a power cut or the OOM killer would: no cleanup, no last words. */
function killNow(): void {
  process.kill(process.pid, 'SIGKILL');
}

/**
 * Fault injection for slipway's own crash tests (`SLIPWAY_TEST_CRASH_AFTER_STEP`): the same steps,
 * with the process killed right after the named one finishes. The worker wraps its steps with this
 * only when the setting is present, so the deploy runner has no test-only branch of its own.
 */
export function crashAfterStep<C>(steps: DeployStep<C>[], stepName: string, kill: () => void = killNow): DeployStep<C>[] {
  if (!steps.some((step) => step.name === stepName)) {
    throw new Error(`SLIPWAY_TEST_CRASH_AFTER_STEP=${stepName} names no deploy step (the steps: ${steps.map((step) => step.name).join(', ')})`);
  }
  return steps.map((step) =>
    step.name !== stepName
      ? step
      : {
          ...step,
          async run(ctx: C) {
            await step.run(ctx);
            kill();
          },
        },
  );
}

/**
 * Fault injection for slipway's own fault tests (`SLIPWAY_TEST_PAUSE_AFTER_STEPS`): after each named
 * step the deploy waits in `pause(step)` before going on, so a test can break something (kill
 * Apache, fill the disk) at that exact point. Like {@link crashAfterStep}, only wrapped in when the
 * setting is present.
 */
export function pauseAfterSteps<C>(steps: DeployStep<C>[], stepNames: string[], pause: (step: string) => Promise<void>): DeployStep<C>[] {
  const unknown = stepNames.filter((name) => !steps.some((step) => step.name === name));
  if (unknown.length > 0) {
    throw new Error(`SLIPWAY_TEST_PAUSE_AFTER_STEPS names no deploy step ${unknown.join(', ')} (the steps: ${steps.map((step) => step.name).join(', ')})`);
  }
  return steps.map((step) =>
    !stepNames.includes(step.name)
      ? step
      : {
          ...step,
          async run(ctx: C) {
            await step.run(ctx);
            await pause(step.name);
          },
        },
  );
}

/**
 * The pause a test controls through files: creates `<dir>/paused-after-<step>` and waits until the
 * test removes it. The marker is an empty file, which even a full filesystem still takes.
 */
export async function pauseUntilMarkerRemoved(dir: string, step: string): Promise<void> {
  const marker = path.join(dir, `paused-after-${step}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(marker, '');
  while (await pathExists(marker)) await new Promise((r) => setTimeout(r, 50));
}
