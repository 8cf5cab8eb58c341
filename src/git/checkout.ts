import { promises as fs } from 'node:fs';
import { simpleGit } from 'simple-git';

/**
 * Checks out `sha` of the bare repo into `dir` (emptied first, so a re-run after a crash starts
 * clean). `--shared` borrows the bare repo's objects instead of copying them.
 */
export async function checkoutCommit(repoDir: string, sha: string, dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await simpleGit().clone(repoDir, dir, ['--shared', '--no-checkout', '--quiet']);
  const work = simpleGit(dir);
  await work.raw(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', sha]);
  await fs.rm(`${dir}/.git`, { recursive: true, force: true });
}
