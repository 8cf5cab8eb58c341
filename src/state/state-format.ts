import type { z } from 'zod';
import { InputError, parseInput } from '../parse-input';
import { addVersionField } from './migrations/add-version-field';
import { wrapList } from './migrations/wrap-list';

/**
 * A kind of state slipway keeps (a file under SLIPWAY_HOME, or data it keeps in Redis across a
 * restart) and the format version it is written in. Version 1 is what release 0.1.0 wrote, which
 * carried no version; later versions carry one. Reading applies the migrations from the version
 * found up to the current one (in memory), then checks the result against the current schema.
 */
export interface StateFormat<S extends z.ZodType = z.ZodType> {
  /** What the state is, in plain words: `app config`, `release history`. */
  kind: string;
  /** How the file is written: JSON (the default), or plain text checked by the schema as a string. */
  encoding?: 'json' | 'text';
  /** The version this slipway writes. */
  version: number;
  /** The current format, version field included. */
  schema: S;
  /** The version `raw` (parsed, not yet checked) is in: 1 when it carries none. */
  versionOf(raw: unknown): number;
  /** One step per version, in order: `migrations[0]` turns version 1 into 2, and so on. */
  migrations: Migration[];
}

/** One named step from format version `from` to `from + 1`: pure, on the parsed value. */
export interface Migration {
  name: string;
  from: number;
  /** What it changes, for the README and the log. */
  does: string;
  migrate(old: unknown): unknown;
}

/** Why a state file cannot be used; slipway never rewrites such a file. */
export class StateError extends Error {
  constructor(
    /** The file (or Redis entry) named in the message. */
    readonly source: string,
    readonly problem: 'damaged' | 'newer',
    message: string,
    /** The schema's structured issues, when the content failed it. */
    readonly issues: InputError['issues'] = [],
  ) {
    super(message);
    this.name = 'StateError';
  }
}

/** The `version` field of an object, 1 when there is none (release 0.1.0 wrote none). */
export function versionField(raw: unknown): number {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'version' in raw) {
    const version = raw.version;
    return typeof version === 'number' && Number.isInteger(version) && version >= 1 ? version : Number.NaN;
  }
  return 1;
}

/**
 * Turns parsed state of any known version into the current format, checked. Throws a
 * {@link StateError}: `newer` for a version this slipway does not know (a downgrade), `damaged`
 * for content that fails the schema.
 */
export function decodeState<S extends z.ZodType>(format: StateFormat<S>, raw: unknown, source: string): z.output<S> {
  const found = format.versionOf(raw);
  if (Number.isNaN(found)) throw new StateError(source, 'damaged', `${source}: its "version" field is not a whole number ≥ 1; slipway left the file as it is`);
  if (found > format.version) {
    throw new StateError(
      source,
      'newer',
      `${source} is ${format.kind} format ${found}, written by a newer slipway; this slipway reads formats up to ${format.version}. ` +
        'It was left as it is: run the newer slipway again, or restore the backup taken before the upgrade',
    );
  }
  let value = raw;
  for (const step of format.migrations.filter((m) => m.from >= found && m.from < format.version)) value = step.migrate(value);
  try {
    return parseInput(format.schema, value, source);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new StateError(source, 'damaged', `${err.message} (slipway left the file as it is)`, err.issues);
  }
}

/** {@link decodeState} from the file's text: text that is not JSON (truncated, empty) is `damaged`. */
export function decodeStateText<S extends z.ZodType>(format: StateFormat<S>, text: string, source: string): z.output<S> {
  if (format.encoding === 'text') return decodeState(format, text, source);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StateError(source, 'damaged', `${source}: not valid JSON (${(err as Error).message}): the file is damaged or cut short; slipway left it as it is`);
  }
  return decodeState(format, raw, source);
}

/** The text a state file holds for `value` (already in the current format). */
export function encodeState(format: StateFormat, value: unknown): string {
  return format.encoding === 'text' ? String(value) : `${JSON.stringify(value, null, 1)}\n`;
}

/**
 * The format of state that 0.1.0 kept as a JSON object (format 1, no version) and that now carries
 * `"version": 2`; `migrationName` names the step between them.
 */
export function versionedObjectFormat<S extends z.ZodType>(kind: string, schema: S, migrationName: string): StateFormat<S> {
  return { kind, version: 2, schema, versionOf: versionField, migrations: [addVersionField(migrationName)] };
}

/**
 * The format of state that 0.1.0 kept as a bare JSON array (format 1) and that now is
 * `{"version": 2, "<key>": [...]}`; `migrationName` names the step between them.
 */
export function versionedListFormat<S extends z.ZodType>(kind: string, key: string, schema: S, migrationName: string): StateFormat<S> {
  return { kind, version: 2, schema, versionOf: (raw) => (Array.isArray(raw) ? 1 : versionField(raw)), migrations: [wrapList(migrationName, key)] };
}
