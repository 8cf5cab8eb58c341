/** One named deploy step: what it does, and how to take it back if a later step fails. */
export interface DeployStep<C> {
  name: string;
  run(ctx: C): Promise<void>;
  /** Undoes `run`; called in reverse order when a later step fails. Steps without undo have nothing to take back. */
  undo?(ctx: C): Promise<void>;
  /**
   * Set on the first step after which going back would hurt more than going on (the old container
   * is being stopped): from then on a failure undoes nothing, it is only reported.
   */
  pointOfNoReturn?: boolean;
}

/** What the runner reports as it goes (the push output is built from these). */
export interface StepEvents {
  started(step: string): void;
  finished(step: string, elapsedMs: number): void;
  failed(step: string, error: Error): void;
  undone(step: string): void;
  undoFailed(step: string, error: Error): void;
}

/** Thrown by the runner: which step failed, why, and whether every undo succeeded. */
export class StepFailedError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: Error,
    readonly undoErrors: { step: string; error: Error }[],
  ) {
    super(cause.message);
  }
}

/**
 * Runs steps in order. When one fails, the steps that completed (and the failed one, which may
 * have half-done its work) are undone in reverse order, back to the point of no return, then
 * StepFailedError is thrown. Undo is
 * best-effort: an undo that fails is reported and the rest still run.
 */
export async function runSteps<C>(steps: DeployStep<C>[], ctx: C, events: StepEvents): Promise<void> {
  const toUndo: DeployStep<C>[] = [];
  for (const step of steps) {
    events.started(step.name);
    const started = Date.now();
    if (step.pointOfNoReturn) toUndo.length = 0;
    toUndo.push(step);
    try {
      await step.run(ctx);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      events.failed(step.name, error);
      const undoErrors: { step: string; error: Error }[] = [];
      for (const done of toUndo.reverse()) {
        if (!done.undo) continue;
        try {
          await done.undo(ctx);
          events.undone(done.name);
        } catch (undoErr) {
          const e = undoErr instanceof Error ? undoErr : new Error(String(undoErr));
          undoErrors.push({ step: done.name, error: e });
          events.undoFailed(done.name, e);
        }
      }
      throw new StepFailedError(step.name, error, undoErrors);
    }
    events.finished(step.name, Date.now() - started);
  }
}
