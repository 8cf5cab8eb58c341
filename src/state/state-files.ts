import { promises as fs } from 'node:fs';
import path from 'node:path';
import { APP_CONFIG_FORMAT } from '../apps/app-config-store';
import { RELEASE_HISTORY_FORMAT } from '../releases/release-store';
import { RUNTIME_INFO_FORMAT } from '../runtime-file';
import { TOKEN_LIST_FORMAT } from '../auth/token-store';
import { HOST_FORMAT, hostsDir } from '../cluster/host-store';
import { homePaths } from '../settings';
import { PORT_MAP_FORMAT } from './port-map-format';
import { decodeStateText, StateError, type StateFormat } from './state-format';

/** One versioned state file under SLIPWAY_HOME and its format. `app` when the file belongs to one app. */
export interface StateFile {
  file: string;
  format: StateFormat;
  app?: string;
}

/**
 * Every versioned state file under `home`, found on disk: apps/<app>.json, releases/<app>.json,
 * apache/<app>.map, tokens.json, runtime.json, hosts/<host>.json. (The admin token file and the deploy logs are plain
 * text without a structure to version; repos, work trees and Redis's own files belong to git and
 * Redis.)
 */
export async function listStateFiles(home: string): Promise<StateFile[]> {
  const paths = homePaths(home);
  const inDir = async (dir: string, suffix: string, format: StateFormat): Promise<StateFile[]> =>
    (await fs.readdir(dir).catch(() => [] as string[]))
      .filter((name) => name.endsWith(suffix) && !name.startsWith('.'))
      .sort()
      .map((name) => ({ file: path.join(dir, name), format, app: name.slice(0, -suffix.length) }));
  return [
    ...(await inDir(paths.apps, '.json', APP_CONFIG_FORMAT)),
    ...(await inDir(paths.releases, '.json', RELEASE_HISTORY_FORMAT)),
    ...(await inDir(paths.apacheMaps, '.map', PORT_MAP_FORMAT)),
    { file: paths.namedTokens, format: TOKEN_LIST_FORMAT },
    { file: paths.runtimeFile, format: RUNTIME_INFO_FORMAT },
    ...(await inDir(hostsDir(home), '.json', HOST_FORMAT)).map(({ app: _host, ...entry }) => entry),
  ];
}

/** The state files of one app, existing or not. */
export function appStateFiles(home: string, app: string): StateFile[] {
  const paths = homePaths(home);
  return [
    { file: path.join(paths.apps, `${app}.json`), format: APP_CONFIG_FORMAT, app },
    { file: path.join(paths.releases, `${app}.json`), format: RELEASE_HISTORY_FORMAT, app },
    { file: path.join(paths.apacheMaps, `${app}.map`), format: PORT_MAP_FORMAT, app },
  ];
}

/** Reads one state file as slipway would, without changing it: its problem, or undefined when it is usable (or absent). */
export async function stateFileProblem(entry: StateFile): Promise<StateError | undefined> {
  let text: string;
  try {
    text = await fs.readFile(entry.file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return new StateError(entry.file, 'damaged', `${entry.file}: cannot be read (${(err as Error).message})`);
  }
  try {
    decodeStateText(entry.format, text, entry.file);
    return undefined;
  } catch (err) {
    if (err instanceof StateError) return err;
    throw err;
  }
}

/** Every state file under `home` that slipway cannot use (damaged, or from a newer slipway), read-only. */
export async function stateProblems(home: string): Promise<StateError[]> {
  const problems = await Promise.all((await listStateFiles(home)).map(stateFileProblem));
  return problems.filter((p): p is StateError => p !== undefined);
}

/**
 * Throws a StateError when one of `app`'s state files is damaged or from a newer slipway: a deploy
 * of that app is refused before it touches anything.
 */
export async function assertAppStateUsable(home: string, app: string): Promise<void> {
  const [problem] = await appStateProblems(home, app);
  if (problem) throw new StateError(problem.source, problem.problem, `slipway will not touch ${app} until this is repaired: ${problem.message}`, problem.issues);
}

/** The problems of `app`'s own state files (config, releases, port map), read-only. */
export async function appStateProblems(home: string, app: string): Promise<StateError[]> {
  const problems = await Promise.all(appStateFiles(home, app).map(stateFileProblem));
  return problems.filter((p): p is StateError => p !== undefined);
}
