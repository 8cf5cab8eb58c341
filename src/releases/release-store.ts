import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { strictFields } from '../parse-input';
import { readStateFile, writeStateFile } from '../state/state-file';
import { versionedListFormat } from '../state/state-format';

/** One deploy's record. Kept on disk (not in Redis) so a wiped Redis loses no history. */
const RELEASE_RECORD_SCHEMA = strictFields({
  number: z.number().int().min(1),
  app: z.string().min(1),
  sha: z.string().min(1),
  ref: z.string(),
  kind: z.enum(['push', 'rollback', 'config', 'restart', 'start', 'scale']),
  note: z.string().optional(),
  /** The deploy (job) id: its log is `slipway deploys <app> <id>`. */
  deployId: z.string().min(1),
  pushedBy: z.string(),
  startedAt: z.string(),
  durationMs: z.number().min(0),
  /** `deploying` from just before the switch until the deploy ends (or a crash is reconciled). */
  result: z.enum(['deploying', 'live', 'failed']),
  reason: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** An app on several hosts: the hosts this release went to. */
  hosts: z.array(z.string()).optional(),
  /** Hosts that did not answer and were left out (`rollout.skip_unreachable`): slipway brings each to this release when it is back. */
  skippedHosts: z.array(z.string()).optional(),
});

export type ReleaseRecord = z.output<typeof RELEASE_RECORD_SCHEMA>;

const RELEASE_HISTORY_SCHEMA = strictFields({ version: z.literal(2), releases: z.array(RELEASE_RECORD_SCHEMA) });

/** `releases/<app>.json`: format 1 (0.1.0) was the bare array of records. */
export const RELEASE_HISTORY_FORMAT = versionedListFormat('release history', 'releases', RELEASE_HISTORY_SCHEMA, 'release-history-v2');

/**
 * Release history per app in `<dir>/<app>.json`, each write atomic. A damaged file (or one from a
 * newer slipway) makes every call throw a StateError naming it; it is never rewritten.
 */
export class ReleaseStore {
  constructor(private readonly dir: string) {}

  async list(app: string): Promise<ReleaseRecord[]> {
    return (await readStateFile(RELEASE_HISTORY_FORMAT, this.file(app)))?.releases ?? [];
  }

  /** The newest successful release, i.e. what should be serving. */
  async live(app: string): Promise<ReleaseRecord | undefined> {
    return (await this.list(app)).filter((r) => r.result === 'live').at(-1);
  }

  /** The record of one deploy, if it wrote one. */
  async byDeployId(app: string, deployId: string): Promise<ReleaseRecord | undefined> {
    return (await this.list(app)).find((r) => r.deployId === deployId);
  }

  /**
   * Writes a deploy's record: the first write of a deploy id appends it with the next number,
   * later writes (the same deploy finishing, or running again after a crash) update it in place.
   */
  async record(record: Omit<ReleaseRecord, 'number'>): Promise<ReleaseRecord> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const releases = await this.list(record.app);
    const index = releases.findIndex((r) => r.deployId === record.deployId);
    const full: ReleaseRecord = { number: index >= 0 ? releases[index].number : (releases.at(-1)?.number ?? 0) + 1, ...record };
    if (index >= 0) releases[index] = full;
    else releases.push(full);
    await writeStateFile(RELEASE_HISTORY_FORMAT, this.file(record.app), { version: 2, releases });
    return full;
  }

  /** The file of `app`'s history. */
  file(app: string): string {
    return path.join(this.dir, `${app}.json`);
  }
}
