import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathExists, readFileIfExists, writeFileAtomic } from '../atomic-write';
import { homePaths, type Settings } from '../settings';
import { createApacheCtl, type ApacheCtl } from './apache-ctl';
import { configtestFailure } from './configtest-output';
import { HostMap, HostTakenError, withAppRoutes, type HostRoute } from './host-map';
import { portDependentLines } from './port-dependence';
import { portMapContent } from '../state/port-map-format';
import { appTemplateFiles, renderTemplate, templateVariables } from './template-render';

/** Where the default templates live (shipped in the repo's `templates/`). */
export const DEFAULT_TEMPLATES_DIR = path.resolve(__dirname, '..', '..', 'templates');

/**
 * The file name of slipway's routes vhost in the sites directory: `00-` so that Apache reads it
 * first and makes it the default vhost of the port, which gets every host name no other vhost
 * claims (an explicit ServerName elsewhere always wins, whatever the order).
 */
export const ROUTES_VHOST_FILE = '00-slipway-routes.conf';
/** The host map's file name in the maps directory. */
export const HOST_MAP_FILE = 'hosts.map';
/** The Host and path at which the routes vhost says which version of it Apache has loaded. */
const ROUTES_CHECK = { host: 'slipway-routes.invalid', path: '/.slipway/routes' };

/** One rendered vhost file. `shared`: slipway's routes vhost, which belongs to no one app. */
export interface SiteFile {
  path: string;
  content: string;
  shared?: boolean;
}

/** The files that route one app, rendered for one port. */
export interface RenderedSite {
  app: string;
  files: SiteFile[];
  /** The RewriteMap file Apache re-reads at run time: switching ports rewrites only this (and the host map). */
  portMap: { path: string; content: string };
  /** For an app routed by the routes vhost: its lines in the host map. */
  hostRoute?: { hosts: string[]; upstream: string };
  /** Debian-style `sites-enabled` links to create for newly rendered default files. */
  links: { link: string; target: string }[];
  /** Lines of the app's own templates that write the port into a vhost: each deploy then reloads Apache. */
  portLines: { template: string; line: number; text: string }[];
}

/** What the files were before a switch, to undo it. `undefined` content means "did not exist". */
export interface SiteSnapshot {
  app: string;
  files: { path: string; content: string | undefined }[];
  links: string[];
  /** The app's host map lines before, when the switch changed them. */
  hostRoutes?: HostRoute[];
  reloaded: boolean;
}

/** How `apply` may reload Apache. */
export interface ApplyOptions {
  /**
   * `needed` (a deploy): reload when one of the app's own vhosts changed, or when the app brings a
   * new host to the routes vhost and the Apache that runs has not loaded that vhost (yet). `own-vhosts`
   * (reconcile on start): only for a changed vhost of the app's own; an app that serves already
   * keeps being served by whatever Apache has loaded, and new files on disk wait for the next reload.
   */
  reload?: 'needed' | 'own-vhosts';
}

/** Thrown when Apache refuses the new config; the previous files are already back in place. */
export class ApacheConfigError extends Error {}

export interface ApacheSitesOptions {
  sitesDir: string;
  /**
   * Where the port maps and the host map live: beside the sites directory, in Apache's own config
   * tree, so that losing SLIPWAY_HOME never leaves a vhost pointing at a missing file.
   */
  mapsDir: string;
  /**
   * Where slipway before 0.2 kept port maps (`$SLIPWAY_HOME/apache`): vhosts it rendered, which a
   * running Apache may still have loaded, read them there. Each port map written also gets a
   * symlink there, so those keep routing right until Apache next reloads.
   */
  legacyMapsDir?: string;
  httpPort: number;
  ctl: ApacheCtl;
  /** Optional TLS files: when both are set the default template also serves HTTPS. */
  ssl?: { certFile: string; keyFile: string; httpsPort: number };
  templatesDir?: string;
  /**
   * `host:port` of slipway's own HTTP server, which answers an app's maintenance page: an app in
   * maintenance (or stopped) has its port map point there instead of at its container.
   */
  maintenanceUpstream?: string;
}

/** Where traffic of an app goes: its container's port, or slipway's maintenance page for it. */
export interface SiteRoute {
  port: number;
  maintenance: boolean;
}

/** The path under slipway's HTTP server that answers `app`'s maintenance page (any rest of the path follows). */
export function maintenancePath(app: string): string {
  return `/.slipway/maintenance/${app}`;
}

/**
 * Renders and applies an app's Apache config. A port switch rewrites only the app's port map
 * (atomic rename, no reload: Apache re-reads a txt RewriteMap when its mtime changes); a reload
 * happens only when a vhost file's own text changes, after configtest.
 */
export class ApacheSites {
  constructor(private readonly options: ApacheSitesOptions) {}

  /**
   * Renders every file of `app` for `port`: the user's templates if any (the app's own vhosts),
   * else the app's lines in the host map, read by slipway's one routes vhost (plus slipway's HTTPS
   * template when TLS files are set). With `maintenance`, the maps send traffic to the maintenance
   * page instead (the vhosts are the same either way: toggling maintenance never reloads Apache).
   */
  async render(app: string, port: number, domain: string, otherApps: string[], maintenance = false): Promise<RenderedSite> {
    const { sitesDir, mapsDir, httpPort, ssl } = this.options;
    const portMapFile = path.join(mapsDir, `${app}.map`);
    const vars = (p: number) => ({
      ...templateVariables({ app, port: p, domain, portMapFile, httpPort }),
      MAP_NAME: `slipway_${app.replace(/-/g, '_')}`,
      ...(ssl ? { SSL_CERT_FILE: ssl.certFile, SSL_KEY_FILE: ssl.keyFile, HTTPS_PORT: String(ssl.httpsPort) } : {}),
    });
    const own = appTemplateFiles(await fs.readdir(sitesDir), app, otherApps);
    const sources = own.length > 0 ? own.map((file) => ({ template: path.join(sitesDir, file), output: path.join(sitesDir, file.replace(/\.template$/, '')) })) : this.defaultSources(app);
    const templates = await Promise.all(sources.map(async (s) => ({ ...s, text: await fs.readFile(s.template, 'utf8') })));
    const files: SiteFile[] = templates.map((t) => ({ path: t.output, content: renderTemplate(t.text, vars(port)) }));
    const portLines = own.length === 0 ? [] : templates.flatMap((t) => portDependentLines(t.text, vars(port), vars(port + 1)).map((l) => ({ template: t.template, ...l })));
    const upstream = this.upstream(app, { port, maintenance });
    if (own.length === 0) {
      const { version: _version, ...routes } = await this.routesVhost();
      files.unshift(routes);
    }
    const enabledDir = path.join(path.dirname(sitesDir), 'sites-enabled');
    const debianLayout = own.length === 0 && path.basename(sitesDir) === 'sites-available' && (await isDirectory(enabledDir));
    const links = debianLayout ? files.map((f) => ({ link: path.join(enabledDir, path.basename(f.path)), target: f.path })) : [];
    return {
      app,
      files,
      portMap: { path: portMapFile, content: portMapContent(upstream) },
      hostRoute: own.length === 0 ? { hosts: [domain.toLowerCase()], upstream } : undefined,
      links,
      portLines,
    };
  }

  /** slipway's routes vhost, and the version it answers at the check URL (a hash of its own text). */
  async routesVhost(): Promise<SiteFile & { version: string }> {
    const template = await fs.readFile(path.join(this.options.templatesDir ?? DEFAULT_TEMPLATES_DIR, 'routes.conf.template'), 'utf8');
    const vars = { HTTP_PORT: String(this.options.httpPort), HOST_MAP: this.hostMap.file };
    const version = createHash('sha256')
      .update(renderTemplate(template, { ...vars, ROUTES_VERSION: '' }))
      .digest('hex')
      .slice(0, 12);
    return { path: path.join(this.options.sitesDir, ROUTES_VHOST_FILE), content: renderTemplate(template, { ...vars, ROUTES_VERSION: version }), shared: true, version };
  }

  /** The host map every app without its own template is routed by. */
  get hostMap(): HostMap {
    return new HostMap(path.join(this.options.mapsDir, HOST_MAP_FILE));
  }

  /**
   * Points the app's port map at `route` and touches nothing else (no vhost, no reload). The map
   * keeps the one key a vhost rendered by any slipway version reads (`upstream`): a maintenance
   * route is an upstream with a path, `127.0.0.1:7005/.slipway/maintenance/<app>`, which the
   * default RewriteRule (`http://${map:upstream}/$1`) proxies to slipway's maintenance page.
   */
  async route(app: string, route: SiteRoute): Promise<void> {
    const upstream = this.upstream(app, route);
    await this.writePortMap(app, portMapContent(upstream));
    await this.hostMap.update((routes) => routes.map((r) => (r.app === app ? { ...r, upstream } : r)));
  }

  /** Where `route` sends traffic: `127.0.0.1:<port>`, or slipway's maintenance page for the app. */
  private upstream(app: string, route: SiteRoute): string {
    if (!route.maintenance) return `127.0.0.1:${route.port}`;
    if (!this.options.maintenanceUpstream) throw new Error('internal: no maintenance upstream configured');
    return `${this.options.maintenanceUpstream}${maintenancePath(app)}`;
  }

  /** Writes the port map atomically, and points the pre-0.2 location at it (see `legacyMapsDir`). */
  private async writePortMap(app: string, content: string): Promise<void> {
    const file = path.join(this.options.mapsDir, `${app}.map`);
    await fs.mkdir(this.options.mapsDir, { recursive: true, mode: 0o755 });
    await writeFileAtomic(file, content);
    if (this.options.legacyMapsDir) await symlinkAtomic(file, path.join(this.options.legacyMapsDir, `${app}.map`));
  }

  /**
   * Writes the rendered site. A port switch is a map write (port map, host map): no configtest, no
   * reload, so nothing another app did to Apache's config can block it. When a vhost changes (a
   * custom template, the first app on the routes vhost) slipway runs configtest and, as
   * `options.reload` says, reloads Apache gracefully and checks it answers.
   */
  async apply(site: RenderedSite, options: ApplyOptions = {}): Promise<SiteSnapshot> {
    const own = site.files.filter((f) => !f.shared);
    const snapshot: SiteSnapshot = {
      app: site.app,
      files: await Promise.all([site.portMap, ...own].map(async (f) => ({ path: f.path, content: await readFileIfExists(f.path) }))),
      links: [],
      reloaded: false,
    };
    const before = await Promise.all(site.files.map((f) => readFileIfExists(f.path)));
    const changed = site.files.filter((f, i) => before[i] !== f.content);
    await this.writePortMap(site.app, site.portMap.content);
    if (site.hostRoute) {
      const { hosts, upstream } = site.hostRoute;
      snapshot.hostRoutes = await this.hostMap.routesOf(site.app);
      try {
        await this.hostMap.update((routes) => withAppRoutes(routes, site.app, hosts, upstream));
      } catch (err) {
        await this.restoreFiles(snapshot);
        if (err instanceof HostTakenError) throw new ApacheConfigError(err.message);
        throw err;
      }
    }
    const mode = options.reload ?? 'needed';
    const ownChanged = changed.some((f) => !f.shared);
    // A host the map held before is routed by the running Apache already (by the routes vhost, or
    // by a vhost of an earlier slipway through the port map): only a new host may need the
    // routes vhost loaded.
    const newHost = site.hostRoute?.hosts.some((host) => !snapshot.hostRoutes?.some((r) => r.host === host)) ?? false;
    const reload = ownChanged || (mode === 'needed' && newHost && (await this.routesVhostState()) === 'stale');
    if (changed.length === 0 && !reload) return snapshot;

    for (const file of changed) await writeFileAtomic(file.path, file.content);
    for (const { link, target } of site.links) {
      if (!(await pathExists(link))) {
        await fs.symlink(target, link);
        if (own.some((f) => f.path === target)) snapshot.links.push(link);
      }
    }
    const test = await this.options.ctl.configtest();
    if (!test.ok) {
      await this.restore(snapshot);
      // The routes vhost is shared: it stays on disk only if Apache accepted it.
      for (const file of changed.filter((f) => f.shared)) {
        const i = site.files.indexOf(file);
        if (before[i] === undefined) await fs.rm(file.path, { force: true });
        else await writeFileAtomic(file.path, before[i]);
      }
      const fallback = `Apache rejected the new config, previous files restored: ${lastLines(test.output, 6)}`;
      throw new ApacheConfigError(
        configtestFailure(
          test.output,
          site.files.map((f) => f.path),
          fallback,
        ),
      );
    }
    if (!reload) return snapshot;
    snapshot.reloaded = true;
    await this.reloadAndCheck(snapshot);
    return snapshot;
  }

  /**
   * Whether the Apache that runs has loaded the routes vhost slipway renders now: `loaded`,
   * `stale` (another version, or none: the host map alone would not route a new app), or `down`
   * (nothing answers: Apache reads the files on disk when it starts).
   */
  async routesVhostState(): Promise<'loaded' | 'stale' | 'down'> {
    const expected = `http://${ROUTES_CHECK.host}/${(await this.routesVhost()).version}`;
    try {
      return (await httpLocation(this.options.httpPort, ROUTES_CHECK.host, ROUTES_CHECK.path)) === expected ? 'loaded' : 'stale';
    } catch {
      return 'down';
    }
  }

  /** True when the files on disk are exactly what `site` would write (traffic goes where it says). */
  async isApplied(site: RenderedSite): Promise<boolean> {
    for (const file of [site.portMap, ...site.files]) {
      if ((await readFileIfExists(file.path)) !== file.content) return false;
    }
    if (!site.hostRoute) return true;
    const { hosts, upstream } = site.hostRoute;
    const routes = await this.hostMap.routesOf(site.app);
    return routes.length === hosts.length && routes.every((r) => r.upstream === upstream && hosts.includes(r.host));
  }

  /**
   * Removes everything rendered for `app` (its own vhosts and links, its port map, its host map
   * lines) and reloads only if one of its own vhosts went: an app on the routes vhost goes with
   * a map write.
   */
  async removeApp(app: string, otherApps: string[]): Promise<void> {
    const site = await this.render(app, 0, 'removed.invalid', otherApps);
    const vhosts = [];
    for (const file of site.files) if (!file.shared && (await pathExists(file.path))) vhosts.push(file.path);
    for (const { link, target } of site.links) if (vhosts.includes(target)) await fs.rm(link, { force: true });
    await this.forgetApp(app);
    for (const file of vhosts) await fs.rm(file, { force: true });
    if (vhosts.length > 0) {
      const test = await this.options.ctl.configtest();
      if (!test.ok) throw new ApacheConfigError(`Apache config is invalid after removing ${app}'s files: ${lastLines(test.output, 6)}`);
      await this.options.ctl.graceful();
    }
  }

  /** Removes `app`'s port map (and its pre-0.2 link) and its host map lines. */
  private async forgetApp(app: string): Promise<void> {
    await this.hostMap.update((routes) => routes.filter((r) => r.app !== app));
    await fs.rm(path.join(this.options.mapsDir, `${app}.map`), { force: true });
    if (this.options.legacyMapsDir) await fs.rm(path.join(this.options.legacyMapsDir, `${app}.map`), { force: true });
  }

  /**
   * Start-up clean-up, after every app that serves has been routed: removes what slipway rendered
   * for apps not in `keep` (vhosts with slipway's header, their `sites-enabled` links, port maps,
   * host map lines), and vhosts an earlier slipway rendered from its default HTTP template for an
   * app the host map routes now (they read a port map under SLIPWAY_HOME, which can vanish).
   * Nothing is reloaded: Apache drops them at its next reload or restart. Returns what it did.
   */
  async removeStale(keep: Set<string>): Promise<string[]> {
    const { sitesDir, mapsDir } = this.options;
    const done: string[] = [];
    const routed = new Set((await this.hostMap.read()).map((r) => r.app));
    const removed: string[] = [];
    for (const name of (await fs.readdir(sitesDir).catch(() => [] as string[])).filter((n) => n.endsWith('.conf')).sort()) {
      const file = path.join(sitesDir, name);
      const header = /^# Rendered by slipway for app "([a-z][a-z0-9-]*)"( \(from slipway's templates\/default\.conf\.template\))?/.exec((await readFileIfExists(file)) ?? '');
      if (!header) continue;
      const [, app, legacyHttp] = header;
      if (!keep.has(app)) done.push(`removed ${file}: slipway has no app ${app} any more`);
      else if (legacyHttp && routed.has(app)) done.push(`removed ${file}, rendered by an earlier slipway: ${app} is routed by ${ROUTES_VHOST_FILE} now`);
      else continue;
      await fs.rm(file, { force: true });
      removed.push(file);
    }
    const enabledDir = path.join(path.dirname(sitesDir), 'sites-enabled');
    for (const name of await fs.readdir(enabledDir).catch(() => [] as string[])) {
      const link = path.join(enabledDir, name);
      if (removed.includes((await fs.readlink(link).catch(() => '')) || '\0')) await fs.rm(link, { force: true });
    }
    const mapped = (await fs.readdir(mapsDir).catch(() => [] as string[])).filter((n) => n.endsWith('.map') && n !== HOST_MAP_FILE).map((n) => n.slice(0, -'.map'.length));
    for (const app of new Set([...routed, ...mapped])) {
      if (keep.has(app)) continue;
      await this.forgetApp(app);
      done.push(`removed the routes of ${app} (its port map and host map lines): slipway has no app ${app} any more`);
    }
    if (removed.length > 0) {
      const test = await this.options.ctl.configtest();
      done.push(test.ok ? 'Apache configtest passes without them (they go at its next reload)' : `Apache configtest fails: ${lastLines(test.output, 4)}`);
    }
    return done;
  }

  /** Puts back what `apply` replaced (and reloads if it had reloaded). */
  async restore(snapshot: SiteSnapshot): Promise<void> {
    await this.restoreFiles(snapshot);
    if (snapshot.reloaded) {
      await this.options.ctl.graceful();
      await this.waitForApache();
    }
  }

  private async reloadAndCheck(snapshot: SiteSnapshot): Promise<void> {
    try {
      await this.options.ctl.graceful();
      await this.waitForApache();
    } catch (err) {
      await this.restoreFiles(snapshot);
      await this.options.ctl.graceful().catch(() => undefined);
      throw new ApacheConfigError(`Apache reload failed, previous files restored: ${(err as Error).message}`);
    }
  }

  private async restoreFiles(snapshot: SiteSnapshot): Promise<void> {
    for (const link of snapshot.links) await fs.rm(link, { force: true });
    for (const file of snapshot.files) {
      if (file.content === undefined) await fs.rm(file.path, { force: true });
      else await writeFileAtomic(file.path, file.content);
    }
    const previous = snapshot.hostRoutes;
    if (previous) await this.hostMap.update((routes) => [...routes.filter((r) => r.app !== snapshot.app), ...previous]);
  }

  /** A config can pass configtest and still kill Apache on reload (a busy Listen port): check it answers. */
  private async waitForApache(): Promise<void> {
    const deadline = Date.now() + 10_000;
    let lastError = '';
    await new Promise((r) => setTimeout(r, 200));
    while (Date.now() < deadline) {
      try {
        await httpAnswers(this.options.httpPort);
        return;
      } catch (err) {
        lastError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`Apache does not answer on port ${this.options.httpPort} after the reload (${lastError})`);
  }

  /** slipway's own per-app templates for an app without templates: only HTTPS (HTTP goes through the routes vhost). */
  private defaultSources(app: string): { template: string; output: string }[] {
    const dir = this.options.templatesDir ?? DEFAULT_TEMPLATES_DIR;
    return this.options.ssl ? [{ template: path.join(dir, 'default-ssl.conf.template'), output: path.join(this.options.sitesDir, `${app}-ssl.conf`) }] : [];
  }
}

/** The app sites of a slipway installation, from its settings. */
export function apacheSitesFromSettings(settings: Settings): ApacheSites {
  // A wildcard bind answers on loopback too; a specific address must be asked on that address.
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return new ApacheSites({
    sitesDir: settings.apacheSites,
    mapsDir: apacheMapsDir(settings.apacheSites),
    legacyMapsDir: homePaths(settings.home).apacheMaps,
    httpPort: settings.apacheHttpPort,
    ctl: createApacheCtl(settings.apachectl),
    ssl: settings.ssl,
    maintenanceUpstream: `${host}:${settings.port}`,
  });
}

/**
 * Where slipway keeps its RewriteMaps: `slipway-maps` beside the sites directory
 * (`/etc/apache2/slipway-maps` for Debian's `/etc/apache2/sites-available`), inside Apache's own
 * config tree and outside any `*.conf` Include of the sites directory.
 */
export function apacheMapsDir(sitesDir: string): string {
  return path.join(path.dirname(sitesDir), 'slipway-maps');
}

/** Points `link` at `target`, replacing whatever is there in one rename. */
async function symlinkAtomic(target: string, link: string): Promise<void> {
  if ((await fs.readlink(link).catch(() => undefined)) === target) return;
  await fs.mkdir(path.dirname(link), { recursive: true, mode: 0o755 });
  const temp = path.join(path.dirname(link), `.${path.basename(link)}.${randomBytes(6).toString('hex')}.tmp`);
  await fs.symlink(target, temp);
  await fs.rename(temp, link);
}

/** The Location a GET with `host` gets (the routes vhost's check answers with a redirect). */
function httpLocation(port: number, host: string, urlPath: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 2000, agent: false, headers: { host } }, (res) => {
      res.resume();
      resolve(res.headers.location);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

function httpAnswers(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve();
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join(' | ');
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
