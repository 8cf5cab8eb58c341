import { z } from 'zod';
import { strictFields } from './parse-input';
import { readStateFile, writeStateFile } from './state/state-file';
import { versionedObjectFormat } from './state/state-format';

/**
 * What a running slipway server tells a separate worker and the CLI (which may run without the
 * server's environment): where the queue is. Mode 600: a Redis URL can carry a password.
 */
const RUNTIME_INFO_SCHEMA = strictFields({ version: z.literal(2), redis: z.string().min(1), queueName: z.string().min(1) });

/** `runtime.json`: format 1 (0.1.0) had no version field. */
export const RUNTIME_INFO_FORMAT = versionedObjectFormat('runtime info', RUNTIME_INFO_SCHEMA, 'runtime-info-v2');

export type RuntimeInfo = Omit<z.output<typeof RUNTIME_INFO_SCHEMA>, 'version'>;

export async function writeRuntimeInfo(file: string, info: RuntimeInfo): Promise<void> {
  await writeStateFile(RUNTIME_INFO_FORMAT, file, { version: 2, ...info });
}

export async function readRuntimeInfo(file: string): Promise<RuntimeInfo | undefined> {
  const stored = await readStateFile(RUNTIME_INFO_FORMAT, file);
  return stored === undefined ? undefined : { redis: stored.redis, queueName: stored.queueName };
}
