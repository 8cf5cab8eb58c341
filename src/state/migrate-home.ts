import { promises as fs } from 'node:fs';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';
import { decodeStateText, encodeState, StateError } from './state-format';
import { listStateFiles, type StateFile } from './state-files';

/** What migrating one file did. */
export interface MigratedFile {
  file: string;
  from: number;
  to: number;
  steps: string[];
}

/** The name the previous file is kept under while it is migrated. */
export function backupName(file: string, version: number): string {
  return `${file}.v${version}.bak`;
}

/**
 * Brings one state file to the current format. The previous file is copied to `<file>.v<N>.bak`
 * first and removed only once the new one is written (atomically); a file already current, absent,
 * damaged or newer is not written at all (damaged and newer throw a StateError).
 */
export async function migrateStateFile(entry: StateFile, write: typeof writeFileAtomic = writeFileAtomic): Promise<MigratedFile | undefined> {
  const text = await readFileIfExists(entry.file);
  if (text === undefined) return undefined;
  const raw = entry.format.encoding === 'text' ? text : parsedOrUndefined(text);
  const from = raw === undefined ? Number.NaN : entry.format.versionOf(raw);
  // Decoding first: a damaged or newer file throws here, before anything is written.
  const value = decodeStateText(entry.format, text, entry.file);
  if (from === entry.format.version) return undefined;
  const backup = backupName(entry.file, from);
  const mode = (await fs.stat(entry.file)).mode & 0o777;
  await fs.copyFile(entry.file, backup);
  // A failed write leaves the file as it was and the backup beside it; the next start tries again.
  await write(entry.file, encodeState(entry.format, value), mode);
  await fs.rm(backup, { force: true });
  const steps = entry.format.migrations.filter((m) => m.from >= from && m.from < entry.format.version).map((m) => m.name);
  return { file: entry.file, from, to: entry.format.version, steps };
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Migrates every state file under `home` to the current formats, on start. Each file on its own:
 * a damaged file is reported and left exactly as it is, the others go on. Files from a newer
 * slipway are reported the same way; the caller refuses to start on those (see `newer`).
 */
export async function migrateHome(home: string): Promise<{ migrated: MigratedFile[]; problems: StateError[] }> {
  const migrated: MigratedFile[] = [];
  const problems: StateError[] = [];
  for (const entry of await listStateFiles(home)) {
    try {
      const done = await migrateStateFile(entry);
      if (done) migrated.push(done);
    } catch (err) {
      if (err instanceof StateError) problems.push(err);
      else throw err;
    }
  }
  return { migrated, problems };
}
