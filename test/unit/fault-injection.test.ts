import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashAfterStep, pauseAfterSteps, pauseUntilMarkerRemoved } from '../../src/deploy/fault-injection';
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

describe('pauseAfterSteps (fault injection)', () => {
  it('waits after each named step until the pause lets it go on', async () => {
    const log: string[] = [];
    let release: () => void = () => undefined;
    const steps = pauseAfterSteps(
      ['health', 'record', 'switch'].map((name) => step(name, log)),
      ['health', 'switch'],
      (name) => {
        log.push(`pause ${name}`);
        return name === 'health' ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
    );
    const run = runSteps(steps, undefined, quiet);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['run health', 'pause health']);
    release();
    await run;
    expect(log).toEqual(['run health', 'pause health', 'run record', 'run switch', 'pause switch']);
  });

  it('refuses step names no step has, in plain words', () => {
    expect(() => pauseAfterSteps([step('build', [])], ['build', 'helth'], async () => undefined)).toThrow('SLIPWAY_TEST_PAUSE_AFTER_STEPS names no deploy step helth (the steps: build)');
  });

  it('the file pause: creates the marker and returns once it is removed', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-pause-'));
    try {
      let done = false;
      const paused = pauseUntilMarkerRemoved(path.join(dir, 'pauses'), 'health').then(() => (done = true));
      const marker = path.join(dir, 'pauses', 'paused-after-health');
      while (
        !(await fs.stat(marker).then(
          () => true,
          () => false,
        ))
      )
        await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 120));
      expect(done).toBe(false);
      await fs.rm(marker);
      await paused;
      expect(done).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
