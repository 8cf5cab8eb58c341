import { describe, expect, it } from 'vitest';
import { crashAfterStep } from '../../src/deploy/fault-injection';
import { runSteps, type DeployStep } from '../../src/deploy/step-runner';

const step = (name: string, log: string[]): DeployStep<unknown> => ({
  name,
  run: async () => {
    log.push(`run ${name}`);
  },
  undo: async () => {
    log.push(`undo ${name}`);
  },
});

const quiet = { started: () => undefined, finished: () => undefined, failed: () => undefined, undone: () => undefined, undoFailed: () => undefined };

describe('crashAfterStep (fault injection)', () => {
  it('kills right after the named step has run, before the next one starts', async () => {
    const log: string[] = [];
    const steps = crashAfterStep(
      ['build', 'switch', 'retire'].map((name) => step(name, log)),
      'switch',
      () => log.push('kill'),
    );
    await runSteps(steps, undefined, quiet);
    expect(log).toEqual(['run build', 'run switch', 'kill', 'run retire']);
  });

  it('keeps every step its name, undo and point of no return', () => {
    const log: string[] = [];
    const original = [step('build', log), { ...step('retire', log), pointOfNoReturn: true }];
    const wrapped = crashAfterStep(original, 'retire', () => undefined);
    expect(wrapped.map((s) => [s.name, s.undo, s.pointOfNoReturn])).toEqual(original.map((s) => [s.name, s.undo, s.pointOfNoReturn]));
    expect(wrapped[0]).toBe(original[0]);
  });

  it('refuses a step name that no step has, in plain words', () => {
    expect(() => crashAfterStep([step('build', [])], 'swich', () => undefined)).toThrow('SLIPWAY_TEST_CRASH_AFTER_STEP=swich names no deploy step (the steps: build)');
  });
});
