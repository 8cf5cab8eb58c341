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
  // As fsutil: descend into an excluded directory only when an exception may name a path inside
  // it (it starts with the directory, or has a wildcard that could).
  const exceptions = patterns.filter((p) => p.startsWith('!')).map((p) => path.posix.normalize(p.slice(1).replace(/^\/+/, '')));
  return {
    matches: (relative) => !accepts(relative),
    mayReinclude: (dir) => exceptions.some((e) => e.startsWith(`${dir}/`) || /[*?[]/.test(e)),
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

/**
 * Go's `filepath.Match` for one path component: `*`, `?`, `[...]` classes (with `^` negation and
 * `\` escapes) and `\` escapes. A pattern Go rejects (unterminated or empty class, a bare `-` or
 * `]` in a class, a trailing `\`) matches nothing, as it does for fsutil, which ignores the error.
 */
export function globMatches(glob: string, name: string): boolean {
  const source = globSource(Array.from(glob));
  return source !== undefined && new RegExp(`^${source}$`, 'su').test(name);
}

function globSource(chars: string[]): string | undefined {
  let out = '';
  let i = 0;
  // One character of a class, `\`-escaped or not; `-` and `]` must be escaped there.
  const classChar = (): number | undefined => {
    let c = chars[i];
    if (c === undefined || c === '-' || c === ']') return undefined;
    if (c === '\\') c = chars[++i];
    i++;
    return c?.codePointAt(0);
  };
  while (i < chars.length) {
    const c = chars[i++];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      const next = chars[i++];
      if (next === undefined) return undefined;
      out += codePoint(next.codePointAt(0) as number);
    } else if (c === '[') {
      const negated = chars[i] === '^';
      if (negated) i++;
      const ranges: string[] = [];
      let count = 0;
      for (;;) {
        if (chars[i] === ']' && count > 0) break;
        const lo = classChar();
        if (lo === undefined) return undefined;
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          const end = classChar();
          if (end === undefined) return undefined;
          hi = end;
        }
        count++;
        // Go's lo..hi with lo > hi matches nothing; a RegExp would refuse it.
        if (lo <= hi) ranges.push(`${codePoint(lo)}-${codePoint(hi)}`);
      }
      i++;
      if (ranges.length === 0) out += negated ? '.' : '(?!)';
      else out += `[${negated ? '^' : ''}${ranges.join('')}]`;
    } else out += codePoint(c.codePointAt(0) as number);
  }
  return out;
}

function codePoint(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/**
 * What `followPaths` adds to the include patterns, as fsutil's FollowLinks does: each path, and
 * for every symlink met on the way to it (the path itself or a directory above it) the link and
 * then the path through its target, so the receiver can resolve it. Link targets are resolved
 * inside the context: an absolute target is taken from the context root and `..` stops there, as
 * BuildKit resolves them, so nothing outside the context is ever named.
 */
async function followedPaths(root: string, followPaths: string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const p of followPaths) {
    let current = path.posix.join('/', p).slice(1);
    // A link loop is cut off where the kernel gives up too.
    for (let hops = 0; hops < 40 && current !== ''; hops++) {
      out.add(current);
      const link = await firstSymlink(root, current);
      if (link === undefined) break;
      out.add(link.path);
      current = path.posix.join('/', link.target.startsWith('/') ? '' : path.posix.dirname(link.path), link.target, link.rest).slice(1);
    }
  }
  return [...out];
}

/** The first component of `relative` (a path in the context) that is a symlink, with its target and the path after it. */
async function firstSymlink(root: string, relative: string): Promise<{ path: string; target: string; rest: string } | undefined> {
  const parts = relative.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const info = await fs.lstat(path.join(root, prefix)).catch(() => undefined);
    if (info === undefined) return undefined;
    if (info.isSymbolicLink()) return { path: prefix, target: await fs.readlink(path.join(root, prefix)), rest: parts.slice(i).join('/') };
  }
  return undefined;
}
