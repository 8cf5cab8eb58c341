import { execFileSync } from 'node:child_process';
import fsSync, { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { globMatches, includeMatch, listContextFiles, type ContextFilter } from '../../src/docker/context-files';
import { GO_MODE } from '../../src/docker/fsutil-packet';

let root: string;
let outside: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-ctxfiles-'));
  outside = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-ctxfiles-out-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
  await fs.rm(outside, { recursive: true, force: true });
});

/** Writes `relative` under the root, creating its directories. */
async function write(relative: string, content = relative): Promise<void> {
  await fs.mkdir(path.dirname(path.join(root, relative)), { recursive: true });
  await fs.writeFile(path.join(root, relative), content);
}

async function paths(filter: Partial<ContextFilter> = {}): Promise<string[]> {
  const files = await listContextFiles(root, { includePatterns: [], excludePatterns: [], followPaths: [], ...filter });
  return files.map((f) => f.stat.path);
}

describe('listContextFiles order', () => {
  it('lists depth first, names in byte order, each directory before its contents', async () => {
    for (const name of ['ab', 'a.b', 'a-b', 'B', 'a/x', 'a/Z', 'a/_m', 'c/d/e']) await write(name);
    expect(await paths()).toEqual(['B', 'a', 'a/Z', 'a/_m', 'a/x', 'a-b', 'a.b', 'ab', 'c', 'c/d', 'c/d/e']);
  });
  it('lists an empty directory and nothing for an empty root', async () => {
    expect(await paths()).toEqual([]);
    await fs.mkdir(path.join(root, 'empty'));
    expect(await paths()).toEqual(['empty']);
  });
  it('never lists the root .git, but does list .github and a nested .git', async () => {
    await write('.git/HEAD');
    await write('.github/ci.yml');
    await write('.gitignore');
    await write('sub/.git/HEAD');
    expect(await paths()).toEqual(['.github', '.github/ci.yml', '.gitignore', 'sub', 'sub/.git', 'sub/.git/HEAD']);
  });
  it('leaves out fifos', async () => {
    await write('a.txt');
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    expect(await paths()).toEqual(['a.txt']);
  });
});

describe('listContextFiles stats', () => {
  it('gives a file its perm bits, size, nanosecond mtime, uid and gid 0 and its absolute path', async () => {
    await write('dir/f.txt', 'hello');
    const file = path.join(root, 'dir', 'f.txt');
    await fs.chmod(file, 0o640);
    // Nanoseconds a millisecond or float round trip would lose.
    execFileSync('touch', ['-d', '@1700000000.123456789', file]);
    const [, entry] = await listContextFiles(root, { includePatterns: [], excludePatterns: [], followPaths: [] });
    expect(entry?.absolutePath).toBe(file);
    expect(entry?.stat).toEqual({ path: 'dir/f.txt', mode: 0o640, uid: 0, gid: 0, size: 5, modTime: fsSync.lstatSync(file, { bigint: true }).mtimeNs, linkname: '' });
    expect(entry?.stat.modTime).toBe(1_700_000_000_123_456_789n);
  });
  it('gives a directory the Go dir bit and no size', async () => {
    await write('d/inner', 'some content');
    await fs.chmod(path.join(root, 'd'), 0o750);
    const [entry] = await listContextFiles(root, { includePatterns: [], excludePatterns: [], followPaths: [] });
    expect(entry?.stat).toEqual({
      path: 'd',
      mode: GO_MODE.dir + 0o750,
      uid: 0,
      gid: 0,
      size: 0,
      modTime: fsSync.lstatSync(path.join(root, 'd'), { bigint: true }).mtimeNs,
      linkname: '',
    });
  });
  it('gives a symlink the Go symlink bit, its target as linkname and size, without following it', async () => {
    await write('target/file.txt', 'content of the target');
    await fs.symlink('target', path.join(root, 'link'));
    const files = await listContextFiles(root, { includePatterns: [], excludePatterns: [], followPaths: [] });
    expect(files.map((f) => f.stat.path)).toEqual(['link', 'target', 'target/file.txt']);
    expect(files[0]?.stat).toEqual({
      path: 'link',
      mode: GO_MODE.symlink + 0o777,
      uid: 0,
      gid: 0,
      size: 'target'.length,
      modTime: fsSync.lstatSync(path.join(root, 'link'), { bigint: true }).mtimeNs,
      linkname: 'target',
    });
  });
  it('maps setuid, setgid and sticky to their Go bits, not the Unix ones', async () => {
    await write('tool');
    await fs.mkdir(path.join(root, 'shared'));
    await fs.chmod(path.join(root, 'tool'), 0o6755);
    await fs.chmod(path.join(root, 'shared'), 0o1777);
    const files = await listContextFiles(root, { includePatterns: [], excludePatterns: [], followPaths: [] });
    const modes = Object.fromEntries(files.map((f) => [f.stat.path, f.stat.mode]));
    expect(modes).toEqual({ shared: GO_MODE.dir + GO_MODE.sticky + 0o777, tool: GO_MODE.setuid + GO_MODE.setgid + 0o755 });
  });
});

describe('listContextFiles excludes', () => {
  it('follows .dockerignore semantics, with exceptions', async () => {
    for (const name of ['app.js', 'a.log', 'keep.log', 'sub/b.log', 'node_modules/x/index.js', 'secret']) await write(name);
    const excludePatterns = ['*.log', '!keep.log', 'node_modules', '/secret'];
    expect(await paths({ excludePatterns })).toEqual(['app.js', 'keep.log', 'sub', 'sub/b.log']);
  });
  it('descends an excluded directory only for an exception inside it, listing it only if something is', async () => {
    for (const name of ['build/keep.txt', 'build/other.txt', 'build/deep/x', 'app.js']) await write(name);
    expect(await paths({ excludePatterns: ['build', '!build/keep.txt'] })).toEqual(['app.js', 'build', 'build/keep.txt']);
    expect(await paths({ excludePatterns: ['build', '!build/missing.txt'] })).toEqual(['app.js']);
    expect(await paths({ excludePatterns: ['build', '!build/deep/x'] })).toEqual(['app.js', 'build', 'build/deep', 'build/deep/x']);
    expect(await paths({ excludePatterns: ['build', '!/build/keep.txt'] })).toEqual(['app.js', 'build', 'build/keep.txt']);
    expect(await paths({ excludePatterns: ['build', '!build/deep'] })).toEqual(['app.js', 'build', 'build/deep', 'build/deep/x']);
  });
  it('re-includes only what a wildcard exception inside the directory matches', async () => {
    for (const name of ['build/a.txt', 'build/b.md', 'build/sub/c.txt', 'build-other/d.txt']) await write(name);
    expect(await paths({ excludePatterns: ['build*', '!build/*.txt'] })).toEqual(['build', 'build/a.txt']);
  });
  it('descends an excluded directory for a wildcard exception, as fsutil does', async () => {
    for (const name of ['docs/README.md', 'docs/other.md', 'app.js']) await write(name);
    expect(await paths({ excludePatterns: ['docs', '!**/README.md'] })).toEqual(['app.js', 'docs', 'docs/README.md']);
  });
  it('keeps a re-included directory and everything in it', async () => {
    for (const name of ['Dockerfile', 'src/a.js', 'src/deep/b.js', 'docs/x.md']) await write(name);
    expect(await paths({ excludePatterns: ['*', '!src'] })).toEqual(['src', 'src/a.js', 'src/deep', 'src/deep/b.js']);
  });
});

describe('listContextFiles includes', () => {
  beforeEach(async () => {
    for (const name of ['Dockerfile', '.dockerignore', 'src/a.js', 'src/b.js', 'src/c.txt', 'src/lib/d.js', 'src/x.js/inner.txt', 'docs/readme.txt']) await write(name);
  });
  it('lists only the matches and the directories on their way', async () => {
    expect(await paths({ includePatterns: ['Dockerfile', '.dockerignore'] })).toEqual(['.dockerignore', 'Dockerfile']);
    expect(await paths({ includePatterns: ['src/*.js'] })).toEqual(['src', 'src/a.js', 'src/b.js', 'src/x.js', 'src/x.js/inner.txt']);
  });
  it('lists a directory on the way only when something inside is included', async () => {
    expect(await paths({ includePatterns: ['src/*.go', 'docs/*.md'] })).toEqual([]);
    expect(await paths({ includePatterns: ['src/lib/*.js'] })).toEqual(['src', 'src/lib', 'src/lib/d.js']);
  });
  it('includes everything under a fully matched directory', async () => {
    expect(await paths({ includePatterns: ['/src'] })).toEqual(['src', 'src/a.js', 'src/b.js', 'src/c.txt', 'src/lib', 'src/lib/d.js', 'src/x.js', 'src/x.js/inner.txt']);
  });
  it('applies the excludes to what the includes let through', async () => {
    expect(await paths({ includePatterns: ['src'], excludePatterns: ['src/*.txt', 'src/lib'] })).toEqual(['src', 'src/a.js', 'src/b.js', 'src/x.js', 'src/x.js/inner.txt']);
  });
});

describe('listContextFiles followPaths', () => {
  it('lists a followed symlink and its target inside the context', async () => {
    await write('docker/Dockerfile.real', 'FROM scratch\n');
    await write('other.txt');
    await fs.symlink('docker/Dockerfile.real', path.join(root, 'Dockerfile'));
    const files = await listContextFiles(root, { includePatterns: ['Dockerfile'], excludePatterns: [], followPaths: ['Dockerfile'] });
    expect(files.map((f) => f.stat.path)).toEqual(['Dockerfile', 'docker', 'docker/Dockerfile.real']);
    expect(files[0]?.stat.linkname).toBe('docker/Dockerfile.real');
    expect(files[0]?.stat.mode).toBe(GO_MODE.symlink + 0o777);
    expect(files[2]?.stat.size).toBe('FROM scratch\n'.length);
  });
  it('follows a relative link out of a subdirectory to the rest of the context', async () => {
    await write('real.txt');
    await write('zzz.txt');
    await fs.mkdir(path.join(root, 'sub'));
    await fs.symlink('../real.txt', path.join(root, 'sub', 'link'));
    expect(await paths({ followPaths: ['sub/link'] })).toEqual(['real.txt', 'sub', 'sub/link']);
  });
  it('lists every link of a chain of symlinks, as fsutil FollowLinks does', async () => {
    await write('real/Dockerfile', 'FROM scratch\n');
    await fs.symlink('real/Dockerfile', path.join(root, 'middle'));
    await fs.symlink('middle', path.join(root, 'Dockerfile'));
    // Without `middle` the receiver holds a Dockerfile link that points at nothing.
    expect(await paths({ includePatterns: ['Dockerfile'], followPaths: ['Dockerfile'] })).toEqual(['Dockerfile', 'middle', 'real', 'real/Dockerfile']);
  });
  it('lists a symlinked directory on the way to a followed path', async () => {
    await write('config/Dockerfile', 'FROM scratch\n');
    await fs.symlink('config', path.join(root, 'cfg'));
    // The builder reads cfg/Dockerfile: it needs the cfg link as well as what it points to.
    expect(await paths({ includePatterns: ['cfg/Dockerfile'], followPaths: ['cfg/Dockerfile'] })).toEqual(['cfg', 'config', 'config/Dockerfile']);
  });
  it('does not list a symlink target without followPaths', async () => {
    await write('docker/Dockerfile.real');
    await fs.symlink('docker/Dockerfile.real', path.join(root, 'Dockerfile'));
    expect(await paths({ includePatterns: ['Dockerfile'] })).toEqual(['Dockerfile']);
  });
  it('never lists a target outside the context', async () => {
    await fs.writeFile(path.join(outside, 'secret'), 'secret');
    await fs.symlink(path.join(outside, 'secret'), path.join(root, 'ext'));
    await write('inside.txt');
    const files = await listContextFiles(root, { includePatterns: ['ext'], excludePatterns: [], followPaths: ['ext'] });
    expect(files.map((f) => f.stat.path)).toEqual(['ext']);
    expect(files.every((f) => f.absolutePath.startsWith(root + path.sep))).toBe(true);
    expect(await paths({ includePatterns: ['inside.txt'], followPaths: ['../x', 'ext'] })).toEqual(['ext', 'inside.txt']);
  });
});

describe('includeMatch', () => {
  it('says all for a match or anything under it', () => {
    expect(includeMatch(['src/*.js'], 'src/a.js')).toBe('all');
    expect(includeMatch(['src/*.js'], 'src/a.js/inner/x')).toBe('all');
    expect(includeMatch(['/src/', './lib'], 'src')).toBe('all');
    expect(includeMatch(['./lib'], 'lib/x')).toBe('all');
  });
  it('says parent for a directory on the way to a pattern', () => {
    expect(includeMatch(['src/*.js'], 'src')).toBe('parent');
    expect(includeMatch(['*/lib/x'], 'pkg/lib')).toBe('parent');
  });
  it('says none when no component path fits', () => {
    expect(includeMatch(['src/*.js'], 'src/a.txt')).toBe('none');
    expect(includeMatch(['src/*.js'], 'lib')).toBe('none');
    expect(includeMatch([], 'anything')).toBe('none');
  });
  it('prefers all over parent across patterns', () => {
    expect(includeMatch(['src/lib/x', 'src'], 'src')).toBe('all');
    expect(includeMatch(['src', 'src/lib/x'], 'src/lib')).toBe('all');
  });
});

describe('globMatches', () => {
  it('matches * within one component only', () => {
    expect(globMatches('*.js', 'a.js')).toBe(true);
    expect(globMatches('*.js', '.js')).toBe(true);
    expect(globMatches('*', '.hidden')).toBe(true);
    expect(globMatches('*.js', 'a.jsx')).toBe(false);
    expect(globMatches('a*b', 'a/b')).toBe(false);
    expect(globMatches('*', 'a/b')).toBe(false);
  });
  it('matches ? to exactly one character', () => {
    expect(globMatches('a?c', 'abc')).toBe(true);
    expect(globMatches('a?c', 'ac')).toBe(false);
    expect(globMatches('a?c', 'abbc')).toBe(false);
    expect(globMatches('a?c', 'a/c')).toBe(false);
  });
  it('matches character classes, ranges and ^ negation', () => {
    expect(globMatches('[a-c]x', 'bx')).toBe(true);
    expect(globMatches('[a-c]x', 'dx')).toBe(false);
    expect(globMatches('[xyz]', 'y')).toBe(true);
    expect(globMatches('[^a]', 'b')).toBe(true);
    expect(globMatches('[^a]', 'a')).toBe(false);
    expect(globMatches('[^a-c]', 'b')).toBe(false);
    // Go has no ! negation: [!a] is the set of ! and a.
    expect(globMatches('[!a]', 'b')).toBe(false);
    expect(globMatches('[!a]', '!')).toBe(true);
  });
  it('treats a backslash as an escape and other characters literally', () => {
    expect(globMatches('\\*', '*')).toBe(true);
    expect(globMatches('\\*', 'a')).toBe(false);
    expect(globMatches('\\?', 'a')).toBe(false);
    expect(globMatches('a.b', 'axb')).toBe(false);
    expect(globMatches('a+(b)|$', 'a+(b)|$')).toBe(true);
    expect(globMatches('a+b', 'aab')).toBe(false);
  });
  it('matches nothing with an unterminated class', () => {
    expect(globMatches('[abc', 'a')).toBe(false);
    expect(globMatches('[abc', '[abc')).toBe(false);
  });
  it('matches nothing with the other malformed patterns Go rejects', () => {
    // filepath.Match returns ErrBadPattern for each of these.
    expect(globMatches('[]a]', 'a')).toBe(false);
    expect(globMatches('[a-]', 'a')).toBe(false);
    expect(globMatches('a\\', 'a\\')).toBe(false);
  });
  it('reads a backslash inside a class as an escape', () => {
    // Go: [\]] is the set holding ], and [\-] the set holding only -.
    expect(globMatches('[\\]]', ']')).toBe(true);
    expect(globMatches('[\\-]', '\\')).toBe(false);
  });
  it('matches ? to one character outside the Basic Multilingual Plane', () => {
    // Go's ? matches one rune; an emoji is one rune but two UTF-16 code units.
    expect(globMatches('?', '\u{1F600}')).toBe(true);
    expect(globMatches('?.txt', '\u{1F600}.txt')).toBe(true);
  });
});
