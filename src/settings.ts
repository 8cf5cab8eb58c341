import path from 'node:path';
import { hookSocketPath } from './hook/hook-protocol';
import { SETTINGS_SCHEMA, type SettingName } from './settings-schema';
import type { Builder } from './docker/image-build';

/** Server-wide settings, read once from the environment. Every field has an embedded default. */
export interface Settings {
  /** State, repos, releases, embedded Redis. */
  home: string;
  /** Port of the git smart-HTTP server. */
  port: number;
  /** Address the git server binds to. */
  host: string;
  /** Fixed push token; when unset one is generated on first start and kept under `home`. */
  token: string | undefined;
  /** External Redis (`redis://…` or a unix socket path); unset starts an embedded one. */
  redisUrl: string | undefined;
  /** BullMQ queue name. */
  queueName: string;
  /** apachectl-compatible command as an argv array: called with `configtest` and `graceful`. */
  apachectl: string[];
  /** Directory holding `<app>*.conf.template` files and the rendered `.conf` files. */
  apacheSites: string;
  /** Port Apache serves the apps' vhosts on (the default template's `<VirtualHost *:PORT>`). */
  apacheHttpPort: number;
  /** TLS files for the default template's HTTPS vhost; unset serves HTTP only. */
  ssl: { certFile: string; keyFile: string; httpsPort: number } | undefined;
  /** mod_md's server-wide settings for apps with `"tls": "auto"` (see src/tls/). */
  acme: AcmeSettings;
  /** Inclusive port range for app containers. */
  portRange: { first: number; last: number };
  /** Seconds an old container gets between SIGTERM and SIGKILL. */
  stopGraceSeconds: number;
  /** How many deploys run at once (across different apps). */
  workerConcurrency: number;
  /** Request limits of the git server. */
  limits: { maxBodyBytes: number; maxConcurrentPushes: number; idleTimeoutMs: number };
  /** Failed logins allowed per client address per window before 429. */
  authFailures: { max: number; windowMs: number };
  /**
   * How long a deploy job's lock lives without renewal: a killed worker's deploy is picked up
   * again about this long after it died (and its app lock frees after half of it).
   */
  jobLockMs: number;
  /** Fault injection, for slipway's crash tests only: SIGKILL the worker right after this deploy step. */
  crashAfterStep: string | undefined;
  /** Images of this many recent releases are kept per app (the live one and the rollback target always). */
  keepReleases: number;
  /** The Engine's builder for app images. */
  builder: Builder;
}

/** Where and how mod_md gets certificates (`SLIPWAY_ACME_*`); checked here because they go into Apache's config. */
export interface AcmeSettings {
  /** ACME directory URL (https). */
  ca: string;
  email: string | undefined;
  /** PEM bundle that signs the ACME server's own HTTPS endpoint (a private CA). */
  caTrust: string | undefined;
  /** The operator agreed to the CA's terms (SLIPWAY_ACME_AGREE_TOS=1); never assumed. */
  termsAgreed: boolean;
  /** Apache's HTTPS port (SLIPWAY_APACHE_HTTPS_PORT). */
  httpsPort: number;
}

/** Reads settings from `env`, throwing a plain-words error naming the bad variable. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const get = (name: SettingName) => nonEmpty(env[name]) ?? SETTINGS_SCHEMA[name].default;
  const int = (name: SettingName, min: number, max: number) => intSetting(name, get(name), min, max);
  return {
    home: path.resolve(get('SLIPWAY_HOME') as string),
    port: int('SLIPWAY_PORT', 1, 65535),
    host: get('SLIPWAY_HOST') as string,
    token: get('SLIPWAY_TOKEN'),
    redisUrl: get('REDIS_URL'),
    queueName: get('SLIPWAY_QUEUE') as string,
    apachectl: (get('SLIPWAY_APACHECTL') as string).split(/\s+/),
    apacheSites: path.resolve(get('SLIPWAY_APACHE_SITES') as string),
    apacheHttpPort: int('SLIPWAY_APACHE_HTTP_PORT', 1, 65535),
    ssl: readSsl(get('SLIPWAY_SSL_CERT_FILE'), get('SLIPWAY_SSL_KEY_FILE'), () => int('SLIPWAY_APACHE_HTTPS_PORT', 1, 65535)),
    acme: readAcme(get, () => int('SLIPWAY_APACHE_HTTPS_PORT', 1, 65535)),
    portRange: readPortRange(get('SLIPWAY_PORT_RANGE') as string),
    stopGraceSeconds: int('SLIPWAY_STOP_GRACE', 0, 3600),
    workerConcurrency: int('SLIPWAY_CONCURRENCY', 1, 64),
    crashAfterStep: get('SLIPWAY_TEST_CRASH_AFTER_STEP'),
    jobLockMs: int('SLIPWAY_JOB_LOCK_MS', 1000, 3_600_000),
    keepReleases: int('SLIPWAY_KEEP_RELEASES', 2, 1000),
    builder: readBuilder(get('SLIPWAY_BUILDER') as string),
    limits: {
      maxBodyBytes: int('SLIPWAY_MAX_PUSH_BYTES', 1024, Number.MAX_SAFE_INTEGER),
      maxConcurrentPushes: int('SLIPWAY_MAX_CONCURRENT_PUSHES', 1, 1000),
      idleTimeoutMs: int('SLIPWAY_IDLE_TIMEOUT', 90, 86_400) * 1000,
    },
    authFailures: {
      max: int('SLIPWAY_AUTH_MAX_FAILURES', 1, 100_000),
      windowMs: int('SLIPWAY_AUTH_WINDOW', 1, 86_400) * 1000,
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function intSetting(name: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function readSsl(certFile: string | undefined, keyFile: string | undefined, httpsPort: () => number): Settings['ssl'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new Error('SLIPWAY_SSL_CERT_FILE and SLIPWAY_SSL_KEY_FILE must be set together');
  }
  return { certFile, keyFile, httpsPort: httpsPort() };
}

/** Text that lands in an Apache directive: no quotes, backslashes, whitespace or control characters. */
const APACHE_WORD = /^[^\s"\\\x00-\x1f\x7f]+$/;

function readAcme(get: (name: SettingName) => string | undefined, httpsPort: () => number): AcmeSettings {
  const ca = get('SLIPWAY_ACME_CA') as string;
  let url: URL | undefined;
  try {
    url = new URL(ca);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || !APACHE_WORD.test(ca)) throw new Error(`SLIPWAY_ACME_CA=${ca} must be an https:// URL of an ACME directory`);
  const email = get('SLIPWAY_ACME_EMAIL');
  if (email !== undefined && !/^[^@\s"\\]+@[^@\s"\\]+$/.test(email)) throw new Error(`SLIPWAY_ACME_EMAIL=${email} is not an email address`);
  const caTrust = get('SLIPWAY_ACME_CA_TRUST');
  if (caTrust !== undefined && (!path.isAbsolute(caTrust) || !APACHE_WORD.test(caTrust))) throw new Error(`SLIPWAY_ACME_CA_TRUST=${caTrust} must be an absolute file path without spaces or quotes`);
  const agree = get('SLIPWAY_ACME_AGREE_TOS');
  if (agree !== undefined && agree !== '1' && agree !== '0') throw new Error(`SLIPWAY_ACME_AGREE_TOS=${agree} must be 1 (agree to the ACME CA's terms) or 0`);
  return { ca, email, caTrust, termsAgreed: agree === '1', httpsPort: httpsPort() };
}

function readBuilder(raw: string): Builder {
  if (raw !== 'buildkit' && raw !== 'legacy') throw new Error(`SLIPWAY_BUILDER=${raw} must be buildkit or legacy`);
  return raw;
}

function readPortRange(raw: string): { first: number; last: number } {
  const match = /^(\d+)-(\d+)$/.exec(raw.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1024 || last > 65535 || first > last) {
    throw new Error(`SLIPWAY_PORT_RANGE=${raw} must look like 8080-8999 (ports 1024-65535, first ≤ last)`);
  }
  return { first, last };
}

/** Where slipway keeps each kind of state under `home`. */
export function homePaths(home: string) {
  return {
    repos: path.join(home, 'repos'),
    workTrees: path.join(home, 'worktrees'),
    releases: path.join(home, 'releases'),
    apps: path.join(home, 'apps'),
    deployLogs: path.join(home, 'deploys'),
    apacheMaps: path.join(home, 'apache'),
    redis: path.join(home, 'redis'),
    tokenFile: path.join(home, 'token'),
    namedTokens: path.join(home, 'tokens.json'),
    hookSocket: hookSocketPath(home),
    runtimeFile: path.join(home, 'runtime.json'),
  };
}

/** The work tree `app`'s commits are checked out into for a build (kept between deploys). */
export function workTreePath(home: string, app: string): string {
  return path.join(homePaths(home).workTrees, app);
}

/** The bare repository of `app`. */
export function repoPath(home: string, app: string): string {
  return path.join(homePaths(home).repos, `${app}.git`);
}
