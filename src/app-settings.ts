import { isHostName } from './names';

/**
 * The app's own settings: `slipway.json` at the root of the deployed commit. Validation is strict
 * (unknown keys are errors) so a typo fails the deploy before anything starts, naming the field.
 */
export interface AppSettings {
  healthcheck: { path: string; timeoutSeconds: number };
  /** Extra env var that receives the port, for apps that do not read `PORT` (the seed's reads `server_port`). */
  portEnv: string | undefined;
  env: Record<string, string>;
  /** Docker bind mounts, `host:container` or `host:container:ro`. */
  volumes: string[];
  /** Public host name for the default Apache template. */
  domain: string | undefined;
  /** More host names served by the app (ServerAlias; with `tls: auto`, on the same certificate). */
  aliases: string[];
  /** `auto`: HTTPS with a certificate Apache's mod_md gets and renews (needs `domain`). */
  tls: 'auto' | 'off';
  /** The branch whose pushes deploy. */
  branch: string;
  /** Pushed tags matching this glob deploy the tagged commit. */
  tagPattern: string;
  /** Seconds after the switch during which the new version's health is still watched (0: off). */
  watchSeconds: number;
  /** Longest wait, in seconds, for the old container's in-flight requests before it is stopped. */
  drainTimeoutSeconds: number;
}

export const DEFAULT_APP_SETTINGS: AppSettings = {
  healthcheck: { path: '/', timeoutSeconds: 60 },
  portEnv: undefined,
  env: {},
  volumes: [],
  domain: undefined,
  aliases: [],
  tls: 'off',
  branch: 'main',
  tagPattern: 'v*',
  watchSeconds: 10,
  drainTimeoutSeconds: 30,
};

/** Thrown for an invalid slipway.json; the message names the field. */
export class AppSettingsError extends Error {}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/** Parses and validates slipway.json text; `undefined` (no file) gives the defaults. */
export function parseAppSettings(text: string | undefined): AppSettings {
  if (text === undefined) return structuredClone(DEFAULT_APP_SETTINGS);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AppSettingsError(`slipway.json is not valid JSON: ${(err as Error).message}`);
  }
  const root = objectAt(raw, 'slipway.json');
  allowOnly(root, 'slipway.json', ['healthcheck', 'port_env', 'env', 'volumes', 'domain', 'aliases', 'tls', 'branch', 'tags', 'watch', 'drain_timeout']);
  const settings = structuredClone(DEFAULT_APP_SETTINGS);

  if (root.healthcheck !== undefined) {
    const hc = objectAt(root.healthcheck, 'healthcheck');
    allowOnly(hc, 'healthcheck', ['path', 'timeout']);
    if (hc.path !== undefined) {
      const p = stringAt(hc.path, 'healthcheck.path');
      if (!/^\/[\x21-\x7e]*$/.test(p)) throw new AppSettingsError(`healthcheck.path must start with "/" and contain no spaces, got ${JSON.stringify(p)}`);
      settings.healthcheck.path = p;
    }
    if (hc.timeout !== undefined) settings.healthcheck.timeoutSeconds = secondsAt(hc.timeout, 'healthcheck.timeout', false);
  }
  if (root.tags !== undefined) {
    const pattern = stringAt(root.tags, 'tags');
    if (!/^[A-Za-z0-9._/*-]{1,100}$/.test(pattern)) throw new AppSettingsError(`tags must be a glob of tag names like "v*", got ${JSON.stringify(pattern)}`);
    settings.tagPattern = pattern;
  }
  if (root.watch !== undefined) settings.watchSeconds = secondsAt(root.watch, 'watch', true);
  if (root.drain_timeout !== undefined) settings.drainTimeoutSeconds = secondsAt(root.drain_timeout, 'drain_timeout', true);
  if (root.port_env !== undefined) {
    const name = stringAt(root.port_env, 'port_env');
    if (!ENV_NAME.test(name)) throw new AppSettingsError(`port_env must be an environment variable name, got ${JSON.stringify(name)}`);
    settings.portEnv = name;
  }
  if (root.env !== undefined) {
    const env = objectAt(root.env, 'env');
    for (const [key, value] of Object.entries(env)) {
      if (!ENV_NAME.test(key)) throw new AppSettingsError(`env key ${JSON.stringify(key)} is not an environment variable name`);
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new AppSettingsError(`env.${key} must be a string, number or boolean`);
      }
      settings.env[key] = String(value);
    }
  }
  if (root.volumes !== undefined) {
    if (!Array.isArray(root.volumes)) throw new AppSettingsError('volumes must be an array of "host:container[:ro]" strings');
    settings.volumes = root.volumes.map((v, i) => {
      const volume = stringAt(v, `volumes[${i}]`);
      if (!/^\/[^:\0]*:\/[^:\0]*(:(ro|rw))?$/.test(volume)) {
        throw new AppSettingsError(`volumes[${i}] must be "/host/path:/container/path" or with ":ro", got ${JSON.stringify(volume)}`);
      }
      return volume;
    });
  }
  if (root.domain !== undefined) {
    const domain = stringAt(root.domain, 'domain').toLowerCase();
    if (!isHostName(domain)) throw new AppSettingsError(`domain ${JSON.stringify(domain)} is not a host name`);
    settings.domain = domain;
  }
  if (root.aliases !== undefined) {
    if (!Array.isArray(root.aliases) || root.aliases.length > 100) throw new AppSettingsError('aliases must be an array of at most 100 host names');
    settings.aliases = [...new Set(root.aliases.map((a, i) => {
      const alias = stringAt(a, `aliases[${i}]`).toLowerCase();
      if (!isHostName(alias)) throw new AppSettingsError(`aliases[${i}] ${JSON.stringify(alias)} is not a host name`);
      return alias;
    }))].filter((a) => a !== settings.domain);
  }
  if (root.tls !== undefined) {
    if (root.tls !== 'auto' && root.tls !== 'off') throw new AppSettingsError(`tls must be "auto" or "off", got ${JSON.stringify(root.tls)}`);
    settings.tls = root.tls;
  }
  if (root.branch !== undefined) {
    const branch = stringAt(root.branch, 'branch');
    if (!BRANCH.test(branch) || branch.includes('..') || branch.endsWith('.lock') || branch.endsWith('/')) {
      throw new AppSettingsError(`branch ${JSON.stringify(branch)} is not a valid branch name`);
    }
    settings.branch = branch;
  }
  return settings;
}

function secondsAt(value: unknown, where: string, zeroAllowed: boolean): number {
  const min = zeroAllowed ? 0 : Number.MIN_VALUE;
  if (typeof value !== 'number' || !(value >= min && value <= 3600)) {
    throw new AppSettingsError(`${where} must be a number of seconds from ${zeroAllowed ? 0 : 'above 0'} to 3600, got ${JSON.stringify(value)}`);
  }
  return value;
}

function objectAt(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppSettingsError(`${where} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function stringAt(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new AppSettingsError(`${where} must be a non-empty string`);
  return value;
}

function allowOnly(obj: Record<string, unknown>, where: string, keys: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key)) {
      throw new AppSettingsError(`${where} has an unknown field "${key}" (known: ${keys.join(', ')})`);
    }
  }
}
