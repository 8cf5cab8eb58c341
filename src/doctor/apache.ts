import { constants as fsConstants, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createApacheCtl } from '../apache/apache-ctl';
import { apacheSitesFromSettings, ROUTES_VHOST_FILE } from '../apache/apache-sites';
import { appTemplateFiles } from '../apache/template-render';
import { parseAppSettings } from '../app-settings';
import { AppConfigStore } from '../apps/app-config-store';
import { readFileAtCommit } from '../git/bare-repo';
import { ReleaseStore } from '../releases/release-store';
import { homePaths, repoPath, type Settings } from '../settings';
import { fail, findExecutable, ok, runCommand, warn, type CheckResult } from './check';
import { listAppNames } from '../git/bare-repo';
import { publicDomain } from '../deploy/deploy-context';
import { appTlsNamesIfValid } from '../tls/app-tls';

/** Modules every slipway vhost needs (the default template and seed-style `ProxyPass` ones). */
export const REQUIRED_MODULES = ['proxy_module', 'proxy_http_module', 'rewrite_module'];
/** Used by the default HTTPS template (`RequestHeader set X-Forwarded-Proto`), inside `<IfModule>`. */
export const RECOMMENDED_MODULES = ['headers_module'];

const INSTALL_FIX = 'install Apache (`apt-get install apache2`), or set SLIPWAY_APACHECTL to your apachectl-compatible command';

/**
 * The module names in `apachectl -M` output (` proxy_module (shared)` lines), or undefined when
 * the output holds no module list at all.
 */
export function parseLoadedModules(output: string): Set<string> | undefined {
  const modules = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /^\s*([A-Za-z0-9_]+_module)\s+\((static|shared)\)\s*$/.exec(line);
    if (match) modules.add(match[1]);
  }
  return modules.size > 0 ? modules : undefined;
}

/** The required and recommended modules missing from `loaded` (ssl_module is required with TLS). */
export function missingModules(loaded: Set<string>, options: { ssl: boolean }): { required: string[]; recommended: string[] } {
  const required = [...REQUIRED_MODULES, ...(options.ssl ? ['ssl_module'] : [])];
  return {
    required: required.filter((m) => !loaded.has(m)),
    recommended: RECOMMENDED_MODULES.filter((m) => !loaded.has(m)),
  };
}

/** The variables slipway substitutes in templates (besides `<APP>_PORT`). */
const SLIPWAY_VARIABLES = new Set(['PORT', 'APP', 'DOMAIN', 'PORT_MAP', 'MAP_NAME', 'MAP_TYPE', 'HTTP_PORT', 'HTTPS_PORT', 'SSL_CERT_FILE', 'SSL_KEY_FILE', 'TLS_NAMES', 'HTTPS_PORT_SUFFIX']);

/**
 * Slipway-style variables left in rendered config text: a name slipway defines (`${PORT}`,
 * `$HTTPS_PORT` without TLS settings, …) or any `*_PORT` (another app's or a misspelt
 * `$ADRA_PORT`). Apache's own `${APACHE_LOG_DIR}`-style variables and `$1` back-references are
 * not reported. Unique, in order of appearance.
 */
export function leftoverSlipwayVariables(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = match[1] ?? match[2];
    if ((SLIPWAY_VARIABLES.has(name) || /_PORT$/.test(name)) && !found.includes(match[0])) found.push(match[0]);
  }
  return found;
}

/** apachectl exists and `configtest` passes; modules; the sites directory; something answers HTTP. */
export async function checkApache(settings: Settings): Promise<CheckResult[]> {
  const [command, ...baseArgs] = settings.apachectl;
  const shown = settings.apachectl.join(' ');
  const found = await findExecutable(command);
  const results: CheckResult[] = [];
  if (!found) {
    results.push(fail('apache config', `SLIPWAY_APACHECTL command \`${command}\` not found`, INSTALL_FIX));
    results.push(warn('apache modules', 'not checked (no apachectl command)'));
  } else {
    const [test, modules] = await Promise.all([createApacheCtl(settings.apachectl).configtest(), checkModules(found, baseArgs, shown, settings)]);
    results.push(
      test.ok
        ? ok('apache config', `\`${shown} configtest\`: ${lastLine(test.output) || 'passed'}`)
        : fail('apache config', `\`${shown} configtest\` failed: ${lastLines(test.output, 4)}`, 'fix the Apache config it names, then run `apachectl configtest` again'),
    );
    results.push(modules);
  }
  results.push(await checkSitesDir(settings.apacheSites));
  results.push(await checkHttp(settings.apacheHttpPort));
  return results;
}

async function checkModules(file: string, baseArgs: string[], shown: string, settings: Settings): Promise<CheckResult> {
  const { code, output } = await runCommand(file, [...baseArgs, '-M']);
  const loaded = parseLoadedModules(output);
  if (!loaded) {
    const why = code === 2 ? `\`${shown} -M\` is not supported by this command (exit 2)` : `\`${shown} -M\` gave no module list (exit ${code}): ${lastLines(output, 2)}`;
    return warn('apache modules', `unknown: ${why}`, `check by hand that ${REQUIRED_MODULES.map(short).join(', ')} are loaded`);
  }
  const missing = missingModules(loaded, { ssl: settings.ssl !== undefined });
  const enable = [...missing.required, ...missing.recommended].map(short).join(' ');
  const fix = `\`a2enmod ${enable}\`, then \`apachectl graceful\` (or \`systemctl reload apache2\`)`;
  if (missing.required.length > 0) return fail('apache modules', `not loaded: ${missing.required.map(short).join(', ')}`, fix);
  if (missing.recommended.length > 0) return warn('apache modules', `not loaded: ${missing.recommended.map(short).join(', ')} (the HTTPS template uses it)`, fix);
  return ok('apache modules', `${[...REQUIRED_MODULES, ...RECOMMENDED_MODULES, ...(settings.ssl ? ['ssl_module'] : [])].map(short).join(', ')} loaded`);
}

async function checkSitesDir(dir: string): Promise<CheckResult> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    return fail(
      'apache sites',
      `SLIPWAY_APACHE_SITES ${dir} does not exist`,
      'install Apache (`apt-get install apache2` creates /etc/apache2/sites-available), or set SLIPWAY_APACHE_SITES to a directory your Apache includes',
    );
  }
  if (!stat.isDirectory()) return fail('apache sites', `SLIPWAY_APACHE_SITES ${dir} is not a directory`, 'point SLIPWAY_APACHE_SITES at the directory your Apache includes vhost files from');
  try {
    await fs.access(dir, fsConstants.W_OK);
  } catch (err) {
    return fail('apache sites', `${dir} is not writable (${(err as NodeJS.ErrnoException).code})`, 'run slipway as root, or make the directory writable for its user');
  }
  return ok('apache sites', `${dir} exists and is writable`);
}

async function checkHttp(port: number): Promise<CheckResult> {
  try {
    const { status, server } = await httpHead(port);
    return ok('apache http', `127.0.0.1:${port} answers HTTP ${status}${server ? ` (Server: ${server})` : ''}`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(
      'apache http',
      `nothing answers HTTP on 127.0.0.1:${port} (${e.code ?? e.message})`,
      `start Apache (\`systemctl start apache2\` or \`apachectl start\`) listening on port ${port}, or set SLIPWAY_APACHE_HTTP_PORT to its port`,
    );
  }
}

function httpHead(port: number): Promise<{ status: number; server: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000, agent: false, headers: { 'user-agent': 'slipway-doctor' } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, server: [res.headers.server].flat().join(', ') || undefined });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out after 3 s'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/**
 * For each app (`$SLIPWAY_HOME/repos/*.git`): its Apache files render (port 8080, its domain)
 * with no slipway variable left over. A template whose text depends on the port (the seed's
 * `ProxyPass … :$ADARA_PORT/`) works but costs a reload per deploy: that is a warning.
 */
export async function checkTemplates(settings: Settings): Promise<CheckResult[]> {
  const paths = homePaths(settings.home);
  const apps = await listAppNames(paths.repos);
  const sites = apacheSitesFromSettings(settings);
  if (apps.length === 0) {
    try {
      await sites.render('doctor-check', 8080, 'doctor-check.localhost', []);
      return [ok('templates', "no apps yet; slipway's default template renders")];
    } catch (err) {
      return [
        fail('templates', `no apps yet, and rendering a test app failed: ${(err as Error).message}`, "make SLIPWAY_APACHE_SITES readable, and keep slipway's templates/ directory next to dist/"),
      ];
    }
  }
  const fileNames = await fs.readdir(settings.apacheSites).catch(() => [] as string[]);
  return Promise.all(
    apps.map(async (app): Promise<CheckResult> => {
      const name = `template ${app}`;
      const others = apps.filter((a) => a !== app);
      const own = appTemplateFiles(fileNames, app, others);
      let site;
      try {
        const { domain, tlsNames } = await appRoute(settings, app);
        site = await sites.render(app, 8080, domain, others, false, tlsNames);
      } catch (err) {
        return fail(name, `does not render: ${(err as Error).message}`, `check ${own.length ? own.join(', ') : 'SLIPWAY_APACHE_SITES'} is readable`);
      }
      if (own.length === 0 && site.hostRoute === undefined)
        return ok(
          name,
          `tls auto: slipway's own vhost ${site.files.map((f) => path.basename(f.path)).join(', ')} renders, routes through the port map (no reload per deploy; a new certificate needs one, between deploys)`,
        );
      if (own.length === 0) return ok(name, `no template of its own: routed by ${ROUTES_VHOST_FILE} through the host map (no reload per deploy, none for a new app)`);
      const outputs = `${site.files.map((f) => path.basename(f.path)).join(', ')} (from ${own.join(', ')})`;
      const leftovers = site.files.flatMap((f) => leftoverSlipwayVariables(f.content).map((v) => `${v} in ${path.basename(f.path)}`));
      if (leftovers.length > 0) {
        return fail(
          name,
          `${outputs}: ${leftovers.join(', ')} left after rendering`,
          `use only variables slipway defines (PORT, ${app.toUpperCase().replace(/-/g, '_')}_PORT, APP, DOMAIN, PORT_MAP, MAP_NAME, MAP_TYPE, HTTP_PORT; HTTPS_PORT and SSL_* need SLIPWAY_SSL_CERT_FILE/KEY_FILE)`,
        );
      }
      if (site.portLines.length > 0) {
        const lines = site.portLines.map((l) => `${path.basename(l.template)} line ${l.line} (${l.text})`).join(', ');
        return warn(
          name,
          `${outputs}: renders, but writes the port into the vhost at ${lines}, so every deploy reloads Apache (other apps' requests can stall or be reset)`,
          'route through the port map (`RewriteMap ${MAP_NAME} "${MAP_TYPE}:${PORT_MAP}"`, see docs/migrating-from-deploy-sh.md) for deploys without a reload',
        );
      }
      return ok(name, `${outputs}: renders, routes through the port map (no reload per deploy)`);
    }),
  );
}

/**
 * The domain a deploy would use (`domains:set`, else slipway.json of the live release, else
 * `<app>.localhost`), and the names mod_md certifies for a `tls: auto` app.
 */
async function appRoute(settings: Settings, app: string): Promise<{ domain: string; tlsNames?: string[] }> {
  const paths = homePaths(settings.home);
  try {
    const config = await new AppConfigStore(paths.apps).read(app);
    const live = await new ReleaseStore(paths.releases).live(app);
    const appSettings = parseAppSettings(live ? await readFileAtCommit(repoPath(settings.home, app), live.sha, 'slipway.json') : undefined);
    return { domain: publicDomain(app, appSettings, config), tlsNames: appTlsNamesIfValid(appSettings, config, settings.acme) };
  } catch {
    return { domain: `${app}.localhost` };
  }
}

function short(module: string): string {
  return module.replace(/_module$/, '');
}

function lastLine(text: string): string {
  return lastLines(text, 1);
}

function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}
