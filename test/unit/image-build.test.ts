import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { BuildFailedError, buildImage, contextSummary } from '../../src/docker/image-build';

describe('buildImage with BuildKit', () => {
  it('says in plain words when the Engine opens no session, and how to build without one', async () => {
    const dialed: string[] = [];
    const docker = {
      modem: {
        dial(options: { path: string }, callback: (err: Error | null) => void) {
          dialed.push(options.path);
          callback(Object.assign(new Error('(HTTP code 404) this Engine has no BuildKit sessions'), { statusCode: 404 }));
        },
      },
    } as unknown as Docker;
    const build = buildImage(docker, 'buildkit', '/nonexistent', ['app:abc'], () => undefined);
    await expect(build).rejects.toBeInstanceOf(BuildFailedError);
    await expect(build).rejects.toThrow(/did not open a BuildKit session \(\(HTTP code 404\).*SLIPWAY_BUILDER=legacy/);
    expect(dialed).toEqual(['/session']);
  });
});

describe('contextSummary', () => {
  it('counts the files the builder asked for, in words', () => {
    expect(contextSummary({ files: 0, bytes: 0 })).toBe('context: no file changed since the last build, nothing sent');
    expect(contextSummary({ files: 1, bytes: 11 })).toBe('context: 1 file sent (11 B); unchanged files are reused from the last build');
    expect(contextSummary({ files: 3, bytes: 1_700 })).toBe('context: 3 files sent (1.7 kB); unchanged files are reused from the last build');
    expect(contextSummary({ files: 2043, bytes: 104_300_000 })).toBe('context: 2043 files sent (104.3 MB); unchanged files are reused from the last build');
  });
});
