import { promises as dns } from 'node:dns';
import net from 'node:net';
import os from 'node:os';
import { apacheSitesFromSettings } from '../apache/apache-sites';
import type { Settings } from '../settings';
import { fail, findExecutable, ok, runCommand, warn, type CheckResult } from './check';
import { parseLoadedModules } from './apache';

/**
 * What `"tls": "auto"` needs loaded: mod_md, mod_ssl, the SSL session cache and mod_watchdog
 * (mod_md's scheduler; built in on Debian), and mod_authz_host for the loopback-only status.
 */
export const TLS_AUTO_MODULES = ['md_module', 'ssl_module', 'socache_shmcb_module', 'watchdog_module', 'authz_host_module'];

/** The modules of TLS_AUTO_MODULES missing from `loaded`. */
export function missingTlsModules(loaded: Set<string>): string[] {
  return TLS_AUTO_MODULES.filter((m) => !loaded.has(m));
}

/** True when one of `resolved` is an address of this machine (`local`). */
export function resolvesHere(resolved: string[], local: string[]): boolean {
  return resolved.some((a) => local.includes(a));
}

/**
 * For `tls: auto`: the modules mod_md needs are loaded; each certified name resolves to this
 * machine; port 80 answers there (the CA's http-01 challenge comes to port 80). Offline-safe: a
 * failed lookup or connection is a warning, never a crash.
 */
export async function checkTls(settings: Settings): Promise<CheckResult[]> {
  const sites = await apacheSitesFromSettings(settings).tlsSites();
  const wanted = sites.length > 0 || settings.acme.termsAgreed;
  const results: CheckResult[] = [await checkTlsModules(settings, sites.length > 0, wanted)];
  if (sites.length === 0) return results;
  if (settings.apacheHttpPort !== 80) {
    results.push(
      warn(
        'tls port 80',
        `Apache serves HTTP on port ${settings.apacheHttpPort}, but the CA's http-01 challenge comes to port 80`,
        `forward port 80 to ${settings.apacheHttpPort} (slipway tells mod_md with MDPortMap)`,
      ),
    );
  }
  const local = Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i.address);
  for (const { app, domain } of sites) results.push(await checkName(app, domain, local, settings.apacheHttpPort === 80));
  return results;
}

async function checkTlsModules(settings: Settings, inUse: boolean, wanted: boolean): Promise<CheckResult> {
  const [command, ...args] = settings.apachectl;
  const file = await findExecutable(command);
  const loaded = file ? parseLoadedModules((await runCommand(file, [...args, '-M'])).output) : undefined;
  if (!loaded) return (wanted ? warn : ok)('tls modules', `not checked (\`${settings.apachectl.join(' ')} -M\` gave no module list)`);
  const missing = missingTlsModules(loaded);
  if (missing.length === 0) return ok('tls modules', `${TLS_AUTO_MODULES.join(', ')} loaded (for "tls": "auto")`);
  const fix = `\`a2enmod ${missing.map((m) => m.replace(/_module$/, '')).join(' ')}\` (Debian's apache2 ships them), then \`apachectl graceful\``;
  if (inUse) return fail('tls modules', `an app uses "tls": "auto" but ${missing.join(', ')} not loaded`, fix);
  if (wanted) return warn('tls modules', `SLIPWAY_ACME_AGREE_TOS is set but ${missing.join(', ')} not loaded: "tls": "auto" would fail`, fix);
  return ok('tls modules', `${missing.join(', ')} not loaded (needed only for "tls": "auto")`);
}

async function checkName(app: string, domain: string, local: string[], port80: boolean): Promise<CheckResult> {
  const name = `tls dns ${domain}`;
  let resolved: string[];
  try {
    resolved = (await withTimeout(dns.lookup(domain, { all: true }), 5000)).map((a) => a.address);
  } catch (err) {
    return warn(
      name,
      `${app}: ${domain} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the CA cannot reach it for the http-01 challenge`,
      `point ${domain}'s DNS A/AAAA record at this machine`,
    );
  }
  if (!resolvesHere(resolved, local)) {
    return warn(
      name,
      `${app}: ${domain} resolves to ${resolved.join(', ')}, not to an address of this machine (${local.join(', ')})`,
      `point ${domain} at this machine, or check the NAT/port forward sends port 80 here`,
    );
  }
  if (port80 && !(await connects(resolved.find((a) => local.includes(a)) as string, 80))) {
    return warn(name, `${app}: ${domain} resolves here but nothing answers on port 80`, 'start Apache on port 80: the http-01 challenge needs it');
  }
  return ok(name, `${app}: ${domain} resolves to this machine (${resolved.join(', ')})`);
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
