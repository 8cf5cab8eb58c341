/**
 * Every server setting slipway reads from the environment: its default and what it means. The
 * settings reader takes its defaults from here and docs/configuration.md is generated from it
 * (`slipway settings --markdown`), so code and docs cannot drift apart.
 */
export interface SettingSpec {
  /** Default as the environment would spell it; undefined = unset. */
  default: string | undefined;
  meaning: string;
}

export const SETTINGS_SCHEMA = {
  SLIPWAY_HOME: { default: '/var/lib/slipway', meaning: 'state: repos, releases, deploy logs, tokens, port maps, embedded Redis' },
  SLIPWAY_PORT: { default: '7005', meaning: 'port of the git smart-HTTP server and the dashboard' },
  SLIPWAY_HOST: { default: '0.0.0.0', meaning: 'address the server binds' },
  SLIPWAY_TOKEN: { default: undefined, meaning: 'the admin push token; when unset one is generated on first start and kept in `$SLIPWAY_HOME/token`' },
  REDIS_URL: { default: undefined, meaning: '`redis://…` or a unix socket path; unset starts a private redis-server on a unix socket under `$SLIPWAY_HOME/redis` (AOF on)' },
  SLIPWAY_QUEUE: { default: 'slipway-deploys', meaning: 'BullMQ queue name' },
  SLIPWAY_APACHECTL: { default: 'apachectl', meaning: 'apachectl-compatible command, called with `configtest` and `graceful` (split on spaces, never run through a shell)' },
  SLIPWAY_APACHE_SITES: { default: '/etc/apache2/sites-available', meaning: 'where `<app>*.conf.template` files are read and `.conf` files written' },
  SLIPWAY_APACHE_HTTP_PORT: { default: '80', meaning: "port of the default template's vhost, of the built-in probe and of the after-reload check" },
  SLIPWAY_SSL_CERT_FILE: { default: undefined, meaning: 'certificate for the default template\'s HTTPS vhost (set with SLIPWAY_SSL_KEY_FILE)' },
  SLIPWAY_SSL_KEY_FILE: { default: undefined, meaning: 'private key for the default template\'s HTTPS vhost' },
  SLIPWAY_APACHE_HTTPS_PORT: { default: '443', meaning: "port of the default template's HTTPS vhost (static certificate or `\"tls\": \"auto\"`)" },
  SLIPWAY_ACME_CA: { default: 'https://acme-v02.api.letsencrypt.org/directory', meaning: 'ACME directory URL (https) mod_md gets certificates from for apps with `"tls": "auto"` (default: Let\'s Encrypt production)' },
  SLIPWAY_ACME_EMAIL: { default: undefined, meaning: 'contact address given to the ACME CA (expiry warnings); mod_md\'s `MDContactEmail`' },
  SLIPWAY_ACME_CA_TRUST: { default: undefined, meaning: 'CA bundle (PEM file) that signs the ACME server\'s own HTTPS endpoint, for a private ACME CA; mod_md\'s `MDCACertificateFile`' },
  SLIPWAY_ACME_AGREE_TOS: { default: undefined, meaning: '`1` agrees to the ACME CA\'s terms of service (`MDCertificateAgreement accepted`); `"tls": "auto"` is refused until it is set' },
  SLIPWAY_PORT_RANGE: { default: '8080-8999', meaning: 'ports for app containers' },
  SLIPWAY_STOP_GRACE: { default: '10', meaning: 'seconds between SIGTERM and SIGKILL when an old container stops' },
  SLIPWAY_CONCURRENCY: { default: '2', meaning: 'deploys of different apps at once (one app never deploys twice at once)' },
  SLIPWAY_KEEP_RELEASES: { default: '5', meaning: 'images of this many recent releases are kept per app (the live one and any in use always)' },
  SLIPWAY_JOB_LOCK_MS: { default: '60000', meaning: "a killed worker's deploy is picked up again about this long after it died" },
  SLIPWAY_MAX_PUSH_BYTES: { default: '2147483648', meaning: 'largest request body (a push) in bytes' },
  SLIPWAY_MAX_CONCURRENT_PUSHES: { default: '8', meaning: 'pushes served at once; more get 503 with Retry-After' },
  SLIPWAY_IDLE_TIMEOUT: { default: '300', meaning: 'seconds (90 or more) a connection may stay silent before it is closed; a push that follows a deploy prints a line at least every 60 s' },
  SLIPWAY_AUTH_MAX_FAILURES: { default: '20', meaning: 'failed logins per client address within the window before 429' },
  SLIPWAY_AUTH_WINDOW: { default: '600', meaning: 'seconds of the failed-login window' },
  SLIPWAY_BUILDER: {
    default: 'buildkit',
    meaning:
      "`buildkit`: the Engine's BuildKit, fed through a session that sends only the files changed since the app's last build (as `docker buildx build` does); `legacy`: the classic builder, sent the whole context as a tar on every build (Engines without BuildKit)",
  },
  SLIPWAY_LOG_LEVEL: { default: 'info', meaning: 'pino log level (JSON lines; pretty when stdout is a terminal)' },
  SLIPWAY_TEST_CRASH_AFTER_STEP: { default: undefined, meaning: "fault injection for slipway's own crash tests: SIGKILL the worker after this deploy step. Never set it in production" },
  DOCKER_HOST: { default: undefined, meaning: 'Docker Engine to use (default: the local socket)' },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS_SCHEMA;

/** The settings reference as a Markdown table. */
export function settingsReferenceMarkdown(): string {
  const rows = Object.entries(SETTINGS_SCHEMA).map(([name, spec]) => `| \`${name}\` | ${spec.default === undefined ? 'unset' : `\`${spec.default}\``} | ${spec.meaning} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
