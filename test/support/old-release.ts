/**
 * An earlier release of slipway built from this repository's own history, for upgrade tests:
 * `git worktree add --detach` of the release's commit in a temp directory, then its own `npm ci`
 * and build there. Found by commit id, not tag: a clean clone may carry no tags.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** A built release: its work tree and CLI. */
export interface OldRelease {
  commit: string;
  /** The release's work tree (a detached git worktree of this repo). */
  dir: string;
  /** Its `dist/cli.js`. */
  cli: string;
  /** How long checkout, `npm ci` and the build took, in ms. */
  buildMs: { checkout: number; npmCi: number; build: number };
  /** `git worktree remove --force` and prune. Safe to call twice. */
  remove(): Promise<void>;
}

function run(file: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}${stderr}`.slice(0, 4000)));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/**
 * Checks `commit` out of this repo into a temp worktree and builds it as its own README says
 * (`npm ci`, `npm run build`). Fails in plain words when the clone lacks the commit (a shallow
 * clone: CI must clone main with its history).
 */
export async function buildOldRelease(commit: string): Promise<OldRelease> {
  try {
    await run('git', ['cat-file', '-e', `${commit}^{commit}`], ROOT, 10_000);
  } catch {
    throw new Error(`commit ${commit} (the release the upgrade test starts from) is not in this clone (${ROOT}); a shallow clone lacks it: clone with its history (git fetch --unshallow)`);
  }
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), `slipway-release-${commit}-`));
  const dir = path.join(parent, 'slipway');
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await run('git', ['worktree', 'remove', '--force', dir], ROOT, 60_000).catch(() => '');
    await run('git', ['worktree', 'prune'], ROOT, 60_000).catch(() => '');
    await fs.rm(parent, { recursive: true, force: true });
  };
  try {
    let at = Date.now();
    await run('git', ['worktree', 'add', '--detach', dir, commit], ROOT, 60_000);
    const checkout = Date.now() - at;
    at = Date.now();
    // The old lock file against npm's cache: warm in CI after the tree's own npm ci.
    await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], dir, 300_000);
    const npmCi = Date.now() - at;
    at = Date.now();
    await run('npm', ['run', 'build'], dir, 300_000);
    const build = Date.now() - at;
    return { commit, dir, cli: path.join(dir, 'dist', 'cli.js'), buildMs: { checkout, npmCi, build }, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
