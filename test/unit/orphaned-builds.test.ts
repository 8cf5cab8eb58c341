import { describe, expect, it } from 'vitest';
import { isBuildOf } from '../../src/docker/orphaned-builds';

const dir = '/var/lib/slipway/worktrees/shop';

describe('isBuildOf', () => {
  it('matches the CLI and the buildx plugin building that work tree', () => {
    expect(isBuildOf(['/usr/bin/docker', 'build', '--progress=plain', '-t', 'shop:abc', '-t', 'shop:latest', '--', dir], dir)).toBe(true);
    expect(isBuildOf(['/usr/libexec/docker/cli-plugins/docker-buildx', 'buildx', 'build', '--load', '--', dir], dir)).toBe(true);
  });

  it("leaves anything else alone: another app's tree, a tree whose name merely starts the same, other commands", () => {
    expect(isBuildOf(['/usr/bin/docker', 'build', '--', '/var/lib/slipway/worktrees/shop2'], dir)).toBe(false);
    expect(isBuildOf(['/usr/bin/docker', 'run', '--', dir], dir)).toBe(false);
    expect(isBuildOf(['/usr/bin/rm', '-rf', 'build', '--', dir], dir)).toBe(false);
    expect(isBuildOf(['/usr/bin/docker', 'build', dir], dir)).toBe(false);
    expect(isBuildOf([], dir)).toBe(false);
  });
});
