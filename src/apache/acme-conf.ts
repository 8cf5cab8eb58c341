import type { AcmeSettings } from '../settings';

/**
 * The file holding mod_md's server-wide settings, rendered into the sites directory next to the
 * apps' files. Its name starts with digits, which no app name does, so no app ever owns it; it
 * defines no vhost, so where it sorts does not change which vhost is the default.
 */
export const ACME_CONF_NAME = '000-slipway-acme.conf';

/**
 * mod_md's server-wide directives from `SLIPWAY_ACME_*` (checked by readSettings: https URL, no
 * quotes or spaces). `MDCertificateAgreement accepted` only when the operator agreed. With Apache
 * on other ports than 80/443 (behind a port forward, or in tests), `MDPortMap` tells mod_md which
 * local ports the CA's port 80 and 443 reach. Inside `<IfModule md_module>`: left behind after
 * the last TLS app went, it never stops an Apache without mod_md from starting.
 */
export function renderAcmeConf(acme: AcmeSettings, httpPort: number): string {
  const lines = [
    '# Rendered by slipway from SLIPWAY_ACME_* for apps with "tls": "auto": mod_md\'s server-wide settings.',
    '# slipway rewrites this file: change the variables, not the file.',
    '<IfModule md_module>',
    `    MDCertificateAuthority ${acme.ca}`,
    ...(acme.termsAgreed ? ['    MDCertificateAgreement accepted'] : []),
    ...(acme.email ? [`    MDContactEmail ${acme.email}`] : []),
    ...(acme.caTrust ? [`    MDCACertificateFile "${acme.caTrust}"`] : []),
    ...(httpPort !== 80 || acme.httpsPort !== 443 ? [`    MDPortMap http:${httpPort} https:${acme.httpsPort}`] : []),
    '</IfModule>',
  ];
  return `${lines.join('\n')}\n`;
}

/** The variables the TLS-auto template uses besides the usual ones. */
export function tlsTemplateVariables(names: string[], httpsPort: number): Record<string, string> {
  return {
    TLS_NAMES: names.join(' '),
    HTTPS_PORT: String(httpsPort),
    // The redirect keeps a non-standard HTTPS port in the URL (`https://host:8443/…`).
    HTTPS_PORT_SUFFIX: httpsPort === 443 ? '' : `:${httpsPort}`,
  };
}
