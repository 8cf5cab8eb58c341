import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, symlinkAtomic, writeFileAtomic } from '../../atomic-write';

/**
 * The migration `port-maps-beside-sites`: port maps used to live under SLIPWAY_HOME
 * (`$SLIPWAY_HOME/apache/<app>.map`), so losing the home left Apache's vhosts naming missing files.
 * They now live in `slipway-maps/` beside Apache's sites directory. Each port map still under the
 * home (a regular file: slipway 0.1.0 up to this version) is copied there, unless one is there
 * already, and replaced by a symlink to it, which vhosts rendered before keep reading until start-up
 * removes them. Safe to run twice: a symlink is left as it is. Runs after the format migrations,
 * so what it copies is in the current port map format.
 */
export const MOVE_PORT_MAPS = {
  name: 'port-maps-beside-sites',
  does: 'moves $SLIPWAY_HOME/apache/<app>.map to slipway-maps/<app>.map beside the sites directory and leaves a symlink in its place',
};

/** Runs `port-maps-beside-sites` from `legacyDir` to `mapsDir`; returns the files it moved. */
export async function movePortMaps(legacyDir: string, mapsDir: string): Promise<string[]> {
  const moved: string[] = [];
  for (const name of (await fs.readdir(legacyDir).catch(() => [] as string[])).filter((n) => n.endsWith('.map') && !n.startsWith('.')).sort()) {
    const legacy = path.join(legacyDir, name);
    if ((await fs.lstat(legacy)).isSymbolicLink()) continue;
    const target = path.join(mapsDir, name);
    const content = await readFileIfExists(legacy);
    if (content === undefined) continue;
    await fs.mkdir(mapsDir, { recursive: true, mode: 0o755 });
    if ((await readFileIfExists(target)) === undefined) await writeFileAtomic(target, content);
    await symlinkAtomic(target, legacy);
    moved.push(legacy);
  }
  return moved;
}
