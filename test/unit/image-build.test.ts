/**
 * The build runner against a stand-in docker CLI (a shell script set as SLIPWAY_DOCKER_CLI): what
 * reaches the pusher, the failure reason, and the deadline. The real CLI is exercised end to end
 * in test/e2e/push-deploy, legacy-builder and build-deadline.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildFailedError, buildImage } from '../../src/docker/image-build';

let dir: string;

/** A fake CLI: 20.10 without buildx (so BuildKit is "built in"), whose `build` runs `body`. */
async function fakeCli(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  const script = ['#!/bin/sh', 'case "$1" in --version) echo "Docker version 20.10.99, build fake"; exit 0;; buildx) exit 1;; esac', body, ''].join('\n');
  await fs.writeFile(file, script, { mode: 0o755 });
  return file;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-image-build-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('buildImage through the docker CLI', () => {
  it('passes the argv and BuildKit env, and shows each output line (digests and blank lines left out)', async () => {
    const argsFile = path.join(dir, 'args');
    const cli = await fakeCli(
      'ok',
      [
        `printf '%s\\n' "$@" > ${argsFile}; echo "DOCKER_BUILDKIT=$DOCKER_BUILDKIT" >> ${argsFile}`,
        'echo "#4 [1/2] COPY server.js /app/server.js" >&2',
        'echo "#4 sha256:8b5c36a523d895ea47a3fcc2f8f79bd06683de4ebd63df75db5e5c01eec8fbc9" >&2',
        'echo "" >&2',
        'echo "#4 DONE 0.2s" >&2',
        'echo "written to stdout"',
      ].join('\n'),
    );
    const lines: string[] = [];
    await buildImage({ builder: 'buildkit', dockerCli: cli, timeoutSeconds: 60 }, '/some/tree', ['app:abc', 'app:latest'], (l) => lines.push(l));
    expect(lines).toEqual(expect.arrayContaining(['#4 [1/2] COPY server.js /app/server.js', '#4 DONE 0.2s', 'written to stdout']));
    expect(lines).toHaveLength(3);
    expect((await fs.readFile(argsFile, 'utf8')).split('\n')).toEqual(['build', '--progress=plain', '-t', 'app:abc', '-t', 'app:latest', '--', '/some/tree', 'DOCKER_BUILDKIT=1', '']);
  });

  it("fails with the builder's own reason", async () => {
    const cli = await fakeCli('fails', ['echo "#7 ERROR: executor failed" >&2', 'echo "------" >&2', 'echo "executor failed running [/bin/sh -c exit 3]: exit code: 3" >&2', 'exit 1'].join('\n'));
    const build = buildImage({ builder: 'buildkit', dockerCli: cli, timeoutSeconds: 60 }, '/some/tree', ['app:abc'], () => undefined);
    await expect(build).rejects.toBeInstanceOf(BuildFailedError);
    await expect(build).rejects.toThrow(/^executor failed running \[\/bin\/sh -c exit 3\]: exit code: 3$/);
  });

  it('stops the whole process group past the deadline (SIGTERM, then SIGKILL for one that ignores it) and says so in plain words', async () => {
    const pidFile = path.join(dir, 'grandchild');
    // Ignores SIGTERM (and so does its child, which inherits that): only SIGKILL of the group ends both.
    const cli = await fakeCli('hangs', [`trap '' TERM`, 'echo "#5 [2/2] RUN sleep 30" >&2', 'sleep 30 &', `echo $! > ${pidFile}`, 'wait'].join('\n'));
    const started = Date.now();
    const build = buildImage({ builder: 'buildkit', dockerCli: cli, timeoutSeconds: 1 }, '/some/tree', ['app:abc'], () => undefined);
    await expect(build).rejects.toThrow('it took longer than SLIPWAY_BUILD_TIMEOUT (1 s) and was stopped');
    expect(Date.now() - started).toBeLessThan(8000);
    const grandchild = Number(await fs.readFile(pidFile, 'utf8'));
    // Gone, or a zombie waiting for init to reap it (its parent was killed too).
    const state = await fs.readFile(`/proc/${grandchild}/stat`, 'utf8').then(
      (stat) => stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3),
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  });

  it('says what to set when no CLI can build', async () => {
    await expect(buildImage({ builder: 'buildkit', dockerCli: path.join(dir, 'missing'), timeoutSeconds: 60 }, '/t', ['a:b'], () => undefined)).rejects.toThrow(
      /SLIPWAY_DOCKER_CLI=.*missing does not run.*; point SLIPWAY_DOCKER_CLI at a docker CLI/,
    );
  });
});
