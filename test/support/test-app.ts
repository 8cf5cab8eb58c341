/**
 * Tiny deployable apps for end-to-end tests: git work trees whose Dockerfile builds `FROM scratch`
 * with Debian's static busybox (no registry needed) and serves static files and CGI scripts with
 * busybox httpd.
 *
 * Image layout: `/bin/busybox` + applet symlinks, `/www` (document root, `index.html`, `cgi-bin/`),
 * `/start.sh` (the CMD), `/tmp` (1777), and `/ctx/` = the whole build context after `.dockerignore`
 * (so a test can check that `/ctx/secret.txt` is absent: `.dockerignore` was honoured).
 *
 * The container listens on `$PORT` (required env var) on all interfaces; run it with `--net=host`.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Debian busybox-static; a static binary, so it runs in a `FROM scratch` image. */
const BUSYBOX = '/bin/busybox';

/** A temp git work tree for a test app. */
export interface AppWorktree {
  /** Absolute path of the work tree (a `git init -b main` repo, user.name/email set locally). */
  dir: string;
  /** The app name (valid slipway app name: `[a-z][a-z0-9-]{0,39}`). */
  name: string;
  /** Removes the work tree. Safe to call twice. */
  remove(): Promise<void>;
}

/** How the app's `/cgi-bin/health` behaves. */
export type HealthMode = 'ok' | 'fail500' | 'never' | 'die-after-first' | 'needs-env' | 'needs-dependency';

/** Options for {@link writeBusyboxApp}. */
export interface BusyboxAppOptions {
  /** Served as `index.html` = `version=<version>\n` and by `/cgi-bin/slow`. */
  version: string;
  /**
   * `/cgi-bin/health`: 'ok' (default) → 200 `{"status":"UP"}`; 'fail500' → 500 `{"status":"DOWN"}`;
   * 'never' → always 503; 'die-after-first' → first request 200, then the container exits 1 about
   * two seconds later; 'needs-env' → 200 when the container's env has `HEALTHY=yes`, else 500;
   * 'needs-dependency' → 200 when something answers HTTP on `127.0.0.1:<dependencyPort>` (a service
   * the app needs on its own host, like a local cache), else 500.
   */
  health?: HealthMode;
  /** With `health: 'needs-dependency'`: the loopback port of the dependency. */
  dependencyPort?: number;
  /** Adds a `RUN` step that exits 3, so `docker build` fails. */
  buildFails?: boolean;
  /** Adds a `RUN sleep` step of this many seconds, so a test can act while the build runs. */
  buildSleepSeconds?: number;
  /** Seconds `/cgi-bin/slow` sleeps before answering `version=<version>` (default 2). */
  slowSeconds?: number;
  /**
   * `slipway.json` content: an object (JSON-serialised), a raw string (written as is, e.g. invalid
   * JSON), `null` for no file. Default `{"healthcheck":{"path":"/cgi-bin/health","timeout":20}}`.
   */
  slipwayJson?: object | string | null;
}

/** The default `slipway.json` written by {@link writeBusyboxApp}. */
export const DEFAULT_SLIPWAY_JSON = { healthcheck: { path: '/cgi-bin/health', timeout: 20 } } as const;

/**
 * Creates an empty git work tree in a temp dir (prefix `slipway-app-`), `git init -b main`, with a
 * local user.name/user.email so commits work on a bare CI machine.
 *
 * @param opts.name app name; default `app-<random>`.
 */
export async function createAppWorktree(opts: { name?: string } = {}): Promise<AppWorktree> {
  const name = opts.name ?? `app-${Math.random().toString(36).slice(2, 10)}`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-app-'));
  await git(dir, ['init', '-q', '-b', 'main']);
  await git(dir, ['config', 'user.name', 'Slipway Test']);
  await git(dir, ['config', 'user.email', 'slipway-test@example.invalid']);
  await git(dir, ['config', 'commit.gpgsign', 'false']);
  return {
    dir,
    name,
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Writes (or overwrites) the busybox app into `dir`: `busybox`, `Dockerfile`, `.dockerignore`,
 * `secret.txt`, `start.sh`, `www/index.html`, `www/cgi-bin/health`, `www/cgi-bin/slow` and
 * `slipway.json` (removed when `slipwayJson` is null). Does not commit.
 */
export async function writeBusyboxApp(dir: string, opts: BusyboxAppOptions): Promise<void> {
  const health = opts.health ?? 'ok';
  const slowSeconds = opts.slowSeconds ?? 2;
  if (!/^[\w.+-]+$/.test(opts.version)) throw new Error(`writeBusyboxApp: unsafe version string ${JSON.stringify(opts.version)}`);
  if (!Number.isFinite(slowSeconds) || slowSeconds < 0) throw new Error(`writeBusyboxApp: bad slowSeconds ${slowSeconds}`);
  if (health === 'needs-dependency' && !Number.isInteger(opts.dependencyPort)) throw new Error(`writeBusyboxApp: 'needs-dependency' needs a dependencyPort, got ${opts.dependencyPort}`);

  await fs.mkdir(path.join(dir, 'www', 'cgi-bin'), { recursive: true });
  await fs.copyFile(BUSYBOX, path.join(dir, 'busybox'));
  await fs.chmod(path.join(dir, 'busybox'), 0o755);

  const dockerfile = [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox","--install","-s","/bin"]',
    'RUN ["/bin/sh","-c","mkdir -p /tmp && chmod 1777 /tmp"]',
    ...(opts.buildFails ? ['RUN ["/bin/sh","-c","echo failing on purpose; exit 3"]'] : []),
    ...(opts.buildSleepSeconds !== undefined ? [`RUN ["/bin/sleep","${Number(opts.buildSleepSeconds)}"]`] : []),
    'COPY www /www',
    'COPY start.sh /start.sh',
    'COPY . /ctx/',
    'CMD ["/bin/sh","/start.sh"]',
    '',
  ].join('\n');
  await fs.writeFile(path.join(dir, 'Dockerfile'), dockerfile);
  await fs.writeFile(path.join(dir, '.dockerignore'), '.git\nsecret.txt\n');
  await fs.writeFile(path.join(dir, 'secret.txt'), 'this file must not reach the image\n');
  await fs.writeFile(path.join(dir, 'www', 'index.html'), `version=${opts.version}\n`);

  await writeExecutable(path.join(dir, 'start.sh'), startScript(health));
  await writeExecutable(path.join(dir, 'www', 'cgi-bin', 'health'), healthScript(health, opts.dependencyPort));
  await writeExecutable(path.join(dir, 'www', 'cgi-bin', 'slow'), cgi(`sleep ${slowSeconds}\nprintf 'Content-Type: text/plain\\r\\n\\r\\nversion=%s\\n' '${opts.version}'`));

  const slipwayFile = path.join(dir, 'slipway.json');
  const slipwayJson = opts.slipwayJson === undefined ? DEFAULT_SLIPWAY_JSON : opts.slipwayJson;
  if (slipwayJson === null) {
    await fs.rm(slipwayFile, { force: true });
  } else {
    const text = typeof slipwayJson === 'string' ? slipwayJson : `${JSON.stringify(slipwayJson, null, 2)}\n`;
    await fs.writeFile(slipwayFile, text);
  }
}

/**
 * Stages everything (`git add -A`) and commits with `message` (`--allow-empty`, so a commit always
 * happens). Resolves with the new commit's full sha.
 */
export async function commit(dir: string, message: string): Promise<string> {
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '--allow-empty', '--no-verify', '-m', message]);
  return (await git(dir, ['rev-parse', 'HEAD'])).trim();
}

/**
 * The container's CMD. A shell stays PID 1 with a TERM trap: a process without a SIGTERM handler
 * is immune to SIGTERM as PID 1, so `exec httpd` would make `docker stop` wait for its SIGKILL.
 */
function startScript(health: HealthMode): string {
  const common = [
    '#!/bin/sh',
    '# busybox httpd in the foreground (-f), CGI from /www/cgi-bin.',
    ': "${PORT:?PORT must be set}"',
    'httpd -f -p "$PORT" -h /www &',
    'pid=$!',
    'trap \'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 0\' TERM INT',
  ];
  if (health === 'die-after-first') {
    return [
      ...common,
      '# die-after-first: exit 1 about two seconds after the first health request.',
      'while [ ! -e /tmp/first ]; do',
      '  kill -0 "$pid" 2>/dev/null || exit 1',
      '  sleep 0.2',
      'done',
      'sleep 2',
      'kill -TERM "$pid" 2>/dev/null',
      'echo "dying on purpose after the first health check" >&2',
      'exit 1',
      '',
    ].join('\n');
  }
  return [...common, 'wait "$pid"', ''].join('\n');
}

function healthScript(health: HealthMode, dependencyPort?: number): string {
  const json = 'Content-Type: application/json\\r\\n';
  switch (health) {
    case 'ok':
      return cgi(`printf 'Status: 200 OK\\r\\n${json}\\r\\n{"status":"UP"}'`);
    case 'fail500':
      return cgi(`printf 'Status: 500 Internal Server Error\\r\\n${json}\\r\\n{"status":"DOWN"}'`);
    case 'never':
      return cgi(`printf 'Status: 503 Service Unavailable\\r\\n${json}\\r\\n{"status":"STARTING"}'`);
    case 'die-after-first':
      return cgi(`touch /tmp/first\nprintf 'Status: 200 OK\\r\\n${json}\\r\\n{"status":"UP"}'`);
    case 'needs-env':
      return cgi(`if [ "$HEALTHY" = yes ]; then printf 'Status: 200 OK\\r\\n${json}\\r\\n{"status":"UP"}'; else printf 'Status: 500 Internal Server Error\\r\\n${json}\\r\\n{"status":"DOWN"}'; fi`);
    case 'needs-dependency':
      // No `wget -T`: Debian's static busybox 1.35 segfaults with it; the health check has its own timeout.
      return cgi(
        `if /bin/wget -q -O /dev/null http://127.0.0.1:${Number(dependencyPort)}/; then printf 'Status: 200 OK\\r\\n${json}\\r\\n{"status":"UP"}'; else printf 'Status: 500 Internal Server Error\\r\\n${json}\\r\\n{"status":"DOWN","dependency":"unreachable"}'; fi`,
      );
  }
}

/**
 * A CGI script for busybox httpd: needs a `#!/bin/sh` line and the executable bit. `Status:` must be
 * the FIRST header line (busybox only recognises it there), then headers, a blank line, the body.
 */
function cgi(body: string): string {
  return `#!/bin/sh\n${body}\n`;
}

async function writeExecutable(file: string, content: string): Promise<void> {
  await fs.writeFile(file, content, { mode: 0o755 });
  await fs.chmod(file, 0o755);
}

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}
