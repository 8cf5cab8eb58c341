import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseInput } from './parse-input';
import { SETTINGS_SCHEMA } from './settings-schema';

/**
 * Server-wide settings, read once from the environment: every variable of SETTINGS_SCHEMA, then
 * given the name the code uses. Every field has an embedded default. The environment holds other
 * variables too, so unknown names are not errors here.
 */
const SETTINGS_FROM_ENV = z
  .object(SETTINGS_SCHEMA)
  .superRefine((env, ctx) => {
    // A certificate without its key (or the reverse) is a half-made TLS setup: refuse it, naming the half that is set.
    const cert = env.SLIPWAY_SSL_CERT_FILE;
    const key = env.SLIPWAY_SSL_KEY_FILE;
    if ((cert === undefined) === (key === undefined)) return;
    const set = cert !== undefined ? 'SLIPWAY_SSL_CERT_FILE' : 'SLIPWAY_SSL_KEY_FILE';
    ctx.addIssue({ code: 'custom', path: [set], message: 'SLIPWAY_SSL_CERT_FILE and SLIPWAY_SSL_KEY_FILE must be set together', input: env[set] });
  })
  .transform((env) => ({
    /** State, repos, releases, embedded Redis. */
    home: env.SLIPWAY_HOME,
    /** Port of the git smart-HTTP server. */
    port: env.SLIPWAY_PORT,
    /** Address the git server binds to. */
    host: env.SLIPWAY_HOST,
    /** Fixed push token; when unset one is generated on first start and kept under `home`. */
    token: env.SLIPWAY_TOKEN,
    /** External Redis (`redis://…` or a unix socket path); unset starts an embedded one. */
    redisUrl: env.REDIS_URL,
    /** BullMQ queue name. */
    queueName: env.SLIPWAY_QUEUE,
    /** apachectl-compatible command as an argv array: called with `configtest` and `graceful`. */
    apachectl: env.SLIPWAY_APACHECTL,
    /** Directory holding `<app>*.conf.template` files and the rendered `.conf` files. */
    apacheSites: env.SLIPWAY_APACHE_SITES,
    /** Port Apache serves the apps' vhosts on (the default template's `<VirtualHost *:PORT>`). */
    apacheHttpPort: env.SLIPWAY_APACHE_HTTP_PORT,
    /** TLS files for the default template's HTTPS vhost; unset serves HTTP only. */
    ssl:
      env.SLIPWAY_SSL_CERT_FILE !== undefined && env.SLIPWAY_SSL_KEY_FILE !== undefined
        ? { certFile: env.SLIPWAY_SSL_CERT_FILE, keyFile: env.SLIPWAY_SSL_KEY_FILE, httpsPort: env.SLIPWAY_APACHE_HTTPS_PORT }
        : undefined,
    /** mod_md's server-wide settings for apps with `"tls": "auto"` (see src/tls/). */
    acme: {
      /** ACME directory URL (https). */
      ca: env.SLIPWAY_ACME_CA,
      email: env.SLIPWAY_ACME_EMAIL,
      /** PEM bundle that signs the ACME server's own HTTPS endpoint (a private CA). */
      caTrust: env.SLIPWAY_ACME_CA_TRUST,
      /** The operator agreed to the CA's terms (SLIPWAY_ACME_AGREE_TOS=1); never assumed. */
      termsAgreed: env.SLIPWAY_ACME_AGREE_TOS === '1',
      /** Apache's HTTPS port (SLIPWAY_APACHE_HTTPS_PORT). */
      httpsPort: env.SLIPWAY_APACHE_HTTPS_PORT,
    },
    /** Inclusive port range for app containers. */
    portRange: env.SLIPWAY_PORT_RANGE,
    /** Seconds an old container gets between SIGTERM and SIGKILL. */
    stopGraceSeconds: env.SLIPWAY_STOP_GRACE,
    /** Most containers of one process type `slipway ps:scale` accepts. */
    maxScale: env.SLIPWAY_MAX_SCALE,
    /** How many deploys run at once (across different apps). */
    workerConcurrency: env.SLIPWAY_CONCURRENCY,
    /** Fault injection, for slipway's crash tests only: SIGKILL the worker right after this deploy step. */
    crashAfterStep: env.SLIPWAY_TEST_CRASH_AFTER_STEP,
    /** Fault injection, for slipway's fault tests only: pause the deploy after these steps until the test lets it go on. */
    pauseAfterSteps: env.SLIPWAY_TEST_PAUSE_AFTER_STEPS,
    /**
     * How long a deploy job's lock lives without renewal: a killed worker's deploy is picked up
     * again about this long after it died (and its app lock frees after half of it).
     */
    jobLockMs: env.SLIPWAY_JOB_LOCK_MS,
    /** Images of this many recent releases are kept per app (the live one and the rollback target always). */
    keepReleases: env.SLIPWAY_KEEP_RELEASES,
    /** The Engine's builder for app images. */
    builder: env.SLIPWAY_BUILDER satisfies Builder,
    /** The docker CLI builds run with, instead of the one slipway finds (SLIPWAY_DOCKER_CLI). */
    dockerCli: env.SLIPWAY_DOCKER_CLI,
    /** Seconds a build may run before it is stopped and fails. */
    buildTimeoutSeconds: env.SLIPWAY_BUILD_TIMEOUT,
    /** How long Docker calls of the worker wait for an Engine that does not answer. */
    dockerWaitMs: env.SLIPWAY_DOCKER_WAIT * 1000,
    /** How app images reach the other hosts of a cluster (src/cluster/image-transport.ts). */
    imageTransport: env.SLIPWAY_IMAGE_TRANSPORT satisfies ImageTransport,
    /** The authorized_keys file of slipway's ssh keys. */
    authorizedKeys: env.SLIPWAY_AUTHORIZED_KEYS ?? path.join(os.homedir(), '.ssh', 'authorized_keys'),
    /** Reverse proxies whose `X-Forwarded-For` names the client (addresses and CIDR subnets, checked). */
    trustedProxies: env.SLIPWAY_TRUSTED_PROXIES ?? [],
    /** Request limits of the git server. */
    limits: {
      maxBodyBytes: env.SLIPWAY_MAX_PUSH_BYTES,
      maxConcurrentPushes: env.SLIPWAY_MAX_CONCURRENT_PUSHES,
      idleTimeoutMs: env.SLIPWAY_IDLE_TIMEOUT * 1000,
      /** A request body without a valid token must have arrived within this long of the request's start. */
      bodyTimeoutMs: env.SLIPWAY_BODY_TIMEOUT * 1000,
      maxConnections: env.SLIPWAY_MAX_CONNECTIONS,
      maxConnectionsPerAddress: env.SLIPWAY_MAX_CONNECTIONS_PER_ADDRESS,
    },
    /** Several hosts: the address the hosts reach this server at (unset: one host, as always), Redis's TLS port and the image registry's port there. */
    cluster: { address: env.SLIPWAY_CLUSTER_ADDRESS, redisPort: env.SLIPWAY_CLUSTER_REDIS_PORT, registryPort: env.SLIPWAY_CLUSTER_REGISTRY_PORT },
    /** Failed logins allowed per client address per window before 429. */
    authFailures: { max: env.SLIPWAY_AUTH_MAX_FAILURES, windowMs: env.SLIPWAY_AUTH_WINDOW * 1000 },
  }));

/** Server-wide settings as the code uses them. */
export type Settings = z.output<typeof SETTINGS_FROM_ENV>;

/** Where and how mod_md gets certificates (`SLIPWAY_ACME_*`), checked because they go into Apache's config. */
export type AcmeSettings = Settings['acme'];

/** Where the settings come from, as errors name it. */
export const SETTINGS_SOURCE = 'environment';

/**
 * Reads settings from `env`. Throws an InputError (structured issues, one per bad variable) whose
 * message names each bad variable and the rule it broke.
 */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return parseInput(SETTINGS_FROM_ENV, env, SETTINGS_SOURCE);
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
    runtimeFile: path.join(home, 'runtime.json'),
    auditLog: path.join(home, 'audit.log'),
    maintenancePages: path.join(home, 'maintenance'),
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

/** Which builder builds app images: the Engine's BuildKit, or the classic one (`SLIPWAY_BUILDER`). */
export type Builder = 'buildkit' | 'legacy';

/** How app images reach the other hosts of a cluster (`SLIPWAY_IMAGE_TRANSPORT`). */
export type ImageTransport = 'registry' | 'save-load';

/**
 * Where slipway's own HTTP server is asked on this machine (Apache proxies maintenance pages
 * there): a wildcard bind answers on loopback too; a specific address must be asked on that address.
 */
export function localHttpAddress(settings: Pick<Settings, 'host'>): string {
  return settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
}
