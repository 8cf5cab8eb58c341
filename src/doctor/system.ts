import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { isPortFree } from '../deploy/port-choice';
import { homePaths, readSettings, type Settings } from '../settings';
import { SETTINGS_SCHEMA, type SettingName } from '../settings-schema';
import { formatInputIssue, InputError } from '../parse-input';
import { stateProblems } from '../state/state-files';
import { compareVersions, fail, findExecutable, formatBytes, ok, runCommand, warn, type CheckResult } from './check';

/** `git init --initial-branch` (every app repo is created with it) needs git 2.28. */
export const MIN_GIT = '2.28';
/** Below this much free space a build or an image pull may run out. */
export const LOW_DISK_BYTES = 2 * 2 ** 30;

/**
 * Reads the settings like `slipway up` would, but never throws: each invalid variable becomes a
 * `fail` result and the rest of the doctor runs with that variable's default. The bad variables
 * come from the schema's structured issues (the first segment of each issue's path).
 */
export function readSettingsForDoctor(env: NodeJS.ProcessEnv): { settings: Settings; results: CheckResult[] } {
  const copy = { ...env };
  const results: CheckResult[] = [];
  // Dropping a variable can only reveal problems that depended on it (the TLS pair), so a few rounds end it.
  for (let round = 0; round < 5; round++) {
    try {
      const settings = readSettings(copy);
      if (results.length === 0) results.push(ok('settings', 'environment variables are valid'));
      return { settings, results };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      const names = [...new Set(err.issues.map((issue) => String(issue.segments[0])))].filter((name): name is SettingName => name in SETTINGS_SCHEMA);
      if (names.length === 0) throw err;
      for (const issue of err.issues) {
        const name = String(issue.segments[0]);
        results.push(
          fail(
            'settings',
            `${formatInputIssue(`${name}=${env[name] ?? ''}`, { path: '', message: issue.message })} (the checks below use its default)`,
            `fix ${name} in slipway's environment (\`slipway settings --markdown\` lists every setting)`,
          ),
        );
      }
      for (const name of names) delete copy[name];
    }
  }
  throw new Error('settings could not be read');
}

/** `2.39.5` from `git version 2.39.5` (also `git version 2.30.1.windows.1`, `… (Apple Git-130)`). */
export function parseGitVersion(output: string): string | undefined {
  return /git version (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** git is installed and new enough. */
export async function checkGit(): Promise<CheckResult[]> {
  const file = await findExecutable('git');
  if (!file) return [fail('git', 'git is not installed', 'apt-get install git')];
  const { output } = await runCommand(file, ['--version'], 5000);
  const version = parseGitVersion(output);
  if (!version) return [warn('git', `cannot tell the version of ${file} ("${output.slice(0, 80)}")`, `make sure it is git ${MIN_GIT} or newer`)];
  if (compareVersions(version, MIN_GIT) < 0)
    return [fail('git', `git ${version} is older than ${MIN_GIT} (slipway creates repos with \`git init --initial-branch\`)`, 'install a newer git (Debian 12: `apt-get install git` gives 2.39)')];
  return [ok('git', `git ${version}`)];
}

/** The permission bits of a path, or undefined when it does not exist. */
export interface HomeModes {
  home: number | undefined;
  repos: number | undefined;
  maps: number | undefined;
  /** Every directory above the home, from the root. */
  ancestors: { path: string; mode: number }[];
}

/**
 * What is wrong with the home's permissions. Apache's children (www-data) must reach the port
 * maps: the home and every directory above it traversable by others (home 0711), the maps
 * directory readable (0755); the repos (0700) and everything else stay private.
 */
export function homeModeProblems(home: string, modes: HomeModes): { fails: string[]; warns: string[]; fixes: string[] } {
  const p = homePaths(home);
  const fails: string[] = [];
  const warns: string[] = [];
  const fixes: string[] = [];
  const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');
  for (const a of modes.ancestors) {
    if ((a.mode & 0o001) === 0) {
      fails.push(`${a.path} is ${octal(a.mode)}: others cannot traverse it to the port maps`);
      fixes.push(`chmod o+x ${a.path}`);
    }
  }
  if (modes.home !== undefined && (modes.home & 0o777) !== 0o711) {
    if ((modes.home & 0o001) === 0) fails.push(`${home} is ${octal(modes.home)}, want 0711 (Apache's children must reach ${p.apacheMaps})`);
    else warns.push(`${home} is ${octal(modes.home)}, want 0711`);
    fixes.push(`chmod 711 ${home} (\`slipway up\` sets it on start)`);
  }
  if (modes.repos === undefined) warns.push(`${p.repos} does not exist yet`);
  else if ((modes.repos & 0o077) !== 0) {
    fails.push(`${p.repos} is ${octal(modes.repos)}: the repos are readable by others, want 0700`);
    fixes.push(`chmod 700 ${p.repos}`);
  }
  if (modes.maps === undefined) warns.push(`${p.apacheMaps} does not exist yet`);
  else if ((modes.maps & 0o005) !== 0o005) {
    fails.push(`${p.apacheMaps} is ${octal(modes.maps)}: Apache's children cannot read the port maps, want 0755`);
    fixes.push(`chmod 755 ${p.apacheMaps}`);
  }
  return { fails, warns, fixes };
}

/** SLIPWAY_HOME exists with slipway's permissions (home 0711, repos 0700, apache maps 0755). */
export async function checkHome(settings: Settings): Promise<CheckResult[]> {
  const home = settings.home;
  const mode = async (file: string) => (await fs.stat(file).catch(() => undefined))?.mode;
  const homeMode = await mode(home);
  if (homeMode === undefined) return [warn('home', `${home} does not exist yet`, '`slipway up` creates it (0711, repos 0700, apache 0755)')];
  const ancestors: HomeModes['ancestors'] = [];
  for (let dir = path.dirname(home); ; dir = path.dirname(dir)) {
    const m = await mode(dir);
    if (m !== undefined) ancestors.unshift({ path: dir, mode: m });
    if (dir === path.dirname(dir)) break;
  }
  const p = homePaths(home);
  const { fails, warns, fixes } = homeModeProblems(home, { home: homeMode, repos: await mode(p.repos), maps: await mode(p.apacheMaps), ancestors });
  if (fails.length > 0) return [fail('home', [...fails, ...warns].join('; '), fixes.join('; '))];
  if (warns.length > 0) return [warn('home', warns.join('; '), fixes.length ? fixes.join('; ') : '`slipway up` creates what is missing')];
  return [ok('home', `${home} 0711, repos 0700, apache 0755`)];
}

/** The push token: SLIPWAY_TOKEN, or the token file with mode 600. */
export async function checkToken(settings: Settings): Promise<CheckResult[]> {
  const file = homePaths(settings.home).tokenFile;
  const stat = await fs.stat(file).catch(() => undefined);
  if (settings.token !== undefined) return [ok('token', `SLIPWAY_TOKEN is set${stat ? ` (${file} is not used)` : ''}`)];
  if (!stat) return [warn('token', `${file} does not exist yet`, '`slipway up` generates it on first start and prints it once (or set SLIPWAY_TOKEN)')];
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) return [fail('token', `${file} is ${mode.toString(8).padStart(4, '0')}: others can read the push token`, `chmod 600 ${file}`)];
  if ((await fs.readFile(file, 'utf8')).trim() === '') return [warn('token', `${file} is empty: slipway will generate a new token on start`, 'remove it and restart slipway, or set SLIPWAY_TOKEN')];
  return [ok('token', `${file} (mode ${mode.toString(8).padStart(4, '0')})`)];
}

/** A few free ports in SLIPWAY_PORT_RANGE; SLIPWAY_PORT free or held by slipway itself. */
export async function checkPorts(settings: Settings, portFree: (port: number) => Promise<boolean> = isPortFree): Promise<CheckResult[]> {
  const { first, last } = settings.portRange;
  const free: number[] = [];
  const busy: number[] = [];
  const limit = Math.min(last, first + 49);
  for (let port = first; port <= limit && free.length < 3; port++) {
    if (port === settings.port || port === settings.apacheHttpPort) continue;
    ((await portFree(port)) ? free : busy).push(port);
  }
  const range = `SLIPWAY_PORT_RANGE ${first}-${last}`;
  const inUse = busy.length ? ` (${compactPorts(busy)} in use)` : '';
  const results: CheckResult[] = [];
  if (free.length > 0) results.push(ok('port range', `${range}: ${free.join(', ')} free${inUse}`));
  else if (limit < last) results.push(warn('port range', `${range}: none of ${first}-${limit} is free`, 'stop what listens there, or move SLIPWAY_PORT_RANGE'));
  else results.push(fail('port range', `${range}: no free port`, 'stop what listens there, or widen SLIPWAY_PORT_RANGE'));

  const port = settings.port;
  if (await portFree(port)) {
    results.push(ok('git port', `SLIPWAY_PORT ${port} is free (slipway is not running)`));
  } else if (await answersAsSlipway(settings.host, port)) {
    results.push(ok('git port', `SLIPWAY_PORT ${port} is held by slipway itself`));
  } else {
    results.push(fail('git port', `SLIPWAY_PORT ${port} is used by another program`, `see which with \`ss -ltnp 'sport = :${port}'\`, stop it or set SLIPWAY_PORT`));
  }
  return results;
}

/** slipway's git server challenges an anonymous push with `WWW-Authenticate: Basic realm="slipway"`. */
function answersAsSlipway(host: string, port: number): Promise<boolean> {
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return new Promise((resolve) => {
    const req = http.get({ host: target, port, path: '/doctor-probe.git/info/refs?service=git-receive-pack', timeout: 3000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 401 && /realm="slipway"/.test(String(res.headers['www-authenticate'] ?? '')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Free space under SLIPWAY_HOME and Docker's data directory; a warning under 2 GiB. */
export async function checkDisk(settings: Settings, dockerRoot: string | undefined): Promise<CheckResult[]> {
  const places: [string, string, string][] = [['disk home', 'SLIPWAY_HOME', settings.home]];
  if (dockerRoot) places.push(['disk docker', "Docker's root", dockerRoot]);
  return Promise.all(
    places.map(async ([name, what, dir]) => {
      const existing = await nearestExisting(dir);
      const stats = await fs.statfs(existing);
      const free = stats.bavail * stats.bsize;
      const detail = `${formatBytes(free)} free under ${what} ${dir}${existing === dir ? '' : ` (on ${existing})`}`;
      if (free < LOW_DISK_BYTES) {
        return warn(
          name,
          `only ${detail}`,
          `free space (\`docker image prune\`, old logs) or grow the disk: builds and images need room${name === 'disk home' ? '' : ' (fewer kept images: SLIPWAY_KEEP_RELEASES)'}`,
        );
      }
      return ok(name, detail);
    }),
  );
}

async function nearestExisting(dir: string): Promise<string> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    try {
      await fs.stat(current);
      return current;
    } catch {
      if (current === path.dirname(current)) return current;
    }
  }
}

/** `[8080, 8081, 8082, 8090]` → `8080-8082, 8090`. */
export function compactPorts(ports: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ports.length; i++) {
    let j = i;
    while (j + 1 < ports.length && ports[j + 1] === ports[j] + 1) j++;
    parts.push(j > i ? `${ports[i]}-${ports[j]}` : String(ports[i]));
    i = j;
  }
  return parts.join(', ');
}

/**
 * Every versioned state file under SLIPWAY_HOME can be read: a damaged one (or one from a newer
 * slipway) is named with its problem; slipway refuses to touch its app until it is repaired.
 */
export async function checkState(settings: Settings): Promise<CheckResult[]> {
  const problems = await stateProblems(settings.home);
  if (problems.length === 0) return [ok('state', `the state files under ${settings.home} are readable and in known formats`)];
  return problems.map((p) =>
    fail(
      'state',
      p.message,
      p.problem === 'newer'
        ? 'run the slipway that wrote it, or restore the backup of SLIPWAY_HOME taken before the upgrade'
        : `repair or restore ${p.source} (slipway never rewrites it; deploys of its app are refused until then)`,
    ),
  );
}
