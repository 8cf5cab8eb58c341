import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseTrustedProxies } from './client-address';

/**
 * Every server setting slipway reads from the environment: its default, what it means and the rule
 * its value must follow, as one zod schema per variable. The settings reader (src/settings.ts)
 * parses the environment with these schemas and docs/configuration.md is generated from them
 * (`slipway settings --markdown`), so code and docs cannot drift apart.
 *
 * Adding a setting: one entry here, `NAME: setting({ default, meaning }, rule)`, and one line in
 * src/settings.ts that gives it its name in the code.
 */

/** How a setting is documented: its default as the environment would spell it (undefined = unset) and what it means. */
export interface SettingSpec {
  default: string | undefined;
  meaning: string;
}

/** The variable's value with blanks treated as unset, as slipway always has. */
function envValue(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A setting with a default: its value is never undefined. */
function setting<T extends z.ZodType<unknown, string>>(spec: { default: string; meaning: string }, rule: T) {
  return z.preprocess((value) => envValue(value) ?? spec.default, rule).meta({ description: spec.meaning, envDefault: spec.default });
}

/** A setting that may stay unset. */
function optionalSetting<T extends z.ZodType<unknown, string>>(spec: { default: undefined; meaning: string }, rule: T) {
  return z.preprocess(envValue, rule.optional()).meta({ description: spec.meaning });
}

// The rules settings follow.
const anyText = z.string();
const absolutePath = z.string().transform((p) => path.resolve(p));
/** `apachectl -f /etc/x.conf` → argv, split on spaces: never run through a shell. */
const argv = z.string().transform((s) => s.split(/\s+/));
function wholeNumber(min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.issues.push({ code: 'custom', message: `expected a whole number from ${min} to ${max}`, input: raw });
    return z.NEVER;
  });
}
const portRange = z.string().transform((raw, ctx) => {
  const match = /^(\d+)-(\d+)$/.exec(raw);
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (match && first >= 1024 && last <= 65535 && first <= last) return { first, last };
  ctx.issues.push({ code: 'custom', message: 'expected a range like 8080-8999 (ports 1024-65535, first ≤ last)', input: raw });
  return z.NEVER;
});

/** Text that lands in one Apache directive: no quotes, backslashes, whitespace or control characters. */
const APACHE_WORD = /^[^\s"\\\p{Cc}]+$/u;
const acmeDirectoryUrl = z.string().refine((raw) => APACHE_WORD.test(raw) && URL.canParse(raw) && new URL(raw).protocol === 'https:', 'expected an https:// URL of an ACME directory');
const acmeTrustFile = z.string().refine((raw) => path.isAbsolute(raw) && APACHE_WORD.test(raw), 'expected an absolute file path without spaces or quotes');

const trustedProxies = z.string().transform((raw, ctx) => {
  try {
    return parseTrustedProxies(raw);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^SLIPWAY_TRUSTED_PROXIES: /, ''), input: raw });
    return z.NEVER;
  }
});

/** An address the hosts can reach: an IP (v4 or v6), not a wildcard (the server certificate names it). */
const clusterAddress = z.string().refine((raw) => isIP(raw) !== 0 && raw !== '0.0.0.0' && raw !== '::', 'expected the IP address other hosts reach this server at (not 0.0.0.0 or ::)');

export const SETTINGS_SCHEMA = {
  SLIPWAY_HOME: setting(
    { default: '/var/lib/slipway', meaning: 'state: repos, releases, deploy logs, tokens, embedded Redis (port maps live in slipway-maps/ beside SLIPWAY_APACHE_SITES)' },
    absolutePath,
  ),
  SLIPWAY_PORT: setting(
    { default: '7005', meaning: 'port of the git smart-HTTP server and the dashboard (on another host: where its agent answers maintenance pages, on loopback)' },
    wholeNumber(1, 65535),
  ),
  SLIPWAY_HOST: setting({ default: '0.0.0.0', meaning: 'address the server binds' }, anyText),
  SLIPWAY_TOKEN: optionalSetting({ default: undefined, meaning: 'the admin push token; when unset one is generated on first start and kept in `$SLIPWAY_HOME/token`' }, anyText),
  REDIS_URL: optionalSetting({ default: undefined, meaning: '`redis://…` or a unix socket path; unset starts a private redis-server on a unix socket under `$SLIPWAY_HOME/redis` (AOF on)' }, anyText),
  SLIPWAY_QUEUE: setting({ default: 'slipway-deploys', meaning: 'BullMQ queue name' }, anyText),
  SLIPWAY_APACHECTL: setting({ default: 'apachectl', meaning: 'apachectl-compatible command, called with `configtest` and `graceful` (split on spaces, never run through a shell)' }, argv),
  SLIPWAY_APACHE_SITES: setting({ default: '/etc/apache2/sites-available', meaning: 'where `<app>*.conf.template` files are read and `.conf` files written' }, absolutePath),
  SLIPWAY_APACHE_HTTP_PORT: setting({ default: '80', meaning: "port of the default template's vhost, of the built-in probe and of the after-reload check" }, wholeNumber(1, 65535)),
  SLIPWAY_SSL_CERT_FILE: optionalSetting({ default: undefined, meaning: "certificate for the default template's HTTPS vhost (set with SLIPWAY_SSL_KEY_FILE)" }, anyText),
  SLIPWAY_SSL_KEY_FILE: optionalSetting({ default: undefined, meaning: "private key for the default template's HTTPS vhost" }, anyText),
  SLIPWAY_APACHE_HTTPS_PORT: setting({ default: '443', meaning: 'port of the default template\'s HTTPS vhost (static certificate or `"tls": "auto"`)' }, wholeNumber(1, 65535)),
  SLIPWAY_ACME_CA: setting(
    {
      default: 'https://acme-v02.api.letsencrypt.org/directory',
      meaning: 'ACME directory URL (https) mod_md gets certificates from for apps with `"tls": "auto"` (default: Let\'s Encrypt production)',
    },
    acmeDirectoryUrl,
  ),
  SLIPWAY_ACME_EMAIL: optionalSetting(
    { default: undefined, meaning: "contact address given to the ACME CA (expiry warnings); mod_md's `MDContactEmail`" },
    z.email({ error: 'expected an email address' }),
  ),
  SLIPWAY_ACME_CA_TRUST: optionalSetting(
    { default: undefined, meaning: "CA bundle (PEM file) that signs the ACME server's own HTTPS endpoint, for a private ACME CA; mod_md's `MDCACertificateFile`" },
    acmeTrustFile,
  ),
  SLIPWAY_ACME_AGREE_TOS: optionalSetting(
    { default: undefined, meaning: '`1` agrees to the ACME CA\'s terms of service (`MDCertificateAgreement accepted`); `"tls": "auto"` is refused until it is set' },
    z.enum(['0', '1'], { error: "expected 1 (agree to the ACME CA's terms) or 0" }),
  ),
  SLIPWAY_PORT_RANGE: setting({ default: '8080-8999', meaning: 'ports for app containers' }, portRange),
  SLIPWAY_STOP_GRACE: setting({ default: '10', meaning: 'seconds between SIGTERM and SIGKILL when an old container stops' }, wholeNumber(0, 3600)),
  SLIPWAY_MAX_SCALE: setting({ default: '16', meaning: 'most containers of one process type `slipway ps:scale` accepts' }, wholeNumber(1, 1000)),
  SLIPWAY_CONCURRENCY: setting({ default: '2', meaning: 'deploys of different apps at once (one app never deploys twice at once)' }, wholeNumber(1, 64)),
  SLIPWAY_KEEP_RELEASES: setting({ default: '5', meaning: 'images of this many recent releases are kept per app (the live one and any in use always)' }, wholeNumber(2, 1000)),
  SLIPWAY_JOB_LOCK_MS: setting({ default: '60000', meaning: "a killed worker's deploy is picked up again about this long after it died" }, wholeNumber(1000, 3_600_000)),
  SLIPWAY_MAX_PUSH_BYTES: setting({ default: '2147483648', meaning: 'largest request body (a push) in bytes' }, wholeNumber(1024, Number.MAX_SAFE_INTEGER)),
  SLIPWAY_MAX_CONCURRENT_PUSHES: setting({ default: '8', meaning: 'pushes served at once; more get 503 with Retry-After' }, wholeNumber(1, 1000)),
  SLIPWAY_IDLE_TIMEOUT: setting(
    { default: '300', meaning: 'seconds (90 or more) a connection may stay silent before it is closed; a push that follows a deploy prints a line at least every 60 s' },
    wholeNumber(90, 86_400),
  ),
  SLIPWAY_AUTH_MAX_FAILURES: setting({ default: '20', meaning: 'failed logins (git remote and dashboard together) per client address within the window before 429' }, wholeNumber(1, 100_000)),
  SLIPWAY_AUTH_WINDOW: setting({ default: '600', meaning: 'seconds of the failed-login window' }, wholeNumber(1, 86_400)),
  SLIPWAY_BODY_TIMEOUT: setting(
    {
      default: '60',
      meaning:
        'seconds (1-60) within which a request body must have fully arrived, for dashboard forms and every request without a valid token (anonymous fetches included); pushes and fetches with a token are bound by SLIPWAY_IDLE_TIMEOUT only',
    },
    wholeNumber(1, 60),
  ),
  SLIPWAY_MAX_CONNECTIONS: setting({ default: '1000', meaning: 'open connections to the server in total; more are closed at once' }, wholeNumber(16, 1_000_000)),
  SLIPWAY_MAX_CONNECTIONS_PER_ADDRESS: setting({ default: '64', meaning: 'open connections from one peer address; more are closed at once (trusted proxies are exempt)' }, wholeNumber(4, 1_000_000)),
  SLIPWAY_TRUSTED_PROXIES: optionalSetting(
    {
      default: undefined,
      meaning:
        'comma-separated addresses and CIDR subnets of reverse proxies in front of slipway (e.g. `127.0.0.1,::1` for an Apache on the same host); only for requests from these is the client address taken from `X-Forwarded-For` (the rightmost hop that is not a trusted proxy), for the failed-login limit and the log',
    },
    trustedProxies,
  ),
  SLIPWAY_BUILDER: setting(
    {
      default: 'buildkit',
      meaning:
        "`buildkit`: BuildKit, through the docker CLI (`docker buildx build --load`, or `DOCKER_BUILDKIT=1 docker build` on a CLI older than 23); each app's build directory is kept between builds, so BuildKit fetches only the files a push changed. `legacy`: the classic builder (`DOCKER_BUILDKIT=0 docker build`), sent the whole context on every build. `slipway doctor` says which CLI and builder a build will use",
    },
    z.enum(['buildkit', 'legacy']),
  ),
  SLIPWAY_DOCKER_CLI: optionalSetting(
    {
      default: undefined,
      meaning:
        'the docker CLI builds run with; unset: the first of `docker` on PATH, /usr/bin/docker, /usr/local/bin/docker that can build with the chosen builder (for BuildKit: one with the buildx plugin, or one older than 23.0)',
    },
    absolutePath,
  ),
  SLIPWAY_BUILD_TIMEOUT: setting({ default: '1800', meaning: 'seconds a build may run; past it the docker CLI is stopped and the deploy fails, the old version still serving' }, wholeNumber(1, 86400)),
  SLIPWAY_DOCKER_WAIT: setting(
    {
      default: '300',
      meaning:
        'seconds a deploy (and the worker at start) waits for a Docker Engine that does not answer (restarting, an upgrade) before it fails; 0: fail at once. When the Engine is back, slipway starts again the app containers it stopped',
    },
    wholeNumber(0, 3600),
  ),
  SLIPWAY_IMAGE_TRANSPORT: setting(
    {
      default: 'registry',
      meaning:
        "how an app image built on the server reaches the other hosts of a cluster: `registry`: pushed once to the server's own registry (Debian's docker-registry, TLS with the cluster CA, bcrypt htpasswd auth, storage under `$SLIPWAY_HOME/registry`) and pulled by each host, only the layers a host lacks travel; `save-load`: `docker save` on the server streamed into `docker load` on the host, the whole image every time, no registry. `slipway doctor` checks the registry when one runs",
    },
    z.enum(['registry', 'save-load']),
  ),
  SLIPWAY_AUTHORIZED_KEYS: optionalSetting(
    {
      default: undefined,
      meaning:
        'the authorized_keys file `slipway keys:add` writes (keys that may only push and fetch apps over ssh); unset: `~/.ssh/authorized_keys` of the user slipway runs as. Point it at a file your sshd reads through `AuthorizedKeysFile`',
    },
    absolutePath,
  ),
  SLIPWAY_CLUSTER_ADDRESS: optionalSetting(
    {
      default: undefined,
      meaning: "the IP address other hosts reach this server at (`slipway hosts:add`); Redis's TLS listener binds there once a host exists. Unset: one host, no network listener",
    },
    clusterAddress,
  ),
  SLIPWAY_CLUSTER_REDIS_PORT: setting({ default: '6380', meaning: "port of Redis's TLS listener on SLIPWAY_CLUSTER_ADDRESS, for the hosts' agents" }, wholeNumber(1, 65535)),
  SLIPWAY_CLUSTER_REGISTRY_PORT: setting(
    {
      default: '6381',
      meaning: "port of the image registry (Debian's docker-registry, TLS, htpasswd) slipway runs on SLIPWAY_CLUSTER_ADDRESS once an app runs on another host; the hosts pull app images from it",
    },
    wholeNumber(1, 65535),
  ),
  SLIPWAY_LOG_LEVEL: setting({ default: 'info', meaning: 'pino log level (JSON lines; pretty when stdout is a terminal)' }, anyText),
  SLIPWAY_TEST_CRASH_AFTER_STEP: optionalSetting(
    { default: undefined, meaning: "fault injection for slipway's own crash tests: SIGKILL the worker after this deploy step. Never set it in production" },
    anyText,
  ),
  SLIPWAY_TEST_PAUSE_AFTER_STEPS: optionalSetting(
    {
      default: undefined,
      meaning:
        "fault injection for slipway's own fault tests: after each of these deploy steps (comma-separated) the deploy waits until the test removes `$SLIPWAY_HOME/test-pauses/paused-after-<step>`. Never set it in production",
    },
    z.string().transform((s) =>
      s
        .split(',')
        .map((step) => step.trim())
        .filter(Boolean),
    ),
  ),
  DOCKER_HOST: optionalSetting(
    { default: undefined, meaning: 'Docker Engine to use (default: the local socket); builds too: the docker CLI is given the same DOCKER_HOST, whatever its own current context' },
    anyText,
  ),
};

export type SettingName = keyof typeof SETTINGS_SCHEMA;

/** A setting's documentation, read back from its schema. */
export function settingSpec(name: SettingName): SettingSpec {
  const meta = SETTINGS_SCHEMA[name].meta() as { description: string; envDefault?: string };
  return { default: meta.envDefault, meaning: meta.description };
}

/** The settings reference as a Markdown table. */
export function settingsReferenceMarkdown(): string {
  const rows = (Object.keys(SETTINGS_SCHEMA) as SettingName[]).map((name) => {
    const spec = settingSpec(name);
    return `| \`${name}\` | ${spec.default === undefined ? 'unset' : `\`${spec.default}\``} | ${spec.meaning} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
