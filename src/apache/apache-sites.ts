import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathExists, readFileIfExists, writeFileAtomic } from '../atomic-write';
import { homePaths, type AcmeSettings, type Settings } from '../settings';
import { ACME_CONF_NAME, renderAcmeConf, tlsTemplateVariables } from './acme-conf';
import { createApacheCtl, type ApacheCtl } from './apache-ctl';
import { portMapContent } from '../state/port-map-format';
import { appTemplateFiles, renderTemplate, templateVariables } from './template-render';

/** Where the default templates live (shipped in the repo's `templates/`). */
export const DEFAULT_TEMPLATES_DIR = path.resolve(__dirname, '..', '..', 'templates');

/** The files that route one app, rendered for its web containers' ports. */
export interface RenderedSite {
  files: { path: string; content: string }[];
  /** The RewriteMap file Apache re-reads at run time: switching ports rewrites only this. */
  portMap: { path: string; content: string };
  /** Debian-style `sites-enabled` links to create for newly rendered default files. */
  links: { link: string; target: string }[];
  /**
   * slipway's default files this rendering does not use (`<app>-ssl.conf` of the static-certificate
   * template once the app moved to `tls: auto`, and back): removed by `apply`, put back by `restore`.
   */
  stale: { path: string; link?: string }[];
  /**
   * Files several apps share (mod_md's server-wide settings): written when they differ, never
   * removed or put back, since another app may need them already.
   */
  shared: { path: string; content: string }[];
}

/** What the files were before a switch, to undo it. `undefined` content means "did not exist". */
export interface SiteSnapshot {
  files: { path: string; content: string | undefined }[];
  links: string[];
  /** `sites-enabled` links of stale files `apply` removed, to put back. */
  removedLinks: { link: string; target: string }[];
  reloaded: boolean;
}

/** Thrown when Apache refuses the new config; the previous files are already back in place. */
export class ApacheConfigError extends Error {}

export interface ApacheSitesOptions {
  sitesDir: string;
  mapsDir: string;
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
 * Renders and applies an app's Apache config. A port switch rewrites only the app's port map
 * (atomic rename, no reload: Apache re-reads a txt RewriteMap when its mtime changes); a reload
 * happens only when a vhost file's own text changes, after configtest.
 */
export class ApacheSites {
  constructor(private readonly options: ApacheSitesOptions) {}

  /**
   * Renders every file of `app` for `port` (its web containers' ports; templates' `${PORT}` is the
   * first): the user's templates if any, else slipway's default ones. With `maintenance`, the port
   * map sends traffic to the maintenance page instead (the vhosts are the same either way: toggling
   * maintenance never reloads Apache). With `tlsNames` (the app uses `tls: auto`) the default is
   * the mod_md template, and mod_md's server-wide settings file comes along.
   */
  async render(app: string, port: SiteRoute['port'], domain: string, otherApps: string[], maintenance = false, tlsNames?: string[]): Promise<RenderedSite> {
    const { sitesDir, mapsDir, httpPort, ssl, acme } = this.options;
    const tls = tlsNames !== undefined && acme !== undefined ? { names: tlsNames, acme } : undefined;
    const portMapFile = path.join(mapsDir, `${app}.map`);
    const own = appTemplateFiles(await fs.readdir(sitesDir), app, otherApps);
    const defaults = this.defaultSources(app, tls !== undefined);
    const sources = own.length > 0 ? own.map((file) => ({ template: path.join(sitesDir, file), output: path.join(sitesDir, file.replace(/\.template$/, '')) })) : defaults.used;
    const replicas = typeof port === 'number' ? 1 : port.length;
    const vars = {
      ...templateVariables({ app, port: typeof port === 'number' ? port : port[0], domain, portMapFile, httpPort }),
      MAP_NAME: `slipway_${app.replace(/-/g, '_')}`,
      MAP_TYPE: await mapType(
        replicas,
        portMapFile,
        sources.map((s) => s.output),
      ),
      ...(ssl ? { SSL_CERT_FILE: ssl.certFile, SSL_KEY_FILE: ssl.keyFile, HTTPS_PORT: String(ssl.httpsPort) } : {}),
      ...(tls ? tlsTemplateVariables(tls.names, tls.acme.httpsPort) : {}),
    };
    const files = await Promise.all(sources.map(async (s) => ({ path: s.output, content: renderTemplate(await fs.readFile(s.template, 'utf8'), vars) })));
    const shared = tls ? [{ path: path.join(sitesDir, ACME_CONF_NAME), content: renderAcmeConf(tls.acme, httpPort) }] : [];
    const enabledDir = path.join(path.dirname(sitesDir), 'sites-enabled');
    const debianLayout = path.basename(sitesDir) === 'sites-available' && (await isDirectory(enabledDir));
    const linked = [...(own.length === 0 ? files : []), ...shared];
    const links = debianLayout ? linked.map((f) => ({ link: path.join(enabledDir, path.basename(f.path)), target: f.path })) : [];
    const stale = own.length === 0 ? defaults.unused.map((file) => (debianLayout ? { path: file, link: path.join(enabledDir, path.basename(file)) } : { path: file })) : [];
    return { files, portMap: { path: portMapFile, content: this.portMapContent(app, { port, maintenance }) }, links, stale, shared };
  }

  /**
   * Points the app's port map at `route` and touches nothing else (no vhost, no reload). The map
   * keeps the one key a vhost rendered by any slipway version reads (`upstream`); several web
   * replicas are one value `127.0.0.1:8081|127.0.0.1:8082`, which a `rnd:` map spreads. A maintenance
   * route is an upstream with a path, `127.0.0.1:7005/.slipway/maintenance/<app>`, which the
   * default RewriteRule (`http://${map:upstream}/$1`) proxies to slipway's maintenance page.
   */
  async route(app: string, route: SiteRoute): Promise<void> {
    await fs.mkdir(this.options.mapsDir, { recursive: true, mode: 0o755 });
    await writeFileAtomic(path.join(this.options.mapsDir, `${app}.map`), this.portMapContent(app, route));
  }

  private portMapContent(app: string, route: SiteRoute): string {
    if (!route.maintenance) return portMapContent(route.port);
    if (!this.options.maintenanceUpstream) throw new Error('internal: no maintenance upstream configured');
    return portMapContent(`${this.options.maintenanceUpstream}${maintenancePath(app)}`);
  }

  /**
   * Writes the rendered site; reloads Apache only if a vhost file changed. Then the port map is
   * written after the reload (when one existed before): a vhost rendered by an older slipway reads
   * the map as `txt:`, which would send a several-replica value to Apache as one host name.
   */
  async apply(site: RenderedSite): Promise<SiteSnapshot> {
    await fs.mkdir(path.dirname(site.portMap.path), { recursive: true, mode: 0o755 });
    const all = [site.portMap, ...site.files];
    const snapshot: SiteSnapshot = {
      files: await Promise.all(all.map(async (f) => ({ path: f.path, content: await readFileIfExists(f.path) }))),
      links: [],
      removedLinks: [],
      reloaded: false,
    };
    const changedVhosts = site.files.filter((f, i) => snapshot.files[i + 1].content !== f.content);
    const staleFiles = await renderedBySlipway(site.stale);
    const changedShared = (await Promise.all(site.shared.map(async (f) => ((await readFileIfExists(f.path)) === f.content ? undefined : f)))).filter((f) => f !== undefined);
    const reloadNeeded = changedVhosts.length > 0 || staleFiles.length > 0 || changedShared.length > 0;
    // A vhost's RewriteMap must name an existing file for configtest to pass: a first map goes first.
    if (!reloadNeeded || snapshot.files[0].content === undefined) await writeFileAtomic(site.portMap.path, site.portMap.content);
    if (!reloadNeeded) return snapshot;

    for (const file of changedShared) await writeFileAtomic(file.path, file.content);
    for (const file of staleFiles) {
      snapshot.files.push({ path: file.path, content: file.content });
      if (file.link !== undefined && (await pathExists(file.link))) {
        await fs.rm(file.link, { force: true });
        snapshot.removedLinks.push({ link: file.link, target: file.path });
      }
      await fs.rm(file.path, { force: true });
    }
    for (const file of changedVhosts) await writeFileAtomic(file.path, file.content);
    for (const { link, target } of site.links) {
      if (!(await pathExists(link))) {
        await fs.symlink(target, link);
        snapshot.links.push(link);
      }
    }
    const test = await this.options.ctl.configtest();
    if (!test.ok) {
      await this.restoreFiles(snapshot);
      throw new ApacheConfigError(`Apache rejected the new config, previous files restored: ${lastLines(test.output, 6)}`);
    }
    snapshot.reloaded = true;
    await this.reloadAndCheck(snapshot);
    await writeFileAtomic(site.portMap.path, site.portMap.content);
    return snapshot;
  }

  /** True when the files on disk are exactly what `site` would write (traffic goes where it says). */
  async isApplied(site: RenderedSite): Promise<boolean> {
    for (const file of [site.portMap, ...site.files, ...site.shared]) {
      if ((await readFileIfExists(file.path)) !== file.content) return false;
    }
    if ((await renderedBySlipway(site.stale)).length > 0) return false;
    return true;
  }

  /** Removes everything rendered for `app` (vhosts, links, port map) and reloads if a vhost went. */
  async removeApp(app: string, otherApps: string[]): Promise<void> {
    const site = await this.render(app, 0, 'removed.invalid', otherApps);
    const stale = await renderedBySlipway(site.stale);
    const vhosts = [];
    for (const file of [...site.files.map((f) => f.path), ...stale.map((f) => f.path)]) if (await pathExists(file)) vhosts.push(file);
    for (const { link } of [...site.links, ...stale]) if (link !== undefined) await fs.rm(link, { force: true });
    for (const file of [...vhosts, site.portMap.path]) await fs.rm(file, { force: true });
    if (vhosts.length > 0) {
      const test = await this.options.ctl.configtest();
      if (!test.ok) throw new ApacheConfigError(`Apache config is invalid after removing ${app}'s files: ${lastLines(test.output, 6)}`);
      await this.options.ctl.graceful();
    }
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
    for (const file of snapshot.files) {
      if (file.content === undefined) await fs.rm(file.path, { force: true });
      else await writeFileAtomic(file.path, file.content);
    }
    for (const { link, target } of snapshot.removedLinks) if (!(await pathExists(link))) await fs.symlink(target, link);
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

  /**
   * slipway's own templates for `app`: `<app>.conf` from the HTTP template, or from the mod_md
   * template (HTTP redirect and HTTPS in one file) with `tls: auto`; `<app>-ssl.conf` with a static
   * certificate. `unused` are the default outputs this mode does not write.
   */
  private defaultSources(app: string, tlsAuto: boolean): { used: { template: string; output: string }[]; unused: string[] } {
    const dir = this.options.templatesDir ?? DEFAULT_TEMPLATES_DIR;
    const main = path.join(this.options.sitesDir, `${app}.conf`);
    const ssl = path.join(this.options.sitesDir, `${app}-ssl.conf`);
    if (tlsAuto) return { used: [{ template: path.join(dir, 'default-tls-auto.conf.template'), output: main }], unused: [ssl] };
    const used = [{ template: path.join(dir, 'default.conf.template'), output: main }];
    if (!this.options.ssl) return { used, unused: [ssl] };
    return { used: [...used, { template: path.join(dir, 'default-ssl.conf.template'), output: ssl }], unused: [] };
  }
}

/**
 * Why `site` cannot spread traffic over `replicas` web containers, or undefined when it can: a
 * user's template that reads the port map as `txt:` would send `127.0.0.1:8081|127.0.0.1:8082` to
 * Apache as one host name. Checked before the switch, so such a deploy fails with the old version
 * serving.
 */
export function replicaRoutingProblem(site: RenderedSite, replicas: number): string | undefined {
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
  // A wildcard bind answers on loopback too; a specific address must be asked on that address.
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return new ApacheSites({
    sitesDir: settings.apacheSites,
    mapsDir: homePaths(settings.home).apacheMaps,
    httpPort: settings.apacheHttpPort,
    ctl: createApacheCtl(settings.apachectl),
    ssl: settings.ssl,
    acme: settings.acme,
    maintenanceUpstream: `${host}:${settings.port}`,
  });
}

/**
 * The stale files that exist and that slipway wrote (its templates' first line): a hand-written
 * `<app>-ssl.conf` next to them is the operator's and never removed.
 */
async function renderedBySlipway(stale: RenderedSite['stale']): Promise<(RenderedSite['stale'][number] & { content: string })[]> {
  const found = await Promise.all(stale.map(async (file) => ({ ...file, content: await readFileIfExists(file.path) })));
  return found.filter((f): f is typeof f & { content: string } => f.content?.startsWith('# Rendered by slipway') === true);
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
