import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HOST_NAME, LOCAL_HOST } from '../cluster/host-name';
import { isHostName } from '../names';
import { webhookUrlProblem } from '../notify/webhook-sender';
import { strictFields } from '../parse-input';
import { readStateFile, writeStateFile } from '../state/state-file';
import { versionedObjectFormat } from '../state/state-format';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A Procfile process type name (Heroku's grammar). */
export const PROCESS_TYPE = /^[A-Za-z0-9_-]+$/;

/**
 * What the operator sets for an app on the server, outside its repo: env (secrets live here, never
 * in the repo, in Redis or in logs) and a domain that overrides slipway.json's.
 */
const APP_CONFIG_SCHEMA = strictFields({
  version: z.literal(2),
  env: z.record(z.string().regex(ENV_NAME, 'expected an environment variable name'), z.string()),
  domain: z.string().refine(isHostName, 'expected a host name').optional(),
  /** Anyone may clone/fetch (read-only); pushing always needs a token. */
  publicFetch: z.boolean().optional(),
  /** `slipway tls:auto`: overrides slipway.json's `tls`. */
  tls: z.enum(['auto', 'off']).optional(),
  /** URLs told about deploy start, success, failure and revert (JSON POST). */
  webhooks: z.array(z.string().refine((url) => webhookUrlProblem(url) === undefined, 'expected an http(s) URL')).optional(),
  /** Apache answers the maintenance page (503) while the container keeps running (`slipway maintenance`). */
  maintenance: z.boolean().optional(),
  /**
   * The web containers `slipway stop` stopped (their ids): they stay stopped when slipway starts
   * again the containers a restart of the Docker Engine stopped. A later deploy's are other ones.
   */
  stoppedContainers: z.array(z.string()).optional(),
  /** How many containers of each process type run (`slipway ps:scale`); a type not named runs one. */
  scale: z.record(z.string().regex(PROCESS_TYPE, 'expected a process type name'), z.number().int().min(0)).optional(),
  /** The hosts the app runs on (`slipway hosts:set`): `local` is the server itself; unset means `local` alone. */
  hosts: z
    .array(z.union([z.literal(LOCAL_HOST), HOST_NAME]))
    .min(1)
    .optional(),
});

/** `apps/<app>.json`: format 1 (0.1.0) had no version field. */
export const APP_CONFIG_FORMAT = versionedObjectFormat('app config', APP_CONFIG_SCHEMA, 'app-config-v2');

/** An app's server-side config, as the code uses it (the format version is the store's business). */
export type AppConfig = Omit<z.output<typeof APP_CONFIG_SCHEMA>, 'version'>;

/** Parses `KEY=VALUE` arguments; throws naming the bad one. */
export function parseEnvAssignments(args: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq) : '';
    if (!ENV_NAME.test(key)) throw new Error(`"${arg.slice(0, 40)}" is not KEY=VALUE with KEY an environment variable name`);
    env[key] = arg.slice(eq + 1);
  }
  return env;
}

/**
 * Per-app server config in `<dir>/<app>.json`, mode 600, written atomically. A file that is
 * damaged (not JSON, or failing the schema) or from a newer slipway makes `read` and `update`
 * throw a StateError naming it, and is never rewritten.
 */
export class AppConfigStore {
  constructor(private readonly dir: string) {}

  async read(app: string): Promise<AppConfig> {
    const { version: _version, ...config } = (await readStateFile(APP_CONFIG_FORMAT, this.file(app))) ?? { version: 2, env: {} };
    return config;
  }

  async update(app: string, change: (config: AppConfig) => AppConfig): Promise<AppConfig> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const next = change(await this.read(app));
    await writeStateFile(APP_CONFIG_FORMAT, this.file(app), { ...next, version: 2 });
    return next;
  }

  /** The file of `app`'s config. */
  file(app: string): string {
    return path.join(this.dir, `${app}.json`);
  }
}
