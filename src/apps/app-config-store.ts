import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';

/**
 * What the operator sets for an app on the server, outside its repo: env (secrets live here, never
 * in the repo, in Redis or in logs) and a domain that overrides slipway.json's.
 */
export interface AppConfig {
  env: Record<string, string>;
  domain?: string;
  /** Anyone may clone/fetch (read-only); pushing always needs a token. */
  publicFetch?: boolean;
  /** `slipway tls:auto`: overrides slipway.json's `tls`. */
  tls?: 'auto' | 'off';
  /** URLs told about deploy start, success, failure and revert (JSON POST). */
  webhooks?: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

/** Per-app server config in `<dir>/<app>.json`, mode 600, written atomically. */
export class AppConfigStore {
  constructor(private readonly dir: string) {}

  async read(app: string): Promise<AppConfig> {
    const text = await readFileIfExists(this.file(app));
    return text === undefined ? { env: {} } : (JSON.parse(text) as AppConfig);
  }

  async update(app: string, change: (config: AppConfig) => AppConfig): Promise<AppConfig> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const next = change(await this.read(app));
    await writeFileAtomic(this.file(app), `${JSON.stringify(next, null, 1)}\n`, 0o600);
    return next;
  }

  private file(app: string): string {
    return path.join(this.dir, `${app}.json`);
  }
}
