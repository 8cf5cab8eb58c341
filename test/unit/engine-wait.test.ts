import { describe, expect, it } from 'vitest';
import { untilEngineAnswers } from '../../src/docker/engine-wait';

const failing = (code: string) => Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code });

/** An operation that fails with `codes` in turn, then answers `ok`. */
function flaky(codes: string[]) {
  let calls = 0;
  return {
    calls: () => calls,
    op: async () => {
      const code = codes[calls++];
      if (code) throw failing(code);
      return 'ok';
    },
  };
}

describe('waiting for the Docker Engine', () => {
  it('tries again while the socket is missing or refuses, and says so once', async () => {
    const engine = flaky(['ENOENT', 'ECONNREFUSED', 'ECONNREFUSED']);
    const told: string[] = [];
    expect(await untilEngineAnswers(engine.op, { waitMs: 5000, intervalMs: 1, onWait: (r) => told.push(r) }, false)).toBe('ok');
    expect(engine.calls()).toBe(4);
    expect(told).toEqual(['ENOENT']);
  });

  it('sends a dropped request again only when it is safe to repeat', async () => {
    expect(await untilEngineAnswers(flaky(['ECONNRESET']).op, { waitMs: 5000, intervalMs: 1 }, true)).toBe('ok');
    await expect(untilEngineAnswers(flaky(['ECONNRESET']).op, { waitMs: 5000, intervalMs: 1 }, false)).rejects.toThrow('ECONNRESET');
  });

  it('gives up after the wait, and at once when the wait is 0 or the error is the Engine answering', async () => {
    const engine = flaky(Array<string>(1000).fill('ECONNREFUSED'));
    const started = Date.now();
    await expect(untilEngineAnswers(engine.op, { waitMs: 100, intervalMs: 10 }, true)).rejects.toThrow('ECONNREFUSED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const once = flaky(['ECONNREFUSED']);
    await expect(untilEngineAnswers(once.op, { waitMs: 0 }, true)).rejects.toThrow('ECONNREFUSED');
    expect(once.calls()).toBe(1);
    const answered = flaky(['EACCES']);
    await expect(untilEngineAnswers(answered.op, { waitMs: 5000, intervalMs: 1 }, true)).rejects.toThrow('EACCES');
    expect(answered.calls()).toBe(1);
  });
});
