/**
 * A private Apache httpd for end-to-end tests: its own temp directory, config file, loopback port and
 * apachectl-compatible wrapper. It never reads `/etc/apache2` or Debian's envvars, and never listens
 * on port 80.
 *
 * Permissions: the tests run as root, so the Apache parent runs as root and its children (which
 * serve requests, evaluate `RewriteMap`s and proxy) run as `www-data`. Every file a child reads at
 * run time, in particular `RewriteMap name "txt:/path/file.map"` files, must be world-readable
 * (0644) and every directory on its path must be traversable by others (0755). `mkdtemp` creates
 * 0700 directories: chmod them. A map the child cannot read makes the lookup come back empty: the
 * client gets `400 Bad Request` (the proxy URL becomes `http:///...`) and error.log says
 * `AH00661: mod_rewrite: can't access text RewriteMap file` then `AH01083: error parsing URL`.
 * Each child re-reads a txt map when its mtime changes, so replacing it by rename switches
 * upstreams without a reload.
 *
 * Notice-level lines are logged despite `LogLevel warn`; each graceful reload logs
 * `AH00493: SIGUSR1 received.  Doing graceful restart`, which tests can count.
 */
import { isAlive, readPid, run, safeKill, sleep, tailFile, terminate } from './daemon-process';
import { promises as fs } from 'node:fs';
import { connect } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { makeSelfSignedCertificate } from './self-signed-certificate';

/** Where Debian's apache2 package installs its loadable modules. */
const MODULES_DIR = '/usr/lib/apache2/modules';
/** The Apache binary; invoked directly so that Debian's envvars and /etc/apache2 are not involved. */
const APACHE_BIN = '/usr/sbin/apache2';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** A running private Apache. */
export interface ApacheInstance {
  /** The loopback port Apache listens on (`Listen 127.0.0.1:<port>`); vhosts use `<VirtualHost *:<port>>`. */
  port: number;
  /** The instance's own temp directory (mode 0755): config, pid file, logs, wrapper. Removed by `stop()`. */
  dir: string;
  /** Directory whose `*.conf` files are included (`IncludeOptional <sitesDir>/*.conf`). */
  sitesDir: string;
  /** The main config file passed to `apache2 -f`. */
  confFile: string;
  /**
   * argv of an apachectl-compatible wrapper (`[<dir>/apachectl]`): append `configtest`, `graceful`,
   * `start` or `stop` (and `-M` for an `md` instance). Any other action exits 2.
   */
  apachectl: string[];
  /** With `tls`: the loopback HTTPS port, and a self-signed certificate for `*.localhost`. */
  tls?: { port: number; certFile: string; keyFile: string };
  /** Pid of the Apache parent process, read from its pid file after (re)start. */
  pid: number;
  /**
   * Kills Apache the way a crash of the whole service would (`systemctl kill -s KILL apache2`, the
   * OOM killer taking the cgroup): SIGKILL to the parent and to each of its children, by pid. The
   * parent alone is not enough: its children keep the listening socket and go on answering.
   * Resolves once none of them runs.
   */
  kill(): Promise<void>;
  /** Starts Apache again after {@link kill} (same config and port); resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * Sends SIGTERM to the pid in the pid file (only the process this instance started), waits up to
   * 10 s for it to exit (then SIGKILL), and removes `dir`. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * A network namespace to run Apache in (test/support/netns-host.ts: a simulated host) and the
 * namespace's address it listens on instead of the loopback.
 */
export interface NetnsPlace {
  name: string;
  address: string;
}

/**
 * Starts a private Apache on a free loopback port (with `netns`: inside that namespace, on its address
 * and on the namespace's own loopback, as a host's Apache listening on every address would).
 *
 * The config loads mpm_event, authn_core, authz_core, proxy, proxy_http, rewrite and headers (plus
 * the compiled-in log_config/unixd), sets `User`/`Group www-data`, keeps event-MPM scoreboard
 * headroom (`ServerLimit` well above `MaxRequestWorkers / ThreadsPerChild`) so repeated graceful
 * reloads don't hit AH03490, and includes `<sitesDir>/*.conf`. No vhost is defined in the main
 * config: the first vhost from the sites dir is the default for the port.
 *
 * Resolves once the pid file exists and the port accepts TCP connections (at most 10 s); rejects
 * with the tail of `error.log` otherwise (after stopping whatever it started).
 */
export async function startApache(options: { tls?: boolean; md?: boolean; netns?: NetnsPlace } = {}): Promise<ApacheInstance> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-apache-'));
  await fs.chmod(dir, 0o755);
  const sitesDir = path.join(dir, 'sites');
  const runDir = path.join(dir, 'run');
  const docRoot = path.join(dir, 'htdocs');
  for (const sub of [sitesDir, runDir, docRoot]) {
    await fs.mkdir(sub, { mode: 0o755 });
    await fs.chmod(sub, 0o755);
  }
  const port = await freePort();
  const tls = options.tls || options.md ? await selfSignedTls(dir) : undefined;
  const confFile = path.join(dir, 'httpd.conf');
  const pidFile = path.join(dir, 'apache.pid');
  const errorLog = path.join(dir, 'error.log');
  await fs.writeFile(confFile, renderConfig({ listen: options.netns?.address ?? '127.0.0.1', dir, port, sitesDir, runDir, docRoot, pidFile, errorLog, tlsPort: tls?.port, md: options.md }), {
    mode: 0o644,
  });
  const wrapper = path.join(dir, 'apachectl');
  await fs.writeFile(wrapper, renderWrapper(confFile, { listModules: options.md === true, netns: options.netns?.name }), { mode: 0o755 });
  await fs.chmod(wrapper, 0o755);
  const apachectl = [wrapper];

  let pid: number | undefined;
  let stopped = false;
  const onExit = (): void => {
    if (pid !== undefined && !stopped) safeKill(pid, 'SIGTERM');
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    const target = (await readPid(pidFile)) ?? pid;
    if (target !== undefined) await terminate(target, STOP_TIMEOUT_MS, 'apache2');
    await fs.rm(dir, { recursive: true, force: true });
  };

  const launch = async (): Promise<void> => {
    const started = await run(apachectl[0], ['start']);
    if (started.code !== 0) {
      throw new Error(`apachectl start exited ${started.code}: ${started.output}`);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (pid === undefined) {
        pid = await readPid(pidFile);
        if (pid !== undefined) process.once('exit', onExit);
      }
      if (pid !== undefined && (await canConnect(port, options.netns?.address))) break;
      if (Date.now() > deadline) {
        throw new Error(`Apache did not ${pid === undefined ? 'write its pid file' : `accept connections on 127.0.0.1:${port}`} within ${START_TIMEOUT_MS} ms`);
      }
      await sleep(50);
    }
  };
  try {
    await launch();
  } catch (err) {
    const tail = await tailFile(errorLog, 30);
    await stop().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`startApache failed: ${message}\n--- ${errorLog} (tail) ---\n${tail}`);
  }
  return {
    port,
    dir,
    sitesDir,
    confFile,
    apachectl,
    get pid() {
      return pid as number;
    },
    tls,
    stop,
    async kill() {
      const parent = (await readPid(pidFile)) ?? pid;
      if (parent === undefined) return;
      const family = [parent, ...(await childrenOf(parent))];
      for (const member of family) safeKill(member, 'SIGKILL');
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (Date.now() < deadline && (await anyAlive(family))) await sleep(50);
      process.removeListener('exit', onExit);
      pid = undefined;
      // A killed Apache leaves its pid file; `-k start` would still start, but say the pid is stale.
      await fs.rm(pidFile, { force: true });
    },
    async start() {
      await launch();
    },
  };
}

/** Pids whose parent is `parent` (from /proc), i.e. Apache's worker children. */
async function childrenOf(parent: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) children.push(Number(entry));
  }
  return children;
}

async function anyAlive(pids: number[]): Promise<boolean> {
  for (const p of pids) if (await isAlive(p)) return true;
  return false;
}

/** A throwaway certificate (openssl, 1 day) for `*.localhost`, and a free port for HTTPS. */
async function selfSignedTls(dir: string): Promise<{ port: number; certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'tls-cert.pem');
  const keyFile = path.join(dir, 'tls-key.pem');
  await makeSelfSignedCertificate({ certFile, keyFile }, '/CN=localhost', 'DNS:localhost,DNS:*.localhost');
  await fs.chmod(keyFile, 0o644);
  return { port: await freePort(), certFile, keyFile };
}

interface ConfigParts {
  dir: string;
  port: number;
  sitesDir: string;
  runDir: string;
  docRoot: string;
  pidFile: string;
  errorLog: string;
  tlsPort?: number;
  md?: boolean;
  /** The address of `Listen`: the loopback, or a network namespace's address. */
  listen: string;
}

/** The main config file: everything explicit, nothing from /etc/apache2. */
function renderConfig(p: ConfigParts): string {
  const q = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;
  const modules = [
    ['mpm_event_module', 'mod_mpm_event.so'],
    ['authn_core_module', 'mod_authn_core.so'],
    ['authz_core_module', 'mod_authz_core.so'],
    ['proxy_module', 'mod_proxy.so'],
    ['proxy_http_module', 'mod_proxy_http.so'],
    ['rewrite_module', 'mod_rewrite.so'],
    ['headers_module', 'mod_headers.so'],
  ];
  if (p.tlsPort !== undefined) modules.push(['socache_shmcb_module', 'mod_socache_shmcb.so'], ['ssl_module', 'mod_ssl.so']);
  // mod_md (Debian builds mod_watchdog in); authz_host for the loopback-only `Require ip` of its status.
  if (p.md) modules.push(['authz_host_module', 'mod_authz_host.so'], ['md_module', 'mod_md.so']);
  return [
    '# Private test Apache written by test/support/apache-instance.ts; not the system config.',
    `ServerRoot ${q(p.dir)}`,
    `Listen ${p.listen}:${p.port}`,
    // In a network namespace, on its loopback too (the namespace's own): slipway checks that Apache
    // answers on 127.0.0.1:<port>, as it can on a real host whose Apache listens on every address.
    ...(p.listen !== '127.0.0.1' ? [`Listen 127.0.0.1:${p.port}`] : []),
    ...(p.tlsPort !== undefined ? [`Listen 127.0.0.1:${p.tlsPort} https`, `SSLSessionCache shmcb:${path.join(p.runDir, 'ssl_scache')}(512000)`] : []),
    `PidFile ${q(p.pidFile)}`,
    `DefaultRuntimeDir ${q(p.runDir)}`,
    `Mutex file:${p.dir} default`,
    '',
    ...modules.map(([name, file]) => `LoadModule ${name} ${q(path.join(MODULES_DIR, file))}`),
    '',
    'ServerName 127.0.0.1',
    'User www-data',
    'Group www-data',
    'ServerTokens Prod',
    'TraceEnable Off',
    'Timeout 300',
    'KeepAlive On',
    'MaxKeepAliveRequests 1000',
    'KeepAliveTimeout 5',
    '',
    '# Event MPM: ServerLimit leaves room for old-generation children still finishing requests',
    '# after graceful reloads (otherwise: AH03490 "scoreboard is full, not at MaxRequestWorkers").',
    '<IfModule mpm_event_module>',
    '    StartServers 2',
    '    ServerLimit 32',
    '    ThreadLimit 64',
    '    ThreadsPerChild 25',
    '    MaxRequestWorkers 200',
    '    MinSpareThreads 25',
    '    MaxSpareThreads 75',
    '    MaxConnectionsPerChild 0',
    '</IfModule>',
    '',
    // mod_md keeps its store under ServerRoot (`md`, its default): here the instance's own dir.
    // It looks at its certificates every 12 h by default; tests renew within minutes.
    ...(p.md ? [`MDStoreDir ${q(path.join(p.dir, 'md'))}`, 'MDCheckInterval 2s'] : []),
    `ErrorLog ${q(p.errorLog)}`,
    'LogLevel warn',
    'LogFormat "%h %l %u %t \\"%r\\" %>s %b %D \\"%{Host}i\\"" slipwaytest',
    `CustomLog ${q(path.join(p.dir, 'access.log'))} slipwaytest`,
    '',
    `DocumentRoot ${q(p.docRoot)}`,
    '<Directory />',
    '    AllowOverride None',
    '    Require all denied',
    '</Directory>',
    '',
    `IncludeOptional ${q(path.join(p.sitesDir, '*.conf'))}`,
    '',
  ].join('\n');
}

/**
 * A bash apachectl replacement bound to one config file. With `listModules` (the mod_md instance,
 * whose doctor test checks the modules) it also answers `-M`; other tests expect it refused.
 */
function renderWrapper(confFile: string, options: { listModules: boolean; netns?: string }): string {
  const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    '#!/bin/bash',
    '# apachectl-compatible wrapper for a private test Apache (test/support/apache-instance.ts).',
    '# Never uses /etc/apache2 or its envvars.',
    'set -u',
    // In a network namespace (a simulated host), Apache is started there: nsenter, not `ip netns exec`, which remounts /sys.
    options.netns === undefined ? `APACHE=${sq(APACHE_BIN)}` : `APACHE=(nsenter ${sq(`--net=/var/run/netns/${options.netns}`)} ${sq(APACHE_BIN)})`,
    `CONF=${sq(confFile)}`,
    'case "${1:-}" in',
    '  configtest) exec "${APACHE[@]}" -f "$CONF" -t ;;',
    '  graceful) exec "${APACHE[@]}" -f "$CONF" -k graceful ;;',
    '  start) exec "${APACHE[@]}" -f "$CONF" -k start </dev/null ;;',
    '  stop) exec "${APACHE[@]}" -f "$CONF" -k stop ;;',
    ...(options.listModules ? ['  -M) exec "${APACHE[@]}" -f "$CONF" -M ;;'] : []),
    '  -v) exec "${APACHE[@]}" -v ;;',
    '  *) echo "apachectl wrapper: unsupported action \'${1:-}\' (use configtest|graceful|start|stop|-v)" >&2; exit 2 ;;',
    'esac',
    '',
  ].join('\n');
}

function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
