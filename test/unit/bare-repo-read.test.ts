import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCommitAndFile, readFileAtCommit, readObjects, resolveCommit } from '../../src/git/bare-repo';

const run = promisify(execFile);

describe('reading a pushed commit', () => {
  let root: string;
  let bare: string;
  let commit: string;
  let tagObject: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-read-'));
    const src = path.join(root, 'src');
    const git = async (args: string[]) => (await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: src })).stdout.trim();
    await fs.mkdir(path.join(src, 'conf'), { recursive: true });
    await fs.writeFile(path.join(src, 'slipway.json'), '{"watch": 3}\n');
    await fs.writeFile(path.join(src, 'conf', 'x'), 'x');
    await fs.writeFile(path.join(src, 'conf', 'é.txt'), 'déjà ✓\n');
    await git(['init', '-q', '-b', 'main']);
    await git(['add', '-A']);
    await git(['commit', '-qm', 'one']);
    await git(['tag', '-a', '-m', 'release', 'v1']);
    commit = await git(['rev-parse', 'HEAD']);
    tagObject = await git(['rev-parse', 'v1']);
    bare = path.join(root, 'app.git');
    await run('git', ['clone', '-q', '--bare', src, bare]);
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('reads a file at a commit, and through an annotated tag', async () => {
    expect(tagObject).not.toBe(commit);
    expect(await readFileAtCommit(bare, commit, 'slipway.json')).toBe('{"watch": 3}\n');
    expect(await readFileAtCommit(bare, tagObject, 'slipway.json')).toBe('{"watch": 3}\n');
    expect(await resolveCommit(bare, tagObject)).toBe(commit);
  });

  it('says undefined for a missing file, a directory, or an unknown commit', async () => {
    expect(await readFileAtCommit(bare, commit, 'nope.json')).toBeUndefined();
    expect(await readFileAtCommit(bare, commit, 'conf')).toBeUndefined();
    expect(await readFileAtCommit(bare, 'f'.repeat(40), 'slipway.json')).toBeUndefined();
    expect(await resolveCommit(bare, 'f'.repeat(40))).toBeUndefined();
    expect(await resolveCommit(path.join(root, 'no-such.git'), commit)).toBeUndefined();
  });

  it('answers several names with one git process, in order, sizes in bytes', async () => {
    expect(await readCommitAndFile(bare, tagObject, 'slipway.json')).toEqual({ commit, text: '{"watch": 3}\n' });
    expect(await readCommitAndFile(bare, commit, 'nope.json')).toEqual({ commit, text: undefined });
    expect(await readCommitAndFile(bare, 'f'.repeat(40), 'slipway.json')).toEqual({ commit: undefined, text: undefined });
    const [missing, multibyte, file, tree] = await readObjects(bare, [`${commit}:nope`, `${commit}:conf/é.txt`, `${commit}:conf/x`, `${commit}:conf`]);
    expect(missing).toBeUndefined();
    expect(multibyte?.content.toString('utf8')).toBe('déjà ✓\n');
    expect(file).toMatchObject({ type: 'blob', content: Buffer.from('x') });
    expect(tree?.type).toBe('tree');
    await expect(readObjects(bare, ['HEAD\nHEAD'])).rejects.toThrow(/line break/);
  });
});
