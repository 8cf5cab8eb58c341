import { describe, expect, it } from 'vitest';
import { failureReason, shownLine } from '../../src/docker/build-output';

describe('shownLine', () => {
  it('keeps step lines, drops blank lines and step digests, strips colour codes', () => {
    expect(shownLine('#4 [1/4] COPY busybox /bin/busybox')).toBe('#4 [1/4] COPY busybox /bin/busybox');
    expect(shownLine('#4 DONE 0.2s  ')).toBe('#4 DONE 0.2s');
    expect(shownLine('')).toBeUndefined();
    expect(shownLine('   ')).toBeUndefined();
    expect(shownLine('#4 sha256:8b5c36a523d895ea47a3fcc2f8f79bd06683de4ebd63df75db5e5c01eec8fbc9')).toBeUndefined();
    expect(shownLine('\x1b[91merr')).toBe('err');
    expect(shownLine('\x1b[0m')).toBeUndefined();
  });
});

describe('failureReason', () => {
  it('BuildKit from CLI 23 on / buildx: the closing "ERROR: failed to solve" line', () => {
    const stderr = [
      '#5 [2/2] RUN exit 3',
      '#5 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
      '------',
      ' > [2/2] RUN exit 3:',
      '------',
      'Dockerfile:2',
      '--------------------',
      '   1 |     FROM alpine',
      '   2 | >>> RUN exit 3',
      '--------------------',
      'ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
    ];
    expect(failureReason(stderr, 'exited with code 1')).toBe('failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3');
  });

  it('BuildKit in the 20.10 CLI: its last line, after the framing', () => {
    const stderr = [
      '#7 [4/4] RUN echo hello; exit 3',
      '#7 0.612 hello',
      '#7 ERROR: executor failed running [/bin/sh -c echo hello; exit 3]: exit code: 3',
      '------',
      ' > [4/4] RUN echo hello; exit 3:',
      '------',
      'executor failed running [/bin/sh -c echo hello; exit 3]: exit code: 3',
    ];
    expect(failureReason(stderr, 'exited with code 1')).toBe('executor failed running [/bin/sh -c echo hello; exit 3]: exit code: 3');
  });

  it("the classic builder: its last line, after a newer CLI's deprecation notice", () => {
    const stderr = [
      'DEPRECATED: The legacy builder is deprecated and will be removed in a future release.',
      '            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0',
      "The command '/bin/sh -c npm ci' returned a non-zero code: 1",
    ];
    expect(failureReason(stderr, 'exited with code 1')).toBe("The command '/bin/sh -c npm ci' returned a non-zero code: 1");
  });

  it('a CLI that refuses to build says why in its first ERROR line; one that says nothing is described', () => {
    const stderr = ['ERROR: BuildKit is enabled but the buildx component is missing or broken.', '       Install the buildx component to build images with BuildKit:'];
    expect(failureReason(stderr, 'exited with code 1')).toBe('BuildKit is enabled but the buildx component is missing or broken.');
    expect(failureReason(['#1 [internal] load build definition from Dockerfile'], 'was killed (SIGKILL)')).toBe('the docker CLI was killed (SIGKILL) without saying why');
  });
});
