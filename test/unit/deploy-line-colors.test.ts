import { describe, expect, it } from 'vitest';
import { colorizeDeployLine } from '../../src/queue/deploy-line-colors';

describe('deploy line colours', () => {
  it('colours headers and results, leaves build output alone', () => {
    expect(colorizeDeployLine('-----> Building a 1234567')).toBe('\x1b[1m-----> Building a 1234567\x1b[0m');
    expect(colorizeDeployLine('✔ a live')).toContain('\x1b[32m');
    expect(colorizeDeployLine('✘ build failed')).toContain('\x1b[31m');
    expect(colorizeDeployLine('       Step 1/3 : FROM scratch')).toBe('       Step 1/3 : FROM scratch');
  });
});
