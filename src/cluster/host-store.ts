import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseInput, strictFields } from '../parse-input';
import { readStateFile, writeStateFile } from '../state/state-file';
import { versionField, type StateFormat } from '../state/state-format';
import { HOST_NAME } from './host-name';

/** `hosts/<name>.json`: one host of the cluster. The secret is kept as its sha256 only. */
const HOST_SCHEMA = strictFields({
  version: z.literal(1),
  name: HOST_NAME,
  /** When `hosts:add` made it (ISO 8601). */
  added: z.iso.datetime(),
  /** sha256 (hex) of the host token's secret, which is the host's Redis password. */
  secretSha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
});

/** `hosts/<name>.json`: format 1 is the first (new in 0.2.0; nothing to migrate). */
export const HOST_FORMAT: StateFormat<typeof HOST_SCHEMA> = { kind: 'host', version: 1, schema: HOST_SCHEMA, versionOf: versionField, migrations: [] };

export type Host = Omit<z.output<typeof HOST_SCHEMA>, 'version'>;

/** Where the hosts are kept under SLIPWAY_HOME. */
export function hostsDir(home: string): string {
  return path.join(home, 'hosts');
}

/** Checks a host name the user typed; throws an InputError naming it and the rule. */
export function checkHostName(name: string): string {
  return parseInput(HOST_NAME, name, 'host name');
}

/**
 * The cluster's hosts, one file each in `<home>/hosts/` (mode 600, written atomically). A damaged
 * file or one from a newer slipway makes `list` and `read` throw a StateError naming it.
 */
export class HostStore {
  constructor(private readonly dir: string) {}

  async list(): Promise<Host[]> {
    const names = (await fs.readdir(this.dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort();
    const hosts = await Promise.all(names.map((f) => this.read(f.slice(0, -'.json'.length))));
    return hosts.filter((h): h is Host => h !== undefined);
  }

  async read(name: string): Promise<Host | undefined> {
    const stored = await readStateFile(HOST_FORMAT, this.file(name));
    if (stored === undefined) return undefined;
    const { version: _version, ...host } = stored;
    return host;
  }

  /** Adds a new host; throws when one of that name exists. */
  async add(host: Host): Promise<void> {
    if (await this.read(host.name)) throw new Error(`a host named "${host.name}" exists already (\`slipway hosts:remove ${host.name}\` first)`);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeStateFile(HOST_FORMAT, this.file(host.name), { version: 1, ...host });
  }

  /** Removes a host's file; false when there was none. */
  async remove(name: string): Promise<boolean> {
    try {
      await fs.unlink(this.file(name));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  file(name: string): string {
    return path.join(this.dir, `${name}.json`);
  }
}
