/**
 * The app's Procfile (Heroku's format, at the root of the pushed commit): one `name: command` per
 * line, `#` comments and blank lines allowed. `release` runs once per release, before the new
 * version starts; `web` is the web container's command; every other line is a worker process type
 * (a job-queue consumer, a scheduler) that runs without a port.
 */
export interface Procfile {
  /** The release command, run in a one-off container of the new image. */
  release?: string;
  /** The web container's command; undefined keeps the image's CMD. */
  web?: string;
  /** Every other process type: its name → its command (`worker: ./work` → `{ worker: './work' }`). */
  workers: Record<string, string>;
}

/** Thrown for an unreadable Procfile; the message names the line. */
export class ProcfileError extends Error {}

/** Heroku's line grammar: a process type name, a colon, the command. */
const LINE = /^([A-Za-z0-9_-]+):\s*(.*)$/;
/** Longest process type name: it becomes part of container names (`<app>-<type>-<n>-next`). */
const MAX_TYPE_LENGTH = 40;

/** Parses Procfile text; `undefined` (no Procfile) is an empty one. Throws naming the bad line. */
export function parseProcfile(text: string | undefined): Procfile {
  if (text === undefined) return { workers: {} };
  // git hands binary content over as it is; a NUL or an invalid UTF-8 sequence means it is not text.
  if (text.includes('\0') || text.includes('\uFFFD')) throw new ProcfileError('Procfile is not a text file');
  const procfile: Procfile = { workers: {} };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `Procfile line ${index + 1}`;
    const match = LINE.exec(line);
    if (!match) throw new ProcfileError(`${where} is not "name: command": ${JSON.stringify(line.slice(0, 80))}`);
    const [, name, command] = match;
    if (name.length > MAX_TYPE_LENGTH) throw new ProcfileError(`${where}: process type "${name.slice(0, 60)}" is longer than ${MAX_TYPE_LENGTH} characters`);
    if (command.trim() === '') throw new ProcfileError(`${where}: the ${name} command is empty`);
    const seen = name === 'release' || name === 'web' ? procfile[name] : procfile.workers[name];
    if (seen !== undefined) throw new ProcfileError(`${where}: a second "${name}" line`);
    if (name === 'release' || name === 'web') procfile[name] = command.trim();
    else procfile.workers[name] = command.trim();
  });
  return procfile;
}

/**
 * The container command for a Procfile command string. As on Heroku and Dokku, the string is run
 * by the image's own `/bin/sh -c` inside the container (so `$VAR`, `&&` and quotes work there);
 * slipway hands Docker an argv array and never runs it in a host shell.
 */
export function shellCommand(command: string): string[] {
  return ['/bin/sh', '-c', command];
}

/**
 * Whether a release runs web containers: when its Procfile has a `web:` line, and when it names no
 * process type at all (no Procfile, or only `release:`), where the image's CMD is the web process as
 * it always was. A Procfile with process types but no `web:` (only `worker:`, `clock:`) is a
 * workers-only app: no web container, no port, no Apache route.
 */
export function hasWebProcess(procfile: Procfile): boolean {
  return procfile.web !== undefined || Object.keys(procfile.workers).length === 0;
}

/** The release's long-running process types: `web` first when it has one, then its worker types, sorted. */
export function processTypes(procfile: Procfile): string[] {
  return [...(hasWebProcess(procfile) ? ['web'] : []), ...Object.keys(procfile.workers).sort()];
}
