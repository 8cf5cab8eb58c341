import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskFullError, explainDiskFullText, explainWriteError, freeBytes, isDiskFull } from '../../src/disk-full';
import { failureReason } from '../../src/docker/build-output';
import { DeployLogFiles } from '../../src/releases/deploy-log-files';
import { MIN_FREE_BYTES_FOR_PUSH, pushRoomProblem } from '../../src/server/push-room';

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('a full disk, in plain words', () => {
  it('a write that hit a full disk names the file and says what to do; other errors pass unchanged', () => {
    const err = explainWriteError('/srv/slipway/releases/shop.json', enospc());
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as Error).message).toBe('no space left on device at /srv/slipway/releases/shop.json: free some space on that filesystem and try again (nothing was changed)');
    expect(isDiskFull(err)).toBe(true);
    expect(isDiskFull(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(true);
    const other = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    expect(explainWriteError('/x', other)).toBe(other);
    // Explained once: a DiskFullError wrapped again keeps the first file it named.
    expect(explainWriteError('/y', err)).toBe(err);
  });

  it("git's and the docker CLI's own words get the plain line in front; anything else is unchanged", () => {
    expect(explainDiskFullText('error: unable to write file index.html: No space left on device', '/srv/slipway/worktrees')).toBe(
      'no space left on device at /srv/slipway/worktrees: free some space on that filesystem and try again (nothing was changed); it said: error: unable to write file index.html: No space left on device',
    );
    // The docker CLI (BuildKit) as it words a full data root; failureReason picks the ERROR line.
    const docker = failureReason(['#7 [4/6] COPY www /www', 'ERROR: failed to solve: failed to copy files: copy file range failed: no space left on device'], 'exited with code 1');
    expect(explainDiskFullText(docker, "Docker's data root")).toBe(
      "no space left on device at Docker's data root: free some space on that filesystem and try again (nothing was changed); it said: failed to solve: failed to copy files: copy file range failed: no space left on device",
    );
    expect(explainDiskFullText('failed to solve: exit code 3', 'x')).toBe('failed to solve: exit code 3');
    const already = 'no space left on device at /a: free some space on that filesystem and try again (nothing was changed)';
    expect(explainDiskFullText(already, '/b')).toBe(already);
  });

  it('a push is refused below 1 MiB free, or below its own size', () => {
    expect(pushRoomProblem(0, 0, '/srv/slipway')).toBe(
      'no space left on device at /srv/slipway (0 KiB free, a push needs 1024 KiB at least): free some space on that filesystem and push again; nothing was stored',
    );
    expect(pushRoomProblem(MIN_FREE_BYTES_FOR_PUSH, 0, '/s')).toBeUndefined();
    expect(pushRoomProblem(5 * 1024 * 1024, 6 * 1024 * 1024, '/s')).toContain('(5120 KiB free, a push needs 6144 KiB at least)');
  });

  it('free bytes of a real filesystem are a number', async () => {
    expect(await freeBytes(os.tmpdir())).toBeGreaterThan(0);
  });
});

describe('a deploy log on a full disk', () => {
  it('a write that fails never throws; it is reported once, naming the file, and close still resolves', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-unit-logs-'));
    try {
      await fs.mkdir(path.join(dir, 'shop'));
      // /dev/full answers every write with ENOSPC: a full disk without mounting one.
      await fs.symlink('/dev/full', path.join(dir, 'shop', 'deploy-1.log'));
      const errors: Error[] = [];
      const file = await new DeployLogFiles(dir).open('shop', 'deploy-1', (err) => errors.push(err));
      file.write('-----> Building shop');
      await new Promise((r) => setTimeout(r, 50));
      file.write('-----> Starting shop-pending');
      await file.close();
      expect(errors.map((e) => e.message)).toEqual([`no space left on device at ${path.join(dir, 'shop', 'deploy-1.log')}: free some space on that filesystem and try again (nothing was changed)`]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
