import { promises as fs } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { readFileIfExists, writeFileAtomic } from '../atomic-write';
import { HOST_MAP_FORMAT, HOST_MAP_HEADER } from '../state/host-map-format';
import { decodeStateText } from '../state/state-format';

/**
 * The host map: one RewriteMap (read as `rnd:`) that slipway's routes vhost reads the upstream of
 * every app without a vhost of its own from, keyed by Host. Apache re-reads it when its mtime
 * changes, so creating or destroying an app, changing its domain, scaling its web replicas or
 * switching its port rewrites this file and reloads nothing. Its stored format: HOST_MAP_FORMAT.
 */
/** One line of the host map. */
export interface HostRoute {
  host: string;
  upstream: string;
  app: string;
}

/** Thrown when an app asks for a host name another app is routed by: nothing is changed. */
export class HostTakenError extends Error {}

/** The routes in a host map's text (`undefined`: no file yet). Comment and malformed lines are skipped. */
export function parseHostMap(text: string | undefined): HostRoute[] {
  const routes: HostRoute[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (line.startsWith('#')) continue;
    const [host, upstream, app] = line.trim().split(/\s+/);
    if (host && upstream && app) routes.push({ host, upstream, app });
  }
  return routes;
}

/** The text of a host map holding `routes`, sorted by host so an unchanged set writes the same bytes. */
export function hostMapContent(routes: HostRoute[]): string {
  const lines = [...routes].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)).map((r) => `${r.host} ${r.upstream} ${r.app}\n`);
  return `${HOST_MAP_HEADER}\n# <host> <upstream> <app>: Apache reads the first two columns; slipway rewrites this file\n${lines.join('')}`;
}

/**
 * `routes` with `app`'s lines replaced by one line per host to `upstream` (none when `upstream` is
 * undefined). Throws HostTakenError when another app holds one of the hosts.
 */
export function withAppRoutes(routes: HostRoute[], app: string, hosts: string[], upstream: string | undefined): HostRoute[] {
  const others = routes.filter((r) => r.app !== app);
  if (upstream === undefined) return others;
  for (const host of hosts) {
    const holder = others.find((r) => r.host === host);
    if (holder) throw new HostTakenError(`${host} is already routed to app ${holder.app}: give ${app} another domain (slipway.json "domain" or slipway domains:set)`);
  }
  return [...others, ...hosts.map((host) => ({ host, upstream, app }))];
}

/** The host map file; every change is a read-modify-write under a lock (worker, CLI and server all write it). */
export class HostMap {
  constructor(readonly file: string) {}

  async read(): Promise<HostRoute[]> {
    return parseHostMap(await this.readText());
  }

  /** The file's text, checked: one from a newer slipway, or damaged by hand, is refused and left as it is. */
  private async readText(): Promise<string | undefined> {
    const text = await readFileIfExists(this.file);
    if (text !== undefined) decodeStateText(HOST_MAP_FORMAT, text, this.file);
    return text;
  }

  async routesOf(app: string): Promise<HostRoute[]> {
    return (await this.read()).filter((r) => r.app === app);
  }

  /** Applies `change` to the routes and writes the file atomically if the text changed. */
  async update(change: (routes: HostRoute[]) => HostRoute[]): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o755 });
    // A lock directory next to the map; a holder that died leaves it stale after 10 s.
    const release = await lockfile.lock(this.file, { realpath: false, stale: 10_000, retries: { retries: 100, minTimeout: 10, maxTimeout: 100 } });
    try {
      const before = await this.readText();
      const after = hostMapContent(change(parseHostMap(before)));
      if (after !== before) await writeFileAtomic(this.file, after);
    } finally {
      await release();
    }
  }
}
