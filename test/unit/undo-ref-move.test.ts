import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undoRefMove, undoRefMoveArgs } from '../../src/git/bare-repo';

const run = promisify(execFile);
const ZERO = '0'.repeat(40);

describe("putting a failed deploy's ref back (compare-and-swap)", () => {
  let root: string;
  let bare: string;
  const shas: string[] = [];
  const refOf = async (ref: string) => (await run('git', ['--git-dir', bare, 'rev-parse', '-q', '--verify', ref]).catch(() => ({ stdout: '' }))).stdout.trim();
  const setRef = (ref: string, sha: string) => run('git', ['--git-dir', bare, 'update-ref', ref, sha]);

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-undo-ref-'));
    const src = path.join(root, 'src');
    await fs.mkdir(src);
    const git = async (args: string[]) => (await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: src })).stdout.trim();
    await git(['init', '-q', '-b', 'main']);
    for (const n of [1, 2, 3]) {
      await git(['commit', '-q', '--allow-empty', '-m', `c${n}`]);
      shas.push(await git(['rev-parse', 'HEAD']));
    }
    bare = path.join(root, 'app.git');
    await run('git', ['clone', '-q', '--bare', src, bare]);
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('builds update-ref with the expected old value, or a guarded delete for a created ref', () => {
    expect(undoRefMoveArgs('/r.git', { ref: 'refs/heads/main', oldSha: 'a'.repeat(40), newSha: 'b'.repeat(40) })).toEqual([
      '--git-dir',
      '/r.git',
      'update-ref',
      'refs/heads/main',
      'a'.repeat(40),
      'b'.repeat(40),
    ]);
    expect(undoRefMoveArgs('/r.git', { ref: 'refs/tags/v1', oldSha: ZERO, newSha: 'b'.repeat(40) })).toEqual(['--git-dir', '/r.git', 'update-ref', '-d', 'refs/tags/v1', 'b'.repeat(40)]);
  });

  it('moves the ref back when it is where the push left it', async () => {
    await setRef('refs/heads/main', shas[1]);
    expect(await undoRefMove(bare, { ref: 'refs/heads/main', oldSha: shas[0], newSha: shas[1] })).toBe(true);
    expect(await refOf('refs/heads/main')).toBe(shas[0]);
  });

  it('leaves it where a newer push moved it', async () => {
    await setRef('refs/heads/main', shas[2]);
    expect(await undoRefMove(bare, { ref: 'refs/heads/main', oldSha: shas[0], newSha: shas[1] })).toBe(false);
    expect(await refOf('refs/heads/main')).toBe(shas[2]);
  });

  it('deletes a ref the push created, unless it moved since', async () => {
    await setRef('refs/heads/feature', shas[1]);
    expect(await undoRefMove(bare, { ref: 'refs/heads/feature', oldSha: ZERO, newSha: shas[1] })).toBe(true);
    expect(await refOf('refs/heads/feature')).toBe('');
    await setRef('refs/heads/feature', shas[2]);
    expect(await undoRefMove(bare, { ref: 'refs/heads/feature', oldSha: ZERO, newSha: shas[1] })).toBe(false);
    expect(await refOf('refs/heads/feature')).toBe(shas[2]);
  });
});
