import { describe, expect, it } from 'vitest';
import { runSteps, StepFailedError, type DeployStep, type StepEvents } from '../../src/deploy/step-runner';

function recorder(): { events: StepEvents; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    events: {
      started: (s) => seen.push(`start ${s}`),
      finished: (s) => seen.push(`done ${s}`),
      failed: (s, e) => seen.push(`fail ${s}: ${e.message}`),
      undone: (s) => seen.push(`undo ${s}`),
      undoFailed: (s, e) => seen.push(`undo-fail ${s}: ${e.message}`),
    },
  };
}

const step = (name: string, log: string[], fail = false, extra: Partial<DeployStep<unknown>> = {}): DeployStep<unknown> => ({
  name,
  run: async () => {
    log.push(`run ${name}`);
    if (fail) throw new Error(`${name} broke`);
  },
  undo: async () => {
    log.push(`undo ${name}`);
  },
  ...extra,
});

describe('step runner', () => {
  it('runs every step in order', async () => {
    const log: string[] = [];
    await runSteps([step('a', log), step('b', log)], {}, recorder().events);
    expect(log).toEqual(['run a', 'run b']);
  });
  it('undoes the failed step and the completed ones in reverse order', async () => {
    const log: string[] = [];
    const { events, seen } = recorder();
    const error = await runSteps([step('a', log), step('b', log), step('c', log, true), step('d', log)], {}, events).catch((e) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.step).toBe('c');
    expect(log).toEqual(['run a', 'run b', 'run c', 'undo c', 'undo b', 'undo a']);
    expect(seen).toContain('fail c: c broke');
  });
  it('keeps undoing when one undo fails, and reports it', async () => {
    const log: string[] = [];
    const badUndo = step('b', log, false, {
      undo: async () => {
        throw new Error('stuck');
      },
    });
    const error = await runSteps([step('a', log), badUndo, step('c', log, true)], {}, recorder().events).catch((e) => e);
    expect(log).toEqual(['run a', 'run b', 'run c', 'undo c', 'undo a']);
    expect(error.undoErrors.map((u: { step: string }) => u.step)).toEqual(['b']);
  });
  it('undoes nothing before the point of no return', async () => {
    const log: string[] = [];
    const error = await runSteps([step('a', log), step('b', log, false, { pointOfNoReturn: true }), step('c', log, true)], {}, recorder().events).catch((e) => e);
    expect(error.step).toBe('c');
    expect(log).toEqual(['run a', 'run b', 'run c', 'undo c', 'undo b']);
  });
});
