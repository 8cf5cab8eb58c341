import path from 'node:path';

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
}

/** Reads settings from `env`, throwing a plain-words error naming the bad variable. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const home = path.resolve(env.SLIPWAY_HOME ?? '/var/lib/slipway');
  const apachectl = (env.SLIPWAY_APACHECTL ?? 'apachectl').trim().split(/\s+/);
  return {
    home,
    port: intSetting(env, 'SLIPWAY_PORT', 7005, 1, 65535),
    host: env.SLIPWAY_HOST ?? '0.0.0.0',
    token: nonEmpty(env.SLIPWAY_TOKEN),
    redisUrl: nonEmpty(env.REDIS_URL),
    queueName: nonEmpty(env.SLIPWAY_QUEUE) ?? 'slipway-deploys',
    apachectl,
    apacheSites: path.resolve(env.SLIPWAY_APACHE_SITES ?? '/etc/apache2/sites-available'),
    apacheHttpPort: intSetting(env, 'SLIPWAY_APACHE_HTTP_PORT', 80, 1, 65535),
    ssl: readSsl(env),
    portRange: readPortRange(env.SLIPWAY_PORT_RANGE ?? '8080-8999'),
    stopGraceSeconds: intSetting(env, 'SLIPWAY_STOP_GRACE', 10, 0, 3600),
    workerConcurrency: intSetting(env, 'SLIPWAY_CONCURRENCY', 2, 1, 64),
    crashAfterStep: nonEmpty(env.SLIPWAY_TEST_CRASH_AFTER_STEP),
    jobLockMs: intSetting(env, 'SLIPWAY_JOB_LOCK_MS', 60_000, 1000, 3_600_000),
    keepReleases: intSetting(env, 'SLIPWAY_KEEP_RELEASES', 5, 2, 1000),
    limits: {
      maxBodyBytes: intSetting(env, 'SLIPWAY_MAX_PUSH_BYTES', 2 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
      maxConcurrentPushes: intSetting(env, 'SLIPWAY_MAX_CONCURRENT_PUSHES', 8, 1, 1000),
      idleTimeoutMs: intSetting(env, 'SLIPWAY_IDLE_TIMEOUT', 300, 10, 86_400) * 1000,
    },
    authFailures: {
      max: intSetting(env, 'SLIPWAY_AUTH_MAX_FAILURES', 20, 1, 100_000),
      windowMs: intSetting(env, 'SLIPWAY_AUTH_WINDOW', 600, 1, 86_400) * 1000,
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function readSsl(env: NodeJS.ProcessEnv): Settings['ssl'] {
  const certFile = nonEmpty(env.SLIPWAY_SSL_CERT_FILE);
  const keyFile = nonEmpty(env.SLIPWAY_SSL_KEY_FILE);
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new Error('SLIPWAY_SSL_CERT_FILE and SLIPWAY_SSL_KEY_FILE must be set together');
  }
  return { certFile, keyFile, httpsPort: intSetting(env, 'SLIPWAY_APACHE_HTTPS_PORT', 443, 1, 65535) };
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
    builds: path.join(home, 'builds'),
    releases: path.join(home, 'releases'),
    apps: path.join(home, 'apps'),
    deployLogs: path.join(home, 'deploys'),
    apacheMaps: path.join(home, 'apache'),
    redis: path.join(home, 'redis'),
    tokenFile: path.join(home, 'token'),
    namedTokens: path.join(home, 'tokens.json'),
    pushes: path.join(home, 'pushes'),
    runtimeFile: path.join(home, 'runtime.json'),
  };
}

/** The bare repository of `app`. */
export function repoPath(home: string, app: string): string {
  return path.join(homePaths(home).repos, `${app}.git`);
}
