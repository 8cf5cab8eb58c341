import { promises as fs } from 'node:fs';

/** errno codes that mean "the filesystem has no room": no space left, or the user's quota is used up. */
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** The words other programs (git, the docker CLI) use when their write hit a full filesystem. */
const NO_SPACE_TEXT = /no space left on device|disk quota exceeded/i;

/** Slipway's own phrase; a message carrying it is already in plain words. */
const FREE_SOME_SPACE = 'free some space';

/**
 * A write that failed because the filesystem is full. The message names the file and says what to
 * do; node's own (`ENOSPC: no space left on device, write`) names neither.
 */
export class DiskFullError extends Error {
  readonly code = 'ENOSPC';
  constructor(
    readonly file: string,
    override readonly cause: Error,
  ) {
    super(diskFullMessage(file));
  }
}

/** The plain-words line for a full filesystem at `where` (a file or directory). */
export function diskFullMessage(where: string): string {
  return `no space left on device at ${where}: ${FREE_SOME_SPACE} on that filesystem and try again (nothing was changed)`;
}

/** True for an error thrown by a write to a full filesystem (by errno code). */
export function isDiskFull(err: unknown): boolean {
  return typeof err === 'object' && err !== null && NO_SPACE_CODES.has(String((err as NodeJS.ErrnoException).code));
}

/** `err` as a {@link DiskFullError} naming `file` when the disk is full; any other error unchanged. */
export function explainWriteError(file: string, err: unknown): unknown {
  return isDiskFull(err) && !(err instanceof DiskFullError) ? new DiskFullError(file, err as Error) : err;
}

/**
 * Another program's failure text (git's `unable to write … No space left on device`, the docker CLI's
 * `write /var/lib/docker/…: no space left on device`), with slipway's plain words added when it says
 * the disk was full; `where` names the filesystem slipway knows the program wrote to. Any other text
 * comes back unchanged.
 */
export function explainDiskFullText(text: string, where: string): string {
  if (!NO_SPACE_TEXT.test(text) || text.includes(FREE_SOME_SPACE)) return text;
  return `${diskFullMessage(where)}; it said: ${text}`;
}

/** Bytes an unprivileged writer can still use on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await fs.statfs(dir);
  return stats.bavail * stats.bsize;
}
