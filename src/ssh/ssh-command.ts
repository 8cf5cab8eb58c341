/**
 * What an ssh key may run: git's two commands on an app's repo, nothing else. sshd hands the
 * command the client asked for to slipway's entry as SSH_ORIGINAL_COMMAND (the `command=` of the
 * key's authorized_keys line runs instead of it); git sends it as `git-receive-pack '<path>'`.
 */
import { appNameProblem } from '../names';

/** A git command a key may run, understood. */
export interface SshGitCommand {
  service: 'git-receive-pack' | 'git-upload-pack';
  app: string;
}

const USAGE = 'this key can only push and fetch apps: git remote add production ssh://<user>@<host>/<app>.git';

/**
 * Parses SSH_ORIGINAL_COMMAND strictly: `git-receive-pack` or `git-upload-pack` (or git's
 * `git receive-pack` spelling) and one path, single-quoted as git quotes it or bare, naming
 * `[/]<app>[.git][/]`. Anything else is refused with a reason for the person at the other end.
 */
export function parseSshCommand(original: string | undefined): { command: SshGitCommand } | { refused: string } {
  if (original === undefined || original.trim() === '') return { refused: `no shell here; ${USAGE}` };
  const match = /^git[- ](receive-pack|upload-pack) (?:'([^']*)'|([A-Za-z0-9._/~-]+))$/.exec(original.trim());
  if (!match) return { refused: `"${shown(original)}" is not allowed; ${USAGE}` };
  const repoPath = match[2] ?? match[3];
  const app = repoPath
    .replace(/^\/|^~\//, '')
    .replace(/\/$/, '')
    .replace(/\.git$/, '');
  // The name is shown only through shown(): it may carry terminal escapes.
  if (appNameProblem(app)) return { refused: `"${shown(repoPath)}" is not an app repository (app names: 1-40 characters a-z, 0-9 and "-", starting with a letter)` };
  return { command: { service: `git-${match[1]}` as SshGitCommand['service'], app } };
}

function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat;
}
