import type { ReleaseRecord } from './release-store';

/** The release a rollback goes to: the given number, else the newest successful one before the live one. */
export function rollbackTarget(releases: ReleaseRecord[], number: number | undefined): ReleaseRecord {
  const successful = releases.filter((r) => r.result === 'live');
  const live = successful.at(-1);
  if (!live) throw new Error('this app has no successful release to roll back from');
  if (number !== undefined) {
    const wanted = releases.find((r) => r.number === number);
    if (!wanted) throw new Error(`there is no release ${number}`);
    if (wanted.result !== 'live') throw new Error(`release ${number} failed (${wanted.reason ?? 'no reason recorded'}); pick a successful one`);
    return wanted;
  }
  const previous = [...successful].reverse().find((r) => r.sha !== live.sha);
  if (!previous) throw new Error('there is no earlier successful release with another commit');
  return previous;
}
