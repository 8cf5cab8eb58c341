import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathExists, readFileIfExists, symlinkAtomic, writeFileAtomic } from '../atomic-write';
import { homePaths, localHttpAddress, type AcmeSettings, type Settings } from '../settings';
import { ACME_CONF_NAME, renderAcmeConf, tlsTemplateVariables } from './acme-conf';
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

/** One rendered file. */
export interface SiteFile {
  path: string;
  content: string;
}

/** The files that route one app, rendered for its web containers' ports. */
export interface RenderedSite {
  app: string;
  /** The app's own vhosts: its templates', slipway's TLS-auto vhost, slipway's static-certificate HTTPS vhost. */
  files: SiteFile[];
  /** The RewriteMap file Apache re-reads at run time: switching ports rewrites only this (and the host map). */
  portMap: { path: string; content: string };
  /** For an app routed by the routes vhost: its lines in the host map (the upstream lists every web replica). */
  hostRoute?: { hosts: string[]; upstream: string };
  /** Debian-style `sites-enabled` links to create for newly rendered default and shared files. */
  links: { link: string; target: string }[];
  /**
   * slipway's default files this rendering does not use (`<app>-ssl.conf` once the app moved to
   * `tls: auto`, its TLS-auto `<app>.conf` once it moved back to the routes vhost): removed by
   * `apply` when slipway wrote them, put back by `restore`.
   */
  stale: { path: string; link?: string }[];
  /**
   * Files several apps share (slipway's routes vhost, mod_md's server-wide settings): written when
   * they differ, never removed, put back only when configtest refuses them.
   */
  shared: SiteFile[];
  /** Lines of the app's own templates that write the port into a vhost: each deploy then reloads Apache. */
  portLines: { template: string; line: number; text: string }[];
}

/** What the files were before a switch, to undo it. `undefined` content means "did not exist". */
export interface SiteSnapshot {
  app: string;
  files: { path: string; content: string | undefined }[];
  links: string[];
  /** `sites-enabled` links of stale files `apply` removed, to put back. */
  removedLinks: { link: string; target: string }[];
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
   * Where slipway kept port maps before they moved beside the sites directory (`$SLIPWAY_HOME/apache`):
   * vhosts it rendered then, which a running Apache may still have loaded, read them there. Each port
   * map written also gets a symlink there, so those keep routing right until Apache next reloads.
   */
  legacyMapsDir?: string;
  httpPort: number;
  ctl: ApacheCtl;
  /** Optional TLS files: when both are set the default template also serves HTTPS. */
  ssl?: { certFile: string; keyFile: string; httpsPort: number };
  /** mod_md's server-wide settings, for apps with `tls: auto`. */
  acme?: AcmeSettings;
  templatesDir?: string;
  /**
   * `host:port` of slipway's own HTTP server, which answers an app's maintenance page: an app in
   * maintenance (or stopped) has its port map point there instead of at its container.
   */
  maintenanceUpstream?: string;
}

/** Where traffic of an app goes: its web containers' ports, or slipway's maintenance page for it. */
export interface SiteRoute {
  /** One port, or one per web replica (Apache picks one at random per request). */
  port: number | readonly number[];
  maintenance: boolean;
}

/** The path under slipway's HTTP server that answers `app`'s maintenance page (any rest of the path follows). */
export function maintenancePath(app: string): string {
  return `/.slipway/maintenance/${app}`;
}

/**
 * Renders and applies an app's Apache config. A port switch rewrites only the app's port map and
 * its host map lines (atomic renames, no reload: Apache re-reads a RewriteMap file when its mtime
 * changes); a reload happens only when a vhost file's own text changes, after configtest.
 */
export class ApacheSites {
  constructor(private readonly options: ApacheSitesOptions) {}

  /**
   * Renders every file of `app` for `port` (its web containers' ports; templates' `${PORT}` is the
   * first). The user's templates if any (the app's own vhosts); else, with `tlsNames` (the app uses
   * `tls: auto`), slipway's mod_md vhost and mod_md's server-wide settings (a certificate needs a
   * reload anyway); else the app's lines in the host map, read by slipway's one routes vhost (plus
   * slipway's HTTPS vhost when TLS files are set). With `maintenance`, the maps send traffic to the
   * maintenance page instead (the vhosts are the same either way: toggling it never reloads Apache).
   */
  async render(app: string, port: SiteRoute['port'], domain: string, otherApps: string[], maintenance = false, tlsNames?: string[]): Promise<RenderedSite> {
    const { sitesDir, mapsDir, httpPort, ssl, acme } = this.options;
    const tls = tlsNames !== undefined && acme !== undefined ? { names: tlsNames, acme } : undefined;
    const portMapFile = path.join(mapsDir, `${app}.map`);
    const own = appTemplateFiles(await fs.readdir(sitesDir), app, otherApps);
    const defaults = this.defaultSources(app, tls !== undefined);
    const sources = own.length > 0 ? own.map((file) => ({ template: path.join(sitesDir, file), output: path.join(sitesDir, file.replace(/\.template$/, '')) })) : defaults.used;
    const first = typeof port === 'number' ? port : port[0];
    const replicas = typeof port === 'number' ? 1 : port.length;
    const mapTypeOfVhosts = await mapType(
      replicas,
      portMapFile,
      sources.map((s) => s.output),
    );
    const vars = (p: number) => ({
      ...templateVariables({ app, port: p, domain, portMapFile, httpPort }),
      MAP_NAME: `slipway_${app.replace(/-/g, '_')}`,
      MAP_TYPE: mapTypeOfVhosts,
      ...(ssl ? { SSL_CERT_FILE: ssl.certFile, SSL_KEY_FILE: ssl.keyFile, HTTPS_PORT: String(ssl.httpsPort) } : {}),
      ...(tls ? tlsTemplateVariables(tls.names, tls.acme.httpsPort) : {}),
    });
    const templates = await Promise.all(sources.map(async (s) => ({ ...s, text: await fs.readFile(s.template, 'utf8') })));
    const files = templates.map((t) => ({ path: t.output, content: renderTemplate(t.text, vars(first)) }));
    const portLines = own.length === 0 ? [] : templates.flatMap((t) => portDependentLines(t.text, vars(first), vars(first + 1)).map((l) => ({ template: t.template, ...l })));
    const routed = own.length === 0 && tls === undefined;
    const shared: SiteFile[] = [];
    if (tls) shared.push({ path: path.join(sitesDir, ACME_CONF_NAME), content: renderAcmeConf(tls.acme, httpPort) });
    if (routed) {
      const { version: _version, ...routes } = await this.routesVhost();
      shared.push(routes);
    }
    const enabledDir = path.join(path.dirname(sitesDir), 'sites-enabled');
    const debianLayout = path.basename(sitesDir) === 'sites-available' && (await isDirectory(enabledDir));
    const linked = [...(own.length === 0 ? files : []), ...shared];
    const links = debianLayout ? linked.map((f) => ({ link: path.join(enabledDir, path.basename(f.path)), target: f.path })) : [];
    const stale = own.length === 0 ? defaults.unused.map((file) => (debianLayout ? { path: file, link: path.join(enabledDir, path.basename(file)) } : { path: file })) : [];
    const upstream = this.upstream(app, { port, maintenance });
    return {
      app,
      files,
      portMap: { path: portMapFile, content: portMapContent(upstream) },
      hostRoute: routed ? { hosts: [domain.toLowerCase()], upstream } : undefined,
      links,
      stale,
      shared,
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
    return { path: path.join(this.options.sitesDir, ROUTES_VHOST_FILE), content: renderTemplate(template, { ...vars, ROUTES_VERSION: version }), version };
  }

  /** The host map every app without a vhost of its own is routed by. */
  get hostMap(): HostMap {
    return new HostMap(path.join(this.options.mapsDir, HOST_MAP_FILE));
  }

  /**
   * Points the app's port map (and its host map lines) at `route` and touches nothing else (no
   * vhost, no reload). The map keeps the one key a vhost rendered by any slipway version reads
   * (`upstream`); several web replicas are one value `127.0.0.1:8081|127.0.0.1:8082`, which a `rnd:`
   * map spreads. A maintenance route is an upstream with a path,
   * `127.0.0.1:7005/.slipway/maintenance/<app>`, which the RewriteRule (`http://${map:upstream}/$1`)
   * proxies to slipway's maintenance page.
   */
  async route(app: string, route: SiteRoute): Promise<void> {
    const upstream = this.upstream(app, route);
    await this.writePortMap(app, portMapContent(upstream));
    await this.hostMap.update((routes) => routes.map((r) => (r.app === app ? { ...r, upstream } : r)));
  }

  /** Where `route` sends traffic: `127.0.0.1:<port>` per web replica (`|`-joined), or slipway's maintenance page for the app. */
  private upstream(app: string, route: SiteRoute): string {
    if (!route.maintenance) return (typeof route.port === 'number' ? [route.port] : route.port).map((p) => `127.0.0.1:${p}`).join('|');
    if (!this.options.maintenanceUpstream) throw new Error('internal: no maintenance upstream configured');
    return `${this.options.maintenanceUpstream}${maintenancePath(app)}`;
  }

  /** Writes the port map atomically, and points the legacy location at it (see `legacyMapsDir`). */
  private async writePortMap(app: string, content: string): Promise<void> {
    const file = path.join(this.options.mapsDir, `${app}.map`);
    await fs.mkdir(this.options.mapsDir, { recursive: true, mode: 0o755 });
    await writeFileAtomic(file, content);
    if (this.options.legacyMapsDir) await symlinkAtomic(file, path.join(this.options.legacyMapsDir, `${app}.map`));
  }

  /**
   * Writes the rendered site. A port switch is a map write (port map, host map): no configtest, no
   * reload, so nothing another app did to Apache's config can block it. When a vhost changes (a
   * custom template, a TLS-auto vhost, the first app on the routes vhost) slipway runs configtest
   * and, as `options.reload` says, reloads Apache gracefully and checks it answers. With a reload,
   * a port map that existed is rewritten only after it: a vhost rendered by an older slipway reads
   * it as `txt:`, which would send a several-replica value to Apache as one host name.
   */
  async apply(site: RenderedSite, options: ApplyOptions = {}): Promise<SiteSnapshot> {
    const snapshot: SiteSnapshot = {
      app: site.app,
      files: await Promise.all([site.portMap, ...site.files].map(async (f) => ({ path: f.path, content: await readFileIfExists(f.path) }))),
      links: [],
      removedLinks: [],
      hostRoutes: await this.hostMap.routesOf(site.app),
      reloaded: false,
    };
    const changedOwn = site.files.filter((f, i) => snapshot.files[i + 1].content !== f.content);
    const sharedBefore = await Promise.all(site.shared.map((f) => readFileIfExists(f.path)));
    const changedShared = site.shared.filter((f, i) => sharedBefore[i] !== f.content);
    const staleFiles = await renderedBySlipway(site.stale);
    const hosts = site.hostRoute?.hosts ?? [];
    // A host the map held before is routed by the running Apache already (by the routes vhost, or
    // by a vhost of an earlier slipway through the port map): only a new host may need the
    // routes vhost loaded.
    const newHost = hosts.some((host) => !snapshot.hostRoutes?.some((r) => r.host === host));
    const mode = options.reload ?? 'needed';
    const reload =
      changedOwn.length > 0 ||
      staleFiles.length > 0 ||
      (mode === 'needed' && ((site.hostRoute !== undefined && newHost && (await this.routesVhostState()) === 'stale') || changedShared.some((f) => path.basename(f.path) === ACME_CONF_NAME)));
    const writesFiles = reload || changedShared.length > 0;
    // A vhost's RewriteMap must name an existing file for configtest to pass: a first map goes first.
    if (!reload || snapshot.files[0].content === undefined) await this.writePortMap(site.app, site.portMap.content);
    if (site.hostRoute) {
      const { upstream } = site.hostRoute;
      try {
        await this.hostMap.update((routes) => withAppRoutes(routes, site.app, hosts, upstream));
      } catch (err) {
        await this.restoreFiles(snapshot);
        if (err instanceof HostTakenError) throw new ApacheConfigError(err.message);
        throw err;
      }
    }
    if (!writesFiles) {
      await this.dropHostRoutesOfOwnVhosts(site);
      return snapshot;
    }

    for (const file of changedShared) await writeFileAtomic(file.path, file.content);
    for (const file of staleFiles) {
      snapshot.files.push({ path: file.path, content: file.content });
      if (file.link !== undefined && (await pathExists(file.link))) {
        await fs.rm(file.link, { force: true });
        snapshot.removedLinks.push({ link: file.link, target: file.path });
      }
      await fs.rm(file.path, { force: true });
    }
    for (const file of changedOwn) await writeFileAtomic(file.path, file.content);
    for (const { link, target } of site.links) {
      if (!(await pathExists(link))) {
        await fs.symlink(target, link);
        if (site.files.some((f) => f.path === target)) snapshot.links.push(link);
      }
    }
    const test = await this.options.ctl.configtest();
    if (!test.ok) {
      await this.restoreFiles(snapshot);
      // Shared files stay on disk only if Apache accepted them.
      for (const file of changedShared) {
        const before = sharedBefore[site.shared.indexOf(file)];
        if (before === undefined) await fs.rm(file.path, { force: true });
        else await writeFileAtomic(file.path, before);
      }
      const fallback = `Apache rejected the new config, previous files restored: ${lastLines(test.output, 6)}`;
      throw new ApacheConfigError(
        configtestFailure(
          test.output,
          [...site.files, ...site.shared].map((f) => f.path),
          fallback,
        ),
      );
    }
    if (reload) {
      snapshot.reloaded = true;
      await this.reloadAndCheck(snapshot);
    }
    await this.writePortMap(site.app, site.portMap.content);
    await this.dropHostRoutesOfOwnVhosts(site);
    return snapshot;
  }

  /**
   * An app with vhosts of its own (its templates, `tls: auto`) has no host map lines: removed once
   * those vhosts serve (after the reload), so the routes vhost never answers for it meanwhile with 404.
   */
  private async dropHostRoutesOfOwnVhosts(site: RenderedSite): Promise<void> {
    if (site.hostRoute === undefined) await this.hostMap.update((routes) => routes.filter((r) => r.app !== site.app));
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
    for (const file of [site.portMap, ...site.files, ...site.shared]) {
      if ((await readFileIfExists(file.path)) !== file.content) return false;
    }
    if ((await renderedBySlipway(site.stale)).length > 0) return false;
    const routes = await this.hostMap.routesOf(site.app);
    if (!site.hostRoute) return routes.length === 0;
    const { hosts, upstream } = site.hostRoute;
    return routes.length === hosts.length && routes.every((r) => r.upstream === upstream && hosts.includes(r.host));
  }

  /**
   * Removes everything rendered for `app` (its own vhosts and links, its port map, its host map
   * lines) and reloads only if one of its own vhosts went: an app on the routes vhost goes with
   * a map write.
   */
  async removeApp(app: string, otherApps: string[]): Promise<void> {
    const own = appTemplateFiles(await fs.readdir(this.options.sitesDir), app, otherApps).map((file) => path.join(this.options.sitesDir, file.replace(/\.template$/, '')));
    const defaults = await renderedBySlipway(this.defaultOutputs(app).map((file) => ({ path: file })));
    const vhosts = [];
    for (const file of [...own, ...defaults.map((f) => f.path)]) if (await pathExists(file)) vhosts.push(file);
    const enabledDir = path.join(path.dirname(this.options.sitesDir), 'sites-enabled');
    for (const name of await fs.readdir(enabledDir).catch(() => [] as string[])) {
      const link = path.join(enabledDir, name);
      if (vhosts.includes((await fs.readlink(link).catch(() => '')) || '\0')) await fs.rm(link, { force: true });
    }
    await this.forgetApp(app);
    for (const file of vhosts) await fs.rm(file, { force: true });
    if (vhosts.length > 0) {
      const test = await this.options.ctl.configtest();
      if (!test.ok) throw new ApacheConfigError(`Apache config is invalid after removing ${app}'s files: ${lastLines(test.output, 6)}`);
      await this.options.ctl.graceful();
    }
  }

  /** Removes `app`'s port map (and its legacy link) and its host map lines. */
  private async forgetApp(app: string): Promise<void> {
    await this.hostMap.update((routes) => routes.filter((r) => r.app !== app));
    await fs.rm(path.join(this.options.mapsDir, `${app}.map`), { force: true });
    if (this.options.legacyMapsDir) await fs.rm(path.join(this.options.legacyMapsDir, `${app}.map`), { force: true });
  }

  /**
   * Start-up clean-up, after every app that serves has been routed: removes what slipway rendered
   * for apps not in `keep` (vhosts with slipway's header, their `sites-enabled` links, port maps,
   * host map lines), and vhosts an earlier slipway rendered from its default HTTP template for an
   * app the host map routes now (they read a port map under SLIPWAY_HOME, which can vanish). When
   * it removed a vhost and configtest passes, Apache is reloaded once, here on start and never on
   * a deploy: a vhost still loaded from an earlier slipway may read its port map as `txt:`, which a
   * later scale to several web replicas would break. Returns what it did.
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
      if (!test.ok) done.push(`Apache configtest fails, so Apache keeps them loaded until the config is fixed: ${lastLines(test.output, 4)}`);
      else if ((await this.routesVhostState()) === 'down') done.push('Apache does not answer: it reads the files as they are now when it starts');
      else {
        await this.options.ctl.graceful();
        await this.waitForApache();
        done.push('Apache configtest passes without them: reloaded gracefully once, on start');
      }
    }
    return done;
  }

  /**
   * The apps whose rendered files use slipway's TLS-auto template, with their domain (from the
   * `# slipway-tls app=… domain=…` line): what mod_md manages, as Apache has it on disk.
   */
  async tlsSites(): Promise<{ app: string; domain: string }[]> {
    const names = (await fs.readdir(this.options.sitesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.conf')).sort();
    const found: { app: string; domain: string }[] = [];
    for (const name of names) {
      const text = await readFileIfExists(path.join(this.options.sitesDir, name));
      const match = text === undefined ? null : /^# slipway-tls app=([a-z][a-z0-9-]*) domain=(\S+)$/m.exec(text);
      if (match && !found.some((f) => f.app === match[1])) found.push({ app: match[1], domain: match[2] });
    }
    return found;
  }

  /**
   * A graceful reload with nothing changed on disk, for mod_md, which puts a new certificate in
   * service only then: configtest first (a config broken by hand is not reloaded), then checks
   * Apache still answers.
   */
  async reload(): Promise<void> {
    const test = await this.options.ctl.configtest();
    if (!test.ok) throw new ApacheConfigError(`Apache's config does not pass configtest, not reloading: ${lastLines(test.output, 6)}`);
    await this.options.ctl.graceful();
    await this.waitForApache();
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
    for (const [i, file] of snapshot.files.entries()) {
      if (file.content === undefined) await fs.rm(file.path, { force: true });
      else if (i === 0) await this.writePortMap(snapshot.app, file.content);
      else await writeFileAtomic(file.path, file.content);
    }
    for (const { link, target } of snapshot.removedLinks) if (!(await pathExists(link))) await fs.symlink(target, link);
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

  /** The vhosts slipway's own templates may render for `app`. */
  private defaultOutputs(app: string): string[] {
    return [path.join(this.options.sitesDir, `${app}.conf`), path.join(this.options.sitesDir, `${app}-ssl.conf`)];
  }

  /**
   * slipway's own vhosts for `app`: with `tls: auto`, `<app>.conf` from the mod_md template (HTTP
   * redirect and HTTPS in one file); else none for HTTP (the routes vhost serves it) and
   * `<app>-ssl.conf` with a static certificate. `unused` are the default outputs this mode does not write.
   */
  private defaultSources(app: string, tlsAuto: boolean): { used: { template: string; output: string }[]; unused: string[] } {
    const dir = this.options.templatesDir ?? DEFAULT_TEMPLATES_DIR;
    const [main, ssl] = this.defaultOutputs(app);
    if (tlsAuto) return { used: [{ template: path.join(dir, 'default-tls-auto.conf.template'), output: main }], unused: [ssl] };
    // A TLS-auto `<app>.conf` left from before goes; one from slipway's old HTTP template stays
    // until start-up removes it (see removeStale): it routes through the port map meanwhile.
    if (!this.options.ssl) return { used: [], unused: [main, ssl] };
    return { used: [{ template: path.join(dir, 'default-ssl.conf.template'), output: ssl }], unused: [main] };
  }
}

/**
 * Why `site` cannot spread traffic over `replicas` web containers, or undefined when it can: a
 * user's template that reads the port map as `txt:` would send `127.0.0.1:8081|127.0.0.1:8082` to
 * Apache as one host name. Checked before the switch, so such a deploy fails with the old version
 * serving.
 */
export function replicaRoutingProblem(site: Pick<RenderedSite, 'files' | 'portMap'>, replicas: number): string | undefined {
  if (replicas < 2) return undefined;
  const txt = site.files.filter((f) => f.content.includes(`txt:${site.portMap.path}`)).map((f) => path.basename(f.path));
  if (txt.length === 0) return undefined;
  return `${txt.join(', ')} read${txt.length > 1 ? '' : 's'} the port map as "txt:", which routes to one web container; ${replicas} web containers need "rnd:" (RewriteMap \${MAP_NAME} "rnd:\${PORT_MAP}"), or scale web to 1`;
}

/**
 * The RewriteMap type of the app's vhost: `rnd` (one of the `|`-separated upstreams per request)
 * whenever several web containers run and for new vhosts. A vhost that an earlier slipway rendered
 * with `txt` keeps it while one web container runs: switching it costs a graceful reload, which
 * drops requests on busy sites, so an upgrade alone never causes one; the first deploy at web > 1
 * does (once).
 */
async function mapType(replicas: number, portMapFile: string, outputs: string[]): Promise<'rnd' | 'txt'> {
  if (replicas > 1) return 'rnd';
  for (const output of outputs) if ((await readFileIfExists(output))?.includes(`"txt:${portMapFile}"`)) return 'txt';
  return 'rnd';
}

/** The app sites of a slipway installation, from its settings. */
export function apacheSitesFromSettings(settings: Settings): ApacheSites {
  const address = localHttpAddress(settings);
  const host = address.includes(':') ? `[${address}]` : address;
  return new ApacheSites({
    sitesDir: settings.apacheSites,
    mapsDir: apacheMapsDir(settings.apacheSites),
    legacyMapsDir: homePaths(settings.home).apacheMaps,
    httpPort: settings.apacheHttpPort,
    ctl: createApacheCtl(settings.apachectl),
    ssl: settings.ssl,
    acme: settings.acme,
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

/**
 * The stale files that exist and that slipway wrote (its templates' first line): a hand-written
 * `<app>-ssl.conf` next to them is the operator's and never removed. A `<app>.conf` from slipway's
 * old HTTP template is not stale here: it routes through the port map until start-up removes it.
 */
async function renderedBySlipway(stale: RenderedSite['stale']): Promise<(RenderedSite['stale'][number] & { content: string })[]> {
  const found = await Promise.all(stale.map(async (file) => ({ ...file, content: await readFileIfExists(file.path) })));
  return found.filter(
    (f): f is typeof f & { content: string } =>
      f.content?.startsWith('# Rendered by slipway') === true &&
      !f.content.startsWith(`# Rendered by slipway for app "${path.basename(f.path, '.conf')}" (from slipway's templates/default.conf.template)`),
  );
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
