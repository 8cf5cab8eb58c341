import { promises as fs } from 'node:fs';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { pathExists } from '../atomic-write';

/**
 * Brings `dir`, the app's build work tree kept between deploys, to exactly `sha` of the bare repo:
 * tracked files as in the commit, nothing else. Keeping it means a push rewrites only the files it
 * changed (writing a 100 MB tree afresh took ~0.6 s of every deploy). Whatever state a crash left
 * it in (half a checkout, a stale index.lock) is repaired the slow way: a fresh clone.
 * `--shared` borrows the bare repo's objects instead of copying them.
 */
export async function checkoutWorkTree(repoDir: string, sha: string, dir: string): Promise<void> {
  if (await pathExists(path.join(dir, '.git'))) {
    try {
      await moveTo(dir, sha);
      return;
    } catch {
      // Repaired below.
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
  await simpleGit().clone(repoDir, dir, ['--shared', '--no-checkout', '--quiet']);
  await moveTo(dir, sha);
}

/**
 * Re-reads the work tree's file times into its index. git only trusts a file's stat data when
 * the file is older than the index (same second = "racily clean", compared by content), so right
 * after a checkout the next one would re-read every file just written; a second or more later,
 * this makes the next checkout stat-only. Cheap when nothing is racy.
 */
export async function settleWorkTree(dir: string): Promise<void> {
  await simpleGit(dir).raw(['update-index', '-q', '--refresh']);
}

/**
 * Checkout, then remove whatever is neither tracked nor part of the commit (left by hand or by a
 * crash; it would end up in the build context). Every git call here prints something, because
 * simple-git waits an extra 50 ms after a command that prints nothing: hence no `--quiet`, and
 * `git clean` (silent when there is nothing to remove) only when status lists such files.
 */
async function moveTo(dir: string, sha: string): Promise<void> {
  const work = simpleGit(dir);
  await work.raw(['-c', 'advice.detachedHead=false', 'checkout', '--force', '--detach', sha]);
  const status = await work.raw(['status', '--porcelain=v2', '--branch', '--untracked-files=all', '--ignored']);
  if (/^[?!] /m.test(status)) await work.raw(['clean', '-q', '-ffdx']);
}
