import { isValidRefName, isZeroSha, SHA_PATTERN } from '../names';

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

/** What a push means for deploys: at most one deploy, and a reason for every ref that does not deploy. */
export interface PushDecision {
  deploy: RefUpdate | undefined;
  skipped: { ref: string; reason: string }[];
}

/**
 * Picks the update that deploys: the deploy branch moving to a commit. Ref names are compared
 * exactly (`refs/heads/main00x` is not `main`).
 */
export function decidePush(updates: RefUpdate[], deployBranch: string): PushDecision {
  const deployRef = `refs/heads/${deployBranch}`;
  const skipped: { ref: string; reason: string }[] = [];
  let deploy: RefUpdate | undefined;
  for (const update of updates) {
    if (update.ref !== deployRef) {
      skipped.push({ ref: update.ref, reason: `not the deploy branch (${deployBranch}), not deployed` });
    } else if (isZeroSha(update.newSha)) {
      skipped.push({ ref: update.ref, reason: 'branch deleted; the live version keeps serving' });
    } else {
      deploy = update;
    }
  }
  return { deploy, skipped };
}
