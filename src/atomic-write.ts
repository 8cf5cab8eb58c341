import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { explainWriteError } from './disk-full';

/**
 * Replaces `file` with `content` so that readers see either the old or the new file, never a torn
 * one: write a temp file in the same directory (same filesystem, so rename is atomic), fsync it,
 * rename it over the target, fsync the directory. The temp name starts with "." and ends in ".tmp"
 * so no `*.conf` Include glob or `*.json` reader ever picks it up. On failure the old file is untouched
 * and the temp file removed; a full filesystem throws a DiskFullError naming `file`.
 */
export async function writeFileAtomic(file: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'w', mode).catch((err: unknown) => Promise.reject(explainWriteError(file, err)));
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw explainWriteError(file, err);
  }
  await handle.close();
  try {
    await fs.chmod(temp, mode);
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/**
 * Like {@link writeFileAtomic}, for content another program writes (`fill` gets the temp file's
 * path): the temp file is created empty with `mode` first, so the program never leaves a copy
 * readable by others; on success it is fsynced and renamed over `file`, on failure removed.
 */
export async function fillFileAtomic(file: string, mode: number, fill: (tempFile: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  await (await fs.open(temp, 'wx', mode).catch((err: unknown) => Promise.reject(explainWriteError(file, err)))).close();
  try {
    await fill(temp);
    const handle = await fs.open(temp, 'r+');
    await handle.sync().finally(() => handle.close());
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw explainWriteError(file, err);
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when something (a file, directory or link, even a dangling one) exists at `file`. */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Points `link` at `target`, replacing whatever is there (a file, another link) in one rename. */
export async function symlinkAtomic(target: string, link: string): Promise<void> {
  if ((await fs.readlink(link).catch(() => undefined)) === target) return;
  await fs.mkdir(path.dirname(link), { recursive: true, mode: 0o755 });
  const temp = path.join(path.dirname(link), `.${path.basename(link)}.${randomBytes(6).toString('hex')}.tmp`);
  await fs.symlink(target, temp);
  await fs.rename(temp, link);
}
