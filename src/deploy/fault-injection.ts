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
