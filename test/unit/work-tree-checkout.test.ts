import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutWorkTree, removeWorkTree, settleWorkTree, workTreeGitDir } from '../../src/git/checkout';

const run = promisify(execFile);
const git = async (cwd: string, args: string[]) => (await run('git', args, { cwd })).stdout.trim();

/** Files under `dir` (relative, sorted), without `.git`, with their content. */
async function filesOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const name = path.join(rel, entry.name);
      if (name === '.git') continue;
      if (entry.isDirectory()) await walk(name);
      else out[name] = await fs.readFile(path.join(dir, name), 'utf8');
    }
  };
  await walk('');
  return out;
}

describe('the build work tree', () => {
  let root: string;
  let bare: string;
  let first: string;
  let second: string;
  const tree = () => path.join(root, 'worktrees', 'shop');

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-worktree-'));
    const src = path.join(root, 'src');
    await fs.mkdir(path.join(src, 'lib'), { recursive: true });
    await git(src, ['init', '-q', '-b', 'main']);
    await fs.writeFile(path.join(src, 'app.js'), 'v1');
    await fs.writeFile(path.join(src, 'lib', 'old.js'), 'old');
    await fs.writeFile(path.join(src, '.gitignore'), 'ignored.txt\n');
    await git(src, ['add', '-A']);
    await git(src, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one']);
    first = await git(src, ['rev-parse', 'HEAD']);
    await fs.writeFile(path.join(src, 'app.js'), 'v2');
    await fs.rm(path.join(src, 'lib'), { recursive: true });
    await fs.writeFile(path.join(src, 'new.js'), 'new');
    await git(src, ['add', '-A']);
    await git(src, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'two']);
    second = await git(src, ['rev-parse', 'HEAD']);
    bare = path.join(root, 'shop.git');
    await run('git', ['clone', '-q', '--bare', src, bare]);
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('holds exactly the commit, whatever was left in it, in both directions', async () => {
    await checkoutWorkTree(bare, first, tree());
    expect(await filesOf(tree())).toEqual({ 'app.js': 'v1', [path.join('lib', 'old.js')]: 'old', '.gitignore': 'ignored.txt\n' });
    // Leftovers of an interrupted build: a changed file, an untracked one, an ignored one.
    await fs.writeFile(path.join(tree(), 'app.js'), 'edited');
    await fs.writeFile(path.join(tree(), 'stray.txt'), 'x');
    await fs.writeFile(path.join(tree(), 'ignored.txt'), 'x');
    await checkoutWorkTree(bare, second, tree());
    expect(await filesOf(tree())).toEqual({ 'app.js': 'v2', 'new.js': 'new', '.gitignore': 'ignored.txt\n' });
    await settleWorkTree(tree());
    await checkoutWorkTree(bare, first, tree());
    expect(await filesOf(tree())).toEqual({ 'app.js': 'v1', [path.join('lib', 'old.js')]: 'old', '.gitignore': 'ignored.txt\n' });
  });

  it('keeps its git data outside the tree (the build context is the commit alone); a 0.1.0 tree with .git inside is cloned afresh', async () => {
    await checkoutWorkTree(bare, first, tree());
    expect(await fs.readdir(tree())).not.toContain('.git');
    expect(workTreeGitDir(tree())).toBe(path.join(root, 'worktrees', '.git', 'shop'));
    await removeWorkTree(tree());
    await run('git', ['clone', '-q', bare, tree()]);
    await checkoutWorkTree(bare, second, tree());
    expect(await fs.readdir(tree())).not.toContain('.git');
    expect(await filesOf(tree())).toEqual({ 'app.js': 'v2', 'new.js': 'new', '.gitignore': 'ignored.txt\n' });
    await removeWorkTree(tree());
    expect(await fs.readdir(path.join(root, 'worktrees', '.git'))).toEqual([]);
  });

  it('starts afresh from a work tree a crash left unusable (a stale index.lock)', async () => {
    await checkoutWorkTree(bare, first, tree());
    await fs.writeFile(path.join(workTreeGitDir(tree()), 'index.lock'), '');
    await checkoutWorkTree(bare, second, tree());
    expect(await filesOf(tree())).toEqual({ 'app.js': 'v2', 'new.js': 'new', '.gitignore': 'ignored.txt\n' });
  });

  it('starts afresh from a directory that is not a work tree', async () => {
    await fs.rm(tree(), { recursive: true, force: true });
    await fs.mkdir(tree(), { recursive: true });
    await fs.writeFile(path.join(tree(), 'junk'), 'x');
    await checkoutWorkTree(bare, first, tree());
    expect(await filesOf(tree())).toEqual({ 'app.js': 'v1', [path.join('lib', 'old.js')]: 'old', '.gitignore': 'ignored.txt\n' });
  });
});
