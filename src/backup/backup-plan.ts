/**
 * What `slipway backup` puts in its tarball, and the `tar` command that writes it. Pure: the
 * command that runs it is src/cli/backup-command.ts.
 *
 * The backup is everything under SLIPWAY_HOME that slipway cannot make again, chosen by leaving
 * out what it can (so a state file a later release adds is backed up without a change here):
 * app configs and env (apps/), release records (releases/), deploy logs (deploys/), tokens
 * (token, tokens.json), port maps (apache/) and whatever else lies at the top of the home.
 */

/** Top-level entries of SLIPWAY_HOME a backup never holds, and why. */
export const NOT_BACKED_UP: Readonly<Record<string, string>> = {
  // The queue's Redis (embedded AOF): only deploys in flight and their progress. Every record
  // that outlives a deploy is a file; a copy of a live AOF is not a consistent snapshot, and an
  // old queue restored would replay old deploys. On start slipway queues any pushed commit that
  // never got a release.
  redis: 'the queue (deploys in flight), rebuilt on start',
  // Sockets and the pointer to a running process: meaningless once that process is gone.
  run: "the running server's sockets",
  'runtime.json': 'where the running server is, rewritten on start',
  // Build checkouts, made again from the repos on the next deploy.
  worktrees: 'build checkouts, made again from the repos',
};

/** The app repos (their git objects): only with `--with-repos`. */
export const REPOS_ENTRY = 'repos';

/**
 * The top-level entries of the home to archive, sorted: all of `entries` except those in
 * {@link NOT_BACKED_UP}, temp files of atomic writes (`.*.tmp`), and the repos unless `withRepos`.
 */
export function backupMembers(entries: readonly string[], options: { withRepos: boolean }): string[] {
  return entries
    .filter((name) => !(name in NOT_BACKED_UP))
    .filter((name) => !(name.startsWith('.') && name.endsWith('.tmp')))
    .filter((name) => options.withRepos || name !== REPOS_ENTRY)
    .sort();
}

/**
 * `tar` arguments that write a gzipped archive of `members` (names relative to `home`, directories
 * archived whole) to `file`. The members come after `--`, so no name is ever read as an option.
 */
export function tarCreateArgs(home: string, members: readonly string[], file: string): string[] {
  return ['--create', '--gzip', '--file', file, '--directory', home, '--', ...members];
}

/** The default backup file name for `now`: `slipway-backup-20261203T203000Z.tar.gz`. */
export function defaultBackupName(now: Date): string {
  return `slipway-backup-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.tar.gz`;
}
