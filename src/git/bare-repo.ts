import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runGit } from './git-command';

/** slipway's own hooks directory; every bare repo's `core.hooksPath` points here, so ssh pushes deploy too. */
export const HOOKS_DIR = path.resolve(__dirname, '..', '..', 'hooks');

/** Creates the bare repo for an app if missing (HEAD on `branch`) and (re)applies slipway's repo config. */
export async function ensureBareRepo(repoDir: string, branch = 'main'): Promise<{ created: boolean }> {
  let created = false;
  try {
    await fs.access(path.join(repoDir, 'HEAD'));
  } catch {
    await fs.mkdir(path.dirname(repoDir), { recursive: true });
    await runGit(['init', '--quiet', '--bare', `--initial-branch=${branch}`, repoDir]);
    created = true;
  }
  await applyRepoConfig(repoDir);
  return { created };
}

/** Settings every app repo carries in its own config file (idempotent). */
export async function applyRepoConfig(repoDir: string): Promise<void> {
  const settings: [string, string][] = [
    ['core.hooksPath', HOOKS_DIR],
    ['receive.advertisePushOptions', 'true'],
    ['receive.fsckObjects', 'true'],
  ];
  for (const [key, value] of settings) {
    await runGit(['--git-dir', repoDir, 'config', key, value]);
  }
}

/** The commit a ref or sha names in the repo, or undefined when it names none. */
export async function resolveCommit(repoDir: string, rev: string): Promise<string | undefined> {
  try {
    return (await runGit(['--git-dir', repoDir, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
  } catch {
    return undefined;
  }
}

/**
 * A file's text at a commit (or at the commit a tag points to), or undefined when it has no such
 * file. One git call: it runs on every push, before the deploy starts.
 */
export async function readFileAtCommit(repoDir: string, sha: string, file: string): Promise<string | undefined> {
  try {
    return await runGit(['--git-dir', repoDir, 'cat-file', 'blob', `${sha}:${file}`]);
  } catch {
    return undefined;
  }
}

/** Every branch of the repo with the commit it points at. */
export async function branchTips(repoDir: string): Promise<{ ref: string; sha: string }[]> {
  const out = await runGit(['--git-dir', repoDir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads']);
  return out.split('\n').filter(Boolean).map((line) => {
    const [ref, sha] = line.split(' ');
    return { ref, sha };
  });
}

/** The apps that exist: one bare repo `<app>.git` each under `reposDir`, sorted. */
export async function listAppNames(reposDir: string): Promise<string[]> {
  const entries = await fs.readdir(reposDir).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.git')).map((e) => e.slice(0, -4)).sort();
}
