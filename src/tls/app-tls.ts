import type { AppSettings } from '../app-settings';
import type { AppConfig } from '../apps/app-config-store';
import type { AcmeSettings } from '../settings';

/** The app's TLS mode: the operator's `slipway tls:auto` override, else slipway.json's `tls`. */
export function appTlsMode(settings: Pick<AppSettings, 'tls'>, config: Pick<AppConfig, 'tls'> | undefined): 'auto' | 'off' {
  return config?.tls ?? settings.tls;
}

/** appTlsNames, or none when the app's TLS settings do not work (a deploy would refuse them, saying why). */
export function appTlsNamesIfValid(...args: Parameters<typeof appTlsNames>): string[] | undefined {
  try {
    return appTlsNames(...args);
  } catch {
    return undefined;
  }
}

/**
 * The host names mod_md gets one certificate for (the domain first, then the aliases), or
 * undefined when the app does not use `tls: auto`. Throws a plain-words error when it cannot work:
 * no real domain (`<app>.localhost` is nobody's to certify), a wildcard (http-01 cannot prove
 * one), or terms the operator has not agreed to.
 */
export function appTlsNames(
  settings: Pick<AppSettings, 'tls' | 'domain' | 'aliases'>,
  config: Pick<AppConfig, 'tls' | 'domain'> | undefined,
  acme: Pick<AcmeSettings, 'termsAgreed' | 'ca'>,
): string[] | undefined {
  if (appTlsMode(settings, config) !== 'auto') return undefined;
  const domain = config?.domain ?? settings.domain;
  if (domain === undefined) throw new Error('tls "auto" needs a domain: set "domain" in slipway.json (or `slipway domains:set`) to the public host name the certificate is for');
  const names = [...new Set([domain, ...settings.aliases])];
  const wildcard = names.find((n) => n.includes('*'));
  if (wildcard) throw new Error(`tls "auto" cannot get a certificate for the wildcard "${wildcard}" (the http-01 challenge proves single host names only)`);
  if (!acme.termsAgreed) throw new Error(`tls "auto" needs the ACME CA's terms agreed: read them (${acme.ca}) and set SLIPWAY_ACME_AGREE_TOS=1 in slipway's environment`);
  return names;
}
