import { isValidRefName, SHA_PATTERN } from '../names';

/** One `old new ref` line git hands to a post-receive hook. */
export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

/**
 * Parses post-receive stdin. Lines that are not exactly `<sha> <sha> <ref>` are reported, not
 * guessed at: git always writes well-formed lines, so anything else means the hook was misused.
 */
export function parseRefUpdates(input: string): { updates: RefUpdate[]; malformed: string[] } {
  const updates: RefUpdate[] = [];
  const malformed: string[] = [];
  for (const line of input.split('\n')) {
    if (line.trim() === '') continue;
    const parts = line.trim().split(' ');
    const [oldSha, newSha, ref] = parts;
    if (parts.length !== 3 || !SHA_PATTERN.test(oldSha) || !SHA_PATTERN.test(newSha) || !isValidRefName(ref)) {
      malformed.push(line.slice(0, 300));
      continue;
    }
    updates.push({ oldSha, newSha, ref });
  }
  return { updates, malformed };
}

/** Which refs deploy, from the app's slipway.json at the pushed commit. */
export interface DeployRules {
  branch: string;
  /** Glob for release tags (`*` matches anything), e.g. `v*`. */
  tagPattern: string;
}

/** A ref update with the commit it points at (tags peeled) and the rules read at that commit. */
export interface PushCandidate {
  ref: string;
  /** The commit the ref now names; undefined for a deleted ref or a tag of a non-commit. */
  commit: string | undefined;
  rules: DeployRules;
}

/** What a push means for deploys: at most one deploy, and a reason for every ref that does not deploy. */
export interface PushDecision {
  deploy: { ref: string; sha: string } | undefined;
  skipped: { ref: string; reason: string }[];
}

/** True when `name` matches `pattern`, where `*` matches any run of characters. */
export function matchesTagPattern(name: string, pattern: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(name);
}

/**
 * Picks the one deploy of a push: the deploy branch moving to a commit, else a release tag.
 * A branch and a tag naming the same commit deploy once. Ref names are compared exactly
 * (`refs/heads/main00x` is not `main`).
 */
export function decidePush(candidates: PushCandidate[]): PushDecision {
  const skipped: { ref: string; reason: string }[] = [];
  const wanted: { ref: string; sha: string; isBranch: boolean }[] = [];
  for (const c of candidates) {
    const branch = c.ref.startsWith('refs/heads/') ? c.ref.slice('refs/heads/'.length) : undefined;
    const tag = c.ref.startsWith('refs/tags/') ? c.ref.slice('refs/tags/'.length) : undefined;
    if (branch !== undefined && branch !== c.rules.branch) {
      skipped.push({ ref: c.ref, reason: `not the deploy branch (${c.rules.branch}), not deployed` });
    } else if (tag !== undefined && !matchesTagPattern(tag, c.rules.tagPattern)) {
      skipped.push({ ref: c.ref, reason: `tag does not match the release pattern (${c.rules.tagPattern}), not deployed` });
    } else if (branch === undefined && tag === undefined) {
      skipped.push({ ref: c.ref, reason: 'neither a branch nor a tag, not deployed' });
    } else if (c.commit === undefined) {
      skipped.push({ ref: c.ref, reason: branch !== undefined ? 'branch deleted; the live version keeps serving' : 'tag deleted or not on a commit, not deployed' });
    } else {
      wanted.push({ ref: c.ref, sha: c.commit, isBranch: branch !== undefined });
    }
  }
  const chosen = wanted.find((w) => w.isBranch) ?? wanted[0];
  for (const w of wanted) {
    if (w === chosen) continue;
    skipped.push({ ref: w.ref, reason: w.sha === chosen.sha ? `same commit as ${chosen.ref}, deployed once` : `${chosen.ref} deploys in this push, not this ref` });
  }
  return { deploy: chosen ? { ref: chosen.ref, sha: chosen.sha } : undefined, skipped };
}
