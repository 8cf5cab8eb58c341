import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { fillFileAtomic } from '../atomic-write';
import { backupMembers, defaultBackupName, NOT_BACKED_UP, REPOS_ENTRY, tarCreateArgs } from '../backup/backup-plan';
import { readSettings } from '../settings';

/** What {@link writeBackup} wrote. */
export interface BackupResult {
  file: string;
  members: string[];
  bytes: number;
  /** tar's warnings (a deploy log that grew while it was read), if any. */
  warnings: string;
}

/**
 * Writes a gzipped tarball of `home`'s state to `file` (see src/backup/backup-plan.ts for what
 * goes in), atomically and mode 600 (it holds env secrets and token hashes). Refuses a `file`
 * inside `home`: the archive would read itself.
 */
export async function writeBackup(home: string, file: string, options: { withRepos: boolean }): Promise<BackupResult> {
  const target = path.resolve(file);
  const relative = path.relative(home, target);
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
    throw new Error(`the backup must be written outside SLIPWAY_HOME (${home}), not to ${target}`);
  }
  const entries = await fs.readdir(home).catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'ENOENT' ? `SLIPWAY_HOME ${home} does not exist: nothing to back up` : `cannot read SLIPWAY_HOME ${home}: ${err.message}`);
  });
  const members = backupMembers(entries, options);
  if (members.length === 0) throw new Error(`SLIPWAY_HOME ${home} holds no state to back up`);
  let warnings = '';
  await fillFileAtomic(target, 0o600, async (temp) => {
    warnings = await runTar(tarCreateArgs(home, members, temp));
  });
  return { file: target, members, bytes: (await fs.stat(target)).size, warnings };
}

/**
 * Runs `tar` (argv, no shell). Exit 1 is GNU tar's "a file changed as we read it" (a deploy log
 * that grew): the archive is whole, so that is a warning. Anything else is an error.
 */
function runTar(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tar', args, { encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve(stderr.trim());
      if (err.code === 1) return resolve(stderr.trim());
      reject(new Error(`tar failed (${err.code ?? err.message}): ${stderr.trim() || err.message}`));
    });
  });
}

export function registerBackupCommand(program: Command): void {
  const skipped = Object.entries(NOT_BACKED_UP)
    .map(([name, why]) => `  ${name.padEnd(13)} ${why}`)
    .join('\n');
  program
    .command('backup')
    .description('write a tarball of the state under SLIPWAY_HOME (apps, env, releases, tokens, port maps, deploy logs); restore it with tar -x into the home')
    .option('-o, --output <file>', 'where to write it (default: ./slipway-backup-<time>.tar.gz)')
    .option('--with-repos', "include the app repos (their git objects): needed to restore onto a machine that doesn't have them")
    .addHelpText(
      'after',
      `
Never in a backup:
${skipped}
  ${REPOS_ENTRY.padEnd(13)} the app repos, unless --with-repos

The file is written atomically, mode 600: it holds env values and token hashes.

Examples:
  slipway backup                                  # before an upgrade
  slipway backup --output /root/slipway.tar.gz --with-repos

Going back after an upgrade (README "Upgrading"): stop slipway, then
  tar -xzf slipway.tar.gz -C /var/lib/slipway --anchored --exclude=apache --exclude=repos
and start the old version: the port maps and repos in place describe what runs now.`,
    )
    .action(async (opts: { output?: string; withRepos?: boolean }) => {
      const { home } = readSettings();
      const result = await writeBackup(home, opts.output ?? defaultBackupName(new Date()), { withRepos: opts.withRepos === true });
      if (result.warnings) process.stderr.write(`slipway backup: tar said: ${result.warnings}\n`);
      process.stdout.write(`${result.file} (${result.bytes} bytes): ${result.members.join(', ')}\n`);
    });
}
