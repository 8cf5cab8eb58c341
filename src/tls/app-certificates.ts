import type { ApacheSites } from '../apache/apache-sites';
import { describeCertificate, fetchMdStatus, type CertificateState } from '../apache/md-status';

/** A `tls: auto` app and its certificate as mod_md reports it (undefined: mod_md does not know it yet). */
export interface AppCertificate {
  app: string;
  domain: string;
  certificate: CertificateState | undefined;
}

/**
 * The certificates of the apps rendered with `tls: auto` (all, or `app`'s), from one read of
 * mod_md's status through Apache. Empty when no app uses it; rejects when Apache does not answer.
 */
export async function readAppCertificates(sites: Pick<ApacheSites, 'tlsSites'>, httpPort: number, app?: string): Promise<AppCertificate[]> {
  const tlsSites = (await sites.tlsSites()).filter((s) => app === undefined || s.app === app);
  if (tlsSites.length === 0) return [];
  const states = await fetchMdStatus(httpPort, tlsSites[0].domain);
  return tlsSites.map((site) => ({ ...site, certificate: states.find((c) => c.domains.includes(site.domain)) }));
}

/** The certificate in one line, or why there is none. */
export function certificateLine(cert: CertificateState | undefined): string {
  return cert ? describeCertificate(cert) : "not known to mod_md yet (Apache has not been reloaded with the app's vhost)";
}
