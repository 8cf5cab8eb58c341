import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileAtCommit, resolveCommit } from '../../src/git/bare-repo';

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
  });
});
