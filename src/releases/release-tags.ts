import { runGit } from '../git/git-command';
import type { ReleaseRecord } from './release-store';

/** The git tag of a successful release, e.g. `release/v12`. */
export function releaseTagName(release: Pick<ReleaseRecord, 'number'>): string {
  return `release/v${release.number}`;
}

/** The annotated tag's message: what was deployed, when, by whom, how long it took. */
export function releaseTagMessage(release: ReleaseRecord): string {
  return [
    `${release.app} release ${release.number}: ${release.sha.slice(0, 7)} live`,
    '',
    `sha:      ${release.sha}`,
    `ref:      ${release.ref}`,
    `by:       ${release.pushedBy}`,
    `started:  ${release.startedAt}`,
    `duration: ${(release.durationMs / 1000).toFixed(1)} s`,
    ...(release.note ? [`note:     ${release.note}`] : []),
    '',
  ].join('\n');
}

/**
 * Records a successful release as an annotated tag in the app's bare repo, so `git fetch --tags`
 * shows the history. Safe to repeat: an existing tag is left as it is.
 */
export async function tagRelease(repoDir: string, release: ReleaseRecord): Promise<void> {
  const tag = releaseTagName(release);
  const existing = await runGit(['--git-dir', repoDir, 'tag', '--list', tag]);
  if (existing.trim() !== '') return;
  await runGit(['--git-dir', repoDir, '-c', 'user.name=slipway', '-c', 'user.email=slipway@localhost', 'tag', '-a', '-m', releaseTagMessage(release), tag, release.sha]);
}
