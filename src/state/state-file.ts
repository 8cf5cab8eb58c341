import { promises as fs } from 'node:fs';
import type { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';
import { parseInput } from '../parse-input';
import { decodeStateText, encodeState, type StateFormat } from './state-format';

/** Reads a JSON state file in any known format version; undefined when it does not exist. Throws a StateError naming the file. */
export async function readStateFile<S extends z.ZodType>(format: StateFormat<S>, file: string): Promise<z.output<S> | undefined> {
  const text = await readFileIfExists(file);
  return text === undefined ? undefined : decodeStateText(format, text, file);
}

/**
 * Writes a JSON state file in the current format, atomically (readers see the old or the new file,
 * never a torn one). The value is checked against the format first: slipway never writes state it
 * could not read back.
 */
export async function writeStateFile<S extends z.ZodType>(format: StateFormat<S>, file: string, value: z.input<S>, mode = 0o600): Promise<void> {
  parseInput(format.schema, value, file);
  await writeFileAtomic(file, encodeState(format, value), mode);
  await fs.chmod(file, mode);
}
