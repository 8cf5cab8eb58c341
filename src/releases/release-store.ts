import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';
import type { DeployKind } from '../queue/deploy-job';

/** One deploy's record. Kept on disk (not in Redis) so a wiped Redis loses no history. */
export interface ReleaseRecord {
  number: number;
  app: string;
  sha: string;
  ref: string;
  kind: DeployKind;
  note?: string;
  /** The deploy (job) id: its log is `slipway deploys <app> <id>`. */
  deployId: string;
  pushedBy: string;
  startedAt: string;
  durationMs: number;
  /** `deploying` from just before the switch until the deploy ends (or a crash is reconciled). */
  result: 'deploying' | 'live' | 'failed';
  reason?: string;
  port?: number;
}

/** Release history per app in `<dir>/<app>.json`, each write atomic. */
export class ReleaseStore {
  constructor(private readonly dir: string) {}

  async list(app: string): Promise<ReleaseRecord[]> {
    const text = await readFileIfExists(this.file(app));
    return text === undefined ? [] : (JSON.parse(text) as ReleaseRecord[]);
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
    await writeFileAtomic(this.file(record.app), `${JSON.stringify(releases, null, 1)}\n`, 0o600);
    return full;
  }

  private file(app: string): string {
    return path.join(this.dir, `${app}.json`);
  }
}
