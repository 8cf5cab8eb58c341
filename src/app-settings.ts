import { z } from 'zod';
import { isHostName } from './names';
import { parseJsonInput, strictFields } from './parse-input';

/*
 * The app's own settings: `slipway.json` at the root of the deployed commit. Validation is strict
 * (unknown keys are errors) so a typo fails the deploy before anything starts, naming the field.
 * The reference (docs/slipway-json.md) is generated from this schema: each field's `.meta()` is
 * its documentation. Adding a field: one entry in SLIPWAY_JSON_SCHEMA (with its default and
 * description) and one line in the transform that names it for the code.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

const text = () => z.string().min(1);
const seconds = (min: 'zero' | 'above zero') => (min === 'zero' ? z.number().min(0) : z.number().gt(0)).max(3600);
const envName = text().regex(ENV_NAME, 'expected an environment variable name (letters, digits and "_", not starting with a digit)');

/** slipway.json as written (snake_case, every field optional), with its defaults and documentation. */
export const SLIPWAY_JSON_SCHEMA = strictFields({
  healthcheck: strictFields({
    path: text()
      .regex(/^\/[\x21-\x7e]*$/, 'expected a path starting with "/" and without spaces')
      .default('/')
      .meta({ description: "health URL path on the app's port" }),
    timeout: seconds('above zero').default(60).meta({ description: 'seconds to wait for the first healthy answer' }),
  })
    .prefault({})
    .meta({ description: 'how slipway decides the new version is up' }),
  port_env: envName.optional().meta({ description: 'another env var that receives the port (the app always gets `PORT`)' }),
  env: z
    .record(envName, z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({})
    .meta({ description: 'environment of the container (numbers and booleans become strings)', default: {} }),
  volumes: z
    .array(text().regex(/^\/[^:\0]*:\/[^:\0]*(:(ro|rw))?$/, 'expected "/host/path:/container/path", optionally with ":ro" or ":rw"'))
    .default([])
    .meta({ description: 'bind mounts, `/host:/container` or `/host:/container:ro`' }),
  domain: text()
    .transform((d) => d.toLowerCase())
    .refine(isHostName, 'expected a host name')
    .optional()
    .meta({ description: '`ServerName` of the default Apache template (`slipway domains:set` overrides it on the server); default `<app>.localhost`' }),
  aliases: z
    .array(
      text()
        .transform((d) => d.toLowerCase())
        .refine(isHostName, 'expected a host name'),
    )
    .max(100)
    .default([])
    .meta({ description: 'with `"tls": "auto"`: more host names the app answers to (`ServerAlias`), on the domain\'s certificate (the HTTP-only default template serves the domain only)' }),
  tls: z
    .enum(['auto', 'off'])
    .default('off')
    .meta({ description: "`auto`: HTTPS with a certificate Apache's mod_md gets and renews for `domain` and `aliases` (needs `domain`, and SLIPWAY_ACME_AGREE_TOS=1 on the server)" }),
  branch: text()
    .refine((b) => BRANCH.test(b) && !b.includes('..') && !b.endsWith('.lock') && !b.endsWith('/'), 'expected a valid branch name')
    .default('main')
    .meta({ description: 'the branch whose pushes deploy' }),
  tags: text()
    .regex(/^[A-Za-z0-9._/*-]{1,100}$/, 'expected a glob of tag names like "v*"')
    .default('v*')
    .meta({ description: 'pushed tags matching this glob deploy the tagged commit' }),
  watch: seconds('zero').default(10).meta({ description: 'seconds the new version is watched after the switch (0: off)' }),
  drain_timeout: seconds('zero').default(30).meta({ description: "longest wait, in seconds, for the old version's in-flight requests" }),
  release_timeout: seconds('above zero').default(300).meta({ description: "longest run, in seconds, of the Procfile's `release:` command before the deploy fails" }),
  rollout: strictFields({
    batch: z.number().int().min(1).max(100).default(1).meta({ description: 'an app on several hosts (`slipway hosts:set`): how many hosts switch at once, after every host is prepared and healthy' }),
    start_timeout: seconds('above zero')
      .default(30)
      .meta({ description: "an app on several hosts: seconds a host's agent gets to take a step of the deploy (prepare, switch) before the deploy fails naming that host" }),
    skip_unreachable: z.boolean().default(false).meta({
      description:
        'an app on several hosts: a host that does not answer is left out of the release instead of failing the deploy (at least one host must be prepared); slipway brings it to the live release when its agent is back',
    }),
  })
    .default({ batch: 1, start_timeout: 30, skip_unreachable: false })
    .meta({ description: 'how a release reaches the hosts of an app on several hosts', default: { batch: 1, start_timeout: 30, skip_unreachable: false } }),
  processes: z
    .record(
      text().regex(/^[A-Za-z0-9_-]+$/, 'expected a Procfile process type name'),
      strictFields({
        strategy: z.enum(['start-first', 'stop-first']).default('start-first').meta({
          description: '`start-first`: new containers run before the old ones get SIGTERM; `stop-first`: the old ones have exited before the new ones start (workers that must never overlap)',
        }),
        stop_grace: seconds('zero').default(30).meta({ description: 'seconds between SIGTERM and SIGKILL when an old container of this type stops (long jobs)' }),
        healthcheck: text().optional().meta({ description: 'a command run in each new container (`docker exec`, by its `/bin/sh -c`); exit 0 = healthy, awaited before the deploy goes on' }),
      }),
    )
    .default({})
    .meta({ description: 'per worker process type of the Procfile (`worker`, `clock`, …): how its containers are replaced in a deploy', default: {} }),
});

/** slipway.json as the code uses it. */
const APP_SETTINGS_SCHEMA = SLIPWAY_JSON_SCHEMA.transform((raw) => ({
  healthcheck: { path: raw.healthcheck.path, timeoutSeconds: raw.healthcheck.timeout },
  /** Extra env var that receives the port, for apps that do not read `PORT` (the seed's reads `server_port`). */
  portEnv: raw.port_env,
  env: raw.env,
  /** Docker bind mounts, `host:container` or `host:container:ro`. */
  volumes: raw.volumes,
  /** Public host name for the default Apache template. */
  domain: raw.domain,
  /** More host names served by the app (ServerAlias; with `tls: auto`, on the same certificate), without the domain itself. */
  aliases: [...new Set(raw.aliases)].filter((alias) => alias !== raw.domain),
  /** `auto`: HTTPS with a certificate Apache's mod_md gets and renews (needs `domain`). */
  tls: raw.tls,
  /** The branch whose pushes deploy. */
  branch: raw.branch,
  /** Pushed tags matching this glob deploy the tagged commit. */
  tagPattern: raw.tags,
  /** Seconds after the switch during which the new version's health is still watched (0: off). */
  watchSeconds: raw.watch,
  /** Longest wait, in seconds, for the old container's in-flight requests before it is stopped. */
  drainTimeoutSeconds: raw.drain_timeout,
  /** Longest run, in seconds, of the Procfile's release command before the deploy fails. */
  releaseTimeoutSeconds: raw.release_timeout,
  /** An app on several hosts: hosts switched at once, and how long a host's agent gets to take a step. */
  rollout: { batch: raw.rollout.batch, startTimeoutSeconds: raw.rollout.start_timeout, skipUnreachable: raw.rollout.skip_unreachable },
  /** Per worker process type: replacement strategy, stop grace and optional health command. */
  processes: Object.fromEntries(
    Object.entries(raw.processes).map(([type, p]): [string, ProcessSettings] => [type, { strategy: p.strategy, stopGraceSeconds: p.stop_grace, healthcheck: p.healthcheck }]),
  ),
}));

/** How a worker process type's containers are replaced in a deploy. */
export interface ProcessSettings {
  strategy: 'start-first' | 'stop-first';
  stopGraceSeconds: number;
  /** A command run in each new container by `docker exec`; exit 0 = healthy. */
  healthcheck?: string;
}

/** A type's settings, defaults for a type slipway.json does not name. */
export function processSettings(settings: AppSettings, type: string): ProcessSettings {
  return settings.processes[type] ?? { strategy: 'start-first', stopGraceSeconds: 30 };
}

/** The app's settings from slipway.json, defaults filled in. */
export type AppSettings = z.output<typeof APP_SETTINGS_SCHEMA>;

export const DEFAULT_APP_SETTINGS: AppSettings = APP_SETTINGS_SCHEMA.parse({});

/**
 * Parses and validates slipway.json text; `undefined` (no file) gives the defaults. Throws an
 * InputError naming `slipway.json`, the field and the rule.
 */
export function parseAppSettings(text: string | undefined): AppSettings {
  if (text === undefined) return structuredClone(DEFAULT_APP_SETTINGS);
  return parseJsonInput(APP_SETTINGS_SCHEMA, text, 'slipway.json');
}
