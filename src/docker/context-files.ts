import { promises as fs } from 'node:fs';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { GO_MODE, type FileStat } from './fsutil-packet';

/** What the builder asked for: the filters BuildKit sends with each file-sync request. */
export interface ContextFilter {
  /** Only paths matching these (Go `filepath.Match`, per path component) and their parents; none = all. */
  includePatterns: string[];
  /** `.dockerignore` patterns (with `!` exceptions). */
  excludePatterns: string[];
  /** Paths whose symlinks are followed: the link and its target (inside the context) are both sent. */
  followPaths: string[];
}

/** One entry of the listing, in the order the receiver expects. */
export interface ContextFile {
  /** Absolute path on this machine, for reading the content. */
  absolutePath: string;
  /** What is sent: path relative to the context root, with `/`; uid and gid 0, as the docker CLI sends them. */
  stat: FileStat;
}

/**
 * Lists a build context the way fsutil's walker does: depth first, each directory's entries in
 * byte order of their names (the receiver rejects any other order), filtered as the builder asked.
 * Regular files, directories and symlinks only (a symlink is sent as a link, never followed, unless
 * `followPaths` names it); the work tree's own `.git` is never sent.
 */
export async function listContextFiles(root: string, filter: ContextFilter): Promise<ContextFile[]> {
  const excluded = excludeMatcher(filter.excludePatterns);
  const includes = [...filter.includePatterns, ...(await followedPaths(root, filter.followPaths))];
  const files: ContextFile[] = [];

  async function walk(dir: string, relativeDir: string, included: boolean): Promise<boolean> {
    let sentAny = false;
    const names = (await fs.readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const relative = relativeDir === '' ? name : `${relativeDir}/${name}`;
      if (relative === '.git') continue;
      const absolute = path.join(dir, name);
      const info = await fs.lstat(absolute, { bigint: true });
      const match = included || includes.length === 0 ? 'all' : includeMatch(includes, relative);
      if (match === 'none') continue;
      const isDir = info.isDirectory();
      if (!isDir && !info.isFile() && !info.isSymbolicLink()) continue;
      const entry: ContextFile = { absolutePath: absolute, stat: await statOf(absolute, relative, info) };
      if (!isDir) {
        if (match === 'all' && !excluded.matches(relative)) {
          files.push(entry);
          sentAny = true;
        }
        continue;
      }
      const dirExcluded = excluded.matches(relative);
      if (dirExcluded && !excluded.mayReinclude(relative)) continue;
      // A directory goes before its entries, but only when it is sent itself or something in it is.
      const at = files.length;
      const sentInside = await walk(absolute, relative, match === 'all');
      if ((match === 'all' && !dirExcluded) || sentInside) {
        files.splice(at, 0, entry);
        sentAny = true;
      }
    }
    return sentAny;
  }

  await walk(root, '', false);
  return files;
}

async function statOf(absolute: string, relative: string, info: import('node:fs').BigIntStats): Promise<FileStat> {
  const unixMode = Number(info.mode);
  let mode = unixMode & 0o777;
  if (unixMode & 0o4000) mode += GO_MODE.setuid;
  if (unixMode & 0o2000) mode += GO_MODE.setgid;
  if (unixMode & 0o1000) mode += GO_MODE.sticky;
  const stat: FileStat = { path: relative, mode, uid: 0, gid: 0, size: 0, modTime: info.mtimeNs, linkname: '' };
  if (info.isDirectory()) stat.mode += GO_MODE.dir;
  else if (info.isSymbolicLink()) {
    stat.mode += GO_MODE.symlink;
    stat.linkname = await fs.readlink(absolute);
    stat.size = Number(info.size);
  } else stat.size = Number(info.size);
  return stat;
}

/** Docker's `.dockerignore` matching, and whether an excluded directory can hold re-included paths. */
function excludeMatcher(patterns: string[]): { matches(relative: string): boolean; mayReinclude(dir: string): boolean } {
  if (patterns.length === 0) return { matches: () => false, mayReinclude: () => false };
  const accepts = dockerignore({ ignorecase: false }).add(patterns).createFilter();
  // As fsutil: descend into an excluded directory only when an exception names a path inside it.
  const exceptions = patterns.filter((p) => p.startsWith('!')).map((p) => path.posix.normalize(p.slice(1).replace(/^\/+/, '')));
  return {
    matches: (relative) => !accepts(relative),
    mayReinclude: (dir) => exceptions.some((e) => e.startsWith(`${dir}/`)),
  };
}

/**
 * `all`: the path matches an include pattern (everything under it is included); `parent`: it is a
 * directory on the way to one; `none`: neither. Each pattern component is a Go `filepath.Match` glob.
 */
export function includeMatch(patterns: string[], relative: string): 'all' | 'parent' | 'none' {
  const parts = relative.split('/');
  let result: 'parent' | 'none' = 'none';
  for (const pattern of patterns) {
    const globs = pattern.replace(/^\/+/, '').split('/').filter((g) => g !== '' && g !== '.');
    const compared = Math.min(globs.length, parts.length);
    let ok = true;
    for (let i = 0; i < compared && ok; i++) ok = globMatches(globs[i] ?? '', parts[i] ?? '');
    if (!ok) continue;
    if (globs.length <= parts.length) return 'all';
    result = 'parent';
  }
  return result;
}

/** Go's `filepath.Match` for one path component: `*`, `?`, `[...]` (with `^` negation) and `\` escapes. */
export function globMatches(glob: string, name: string): boolean {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) source += escapeRegExp(glob[++i] ?? '');
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) return false; // Go: ErrBadPattern, which matches nothing.
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\]\\/]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 's').test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The targets of `followPaths` that are symlinks, as paths inside the context (fsutil's
 * FollowLinks). A target outside the context is not followed: nothing outside it is ever sent.
 */
async function followedPaths(root: string, followPaths: string[]): Promise<string[]> {
  const realRoot = await fs.realpath(root);
  const out: string[] = [];
  for (const p of followPaths) {
    const clean = path.posix.normalize(p.replace(/^\/+/, ''));
    if (clean.startsWith('..')) continue;
    out.push(clean);
    const target = await fs.realpath(path.join(root, clean)).catch(() => undefined);
    if (target === undefined) continue;
    const inside = path.relative(realRoot, target).split(path.sep).join('/');
    if (inside !== '' && !inside.startsWith('..') && !path.isAbsolute(inside) && inside !== clean) out.push(inside);
  }
  return out;
}
