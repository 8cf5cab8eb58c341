/**
 * A small filesystem of its own for disk-full tests: a size-limited tmpfs mounted on a fresh temp
 * directory (the tests run as root), which a test fills to the last byte and empties again. Never
 * the system disk, never Docker's.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './daemon-process';

export interface SmallFilesystem {
  /** The mount point (mode 0755, so Apache's children can read port maps under it). */
  dir: string;
  /** Writes a filler file until the filesystem has no byte left. */
  fill(): Promise<void>;
  /** Removes the filler file. */
  unfill(): Promise<void>;
  /** Unmounts it and removes the mount point. */
  unmount(): Promise<void>;
}

const FILLER = '.filler';

/** Mounts a tmpfs of `sizeMb` MiB on a new temp directory. */
export async function mountSmallFilesystem(sizeMb: number): Promise<SmallFilesystem> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-small-fs-'));
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
  if (mounted.code !== 0) {
    await fs.rmdir(dir);
    throw new Error(`could not mount a ${sizeMb} MiB tmpfs on ${dir} (the disk-full tests run as root): ${mounted.output}`);
  }
  const filler = path.join(dir, FILLER);
  return {
    dir,
    async fill() {
      const handle = await fs.open(filler, 'a');
      try {
        // Big chunks first, then small ones: the last few KiB go too.
        for (const size of [1024 * 1024, 4096, 1]) {
          const chunk = Buffer.alloc(size, 0x78);
          for (;;) {
            try {
              await handle.write(chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        await handle.close();
      }
    },
    async unfill() {
      await fs.rm(filler, { force: true });
    },
    async unmount() {
      const unmounted = await run('umount', [dir]);
      // Something still open under it (a process the test could not stop): detach it all the same.
      if (unmounted.code !== 0) await run('umount', ['-l', dir]);
      await fs.rmdir(dir);
    },
  };
}
