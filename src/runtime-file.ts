import { readFileIfExists, writeFileAtomic } from './atomic-write';

/**
 * What a running slipway server tells a separate worker and the CLI (which may run without the
 * server's environment): where the queue is. Mode 600: a Redis URL can carry a password.
 */
export interface RuntimeInfo {
  redis: string;
  queueName: string;
}

export async function writeRuntimeInfo(file: string, info: RuntimeInfo): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(info)}\n`, 0o600);
}

export async function readRuntimeInfo(file: string): Promise<RuntimeInfo | undefined> {
  const text = await readFileIfExists(file);
  return text === undefined ? undefined : (JSON.parse(text) as RuntimeInfo);
}
