/**
 * The app's Procfile (Heroku's format, at the root of the pushed commit): one `name: command` per
 * line, `#` comments and blank lines allowed. slipway knows two process types today: `release`
 * (run once per release, before the new version starts) and `web` (the web container's command).
 */
export interface Procfile {
  /** The release command, run in a one-off container of the new image. */
  release?: string;
  /** The web container's command; undefined keeps the image's CMD. */
  web?: string;
}

/** Thrown for an unreadable Procfile; the message names the line. */
export class ProcfileError extends Error {}

/** Heroku's line grammar: a process type name, a colon, the command. */
const LINE = /^([A-Za-z0-9_-]+):\s*(.*)$/;
const KNOWN = new Set(['release', 'web']);

/** Parses Procfile text; `undefined` (no Procfile) is an empty one. Throws naming the bad line. */
export function parseProcfile(text: string | undefined): Procfile {
  if (text === undefined) return {};
  // git hands binary content over as it is; a NUL or an invalid UTF-8 sequence means it is not text.
  if (text.includes('\0') || text.includes('\uFFFD')) throw new ProcfileError('Procfile is not a text file');
  const procfile: Procfile = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `Procfile line ${index + 1}`;
    const match = LINE.exec(line);
    if (!match) throw new ProcfileError(`${where} is not "name: command": ${JSON.stringify(line.slice(0, 80))}`);
    const [, name, command] = match;
    if (!KNOWN.has(name)) {
      throw new ProcfileError(`${where}: process type "${name}" is not supported yet (only release and web; other process types come with "Processes and replicas")`);
    }
    if (command.trim() === '') throw new ProcfileError(`${where}: the ${name} command is empty`);
    if (procfile[name as keyof Procfile] !== undefined) throw new ProcfileError(`${where}: a second "${name}" line`);
    procfile[name as keyof Procfile] = command.trim();
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
