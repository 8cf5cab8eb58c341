import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runGit, runGitBytes } from './git-command';

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

/** An object as `git cat-file --batch` prints it. */
export interface GitObject {
  oid: string;
  type: string;
  content: Buffer;
}

/**
 * The objects `names` name (`<rev>^{commit}`, `<rev>:<path>`, …), undefined for each that names
 * none, in ONE git process: reads run on every push, on the way to live, and each process start
 * holds the server's event loop for ~10 ms on a small VM.
 */
export async function readObjects(repoDir: string, names: string[]): Promise<(GitObject | undefined)[]> {
  // cat-file reads one name per line; no valid rev or path here has a line break.
  if (names.some((n) => /[\r\n]/.test(n))) throw new Error(`readObjects: a name with a line break: ${JSON.stringify(names)}`);
  const out = await runGitBytes(['--git-dir', repoDir, 'cat-file', '--batch'], { input: names.map((n) => `${n}\n`).join('') });
  const objects: (GitObject | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    const end = out.indexOf(0x0a, at);
    if (end < 0) throw new Error(`git cat-file --batch ended early (${i} of ${names.length} answers)`);
    const header = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(out.toString('utf8', at, end));
    at = end + 1;
    if (!header) {
      objects.push(undefined); // "<name> missing" or "<name> ambiguous"
      continue;
    }
    const size = Number(header[3]);
    objects.push({ oid: header[1], type: header[2], content: out.subarray(at, at + size) });
    at += size + 1;
  }
  return objects;
}

/** The commit a ref or sha names in the repo, or undefined when it names none. */
export async function resolveCommit(repoDir: string, rev: string): Promise<string | undefined> {
  const [commit] = await readObjectsOrNone(repoDir, [`${rev}^{commit}`]);
  return commit?.oid;
}

/** A file's text at a commit (or at the commit a tag points to), or undefined when it has no such file. */
export async function readFileAtCommit(repoDir: string, rev: string, file: string): Promise<string | undefined> {
  const [blob] = await readObjectsOrNone(repoDir, [`${rev}:${file}`]);
  return textOf(blob);
}

/** Both of the above for one rev, in one git process (the push handler's question on every push). */
export async function readCommitAndFile(repoDir: string, rev: string, file: string): Promise<{ commit?: string; text?: string }> {
  const [commit, blob] = await readObjectsOrNone(repoDir, [`${rev}^{commit}`, `${rev}:${file}`]);
  return { commit: commit?.oid, text: commit === undefined ? undefined : textOf(blob) };
}

/** {@link readObjects}, with nothing found when git cannot read the repo at all. */
async function readObjectsOrNone(repoDir: string, names: string[]): Promise<(GitObject | undefined)[]> {
  return readObjects(repoDir, names).catch(() => names.map(() => undefined));
}

function textOf(object: GitObject | undefined): string | undefined {
  return object?.type === 'blob' ? object.content.toString('utf8') : undefined;
}

/** Every branch of the repo with the commit it points at. */
export async function branchTips(repoDir: string): Promise<{ ref: string; sha: string }[]> {
  const out = await runGit(['--git-dir', repoDir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [ref, sha] = line.split(' ');
      return { ref, sha };
    });
}

/** The apps that exist: one bare repo `<app>.git` each under `reposDir`, sorted. */
export async function listAppNames(reposDir: string): Promise<string[]> {
  const entries = await fs.readdir(reposDir).catch(() => [] as string[]);
  return entries
    .filter((e) => e.endsWith('.git'))
    .map((e) => e.slice(0, -4))
    .sort();
}

/** One ref move, as a push made it. */
export interface RefMove {
  ref: string;
  oldSha: string;
  newSha: string;
}

/**
 * The `git update-ref` that undoes `move` only if the ref is still where the push left it (a
 * compare-and-swap): back to its old commit, or deleted when the push created it.
 */
export function undoRefMoveArgs(repoDir: string, move: RefMove): string[] {
  const zero = /^0+$/.test(move.oldSha);
  return zero ? ['--git-dir', repoDir, 'update-ref', '-d', move.ref, move.newSha] : ['--git-dir', repoDir, 'update-ref', move.ref, move.oldSha, move.newSha];
}

/** Undoes a push's ref move (see {@link undoRefMoveArgs}); false when a newer push has moved the ref since, which then stays. */
export async function undoRefMove(repoDir: string, move: RefMove): Promise<boolean> {
  try {
    await runGit(undoRefMoveArgs(repoDir, move));
    return true;
  } catch (err) {
    const [now] = await readObjectsOrNone(repoDir, [move.ref]);
    if (now?.oid !== move.newSha) return false;
    throw err;
  }
}
