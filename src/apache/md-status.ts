import http from 'node:http';

/** The path slipway's TLS-auto template serves mod_md's `md-status` handler on (loopback only). */
export const MD_STATUS_PATH = '/.slipway/md-status';

/** One managed domain's certificate, as mod_md reports it. */
export interface CertificateState {
  /** The MDomain's name (its first host name). */
  name: string;
  domains: string[];
  /**
   * `valid`: Apache serves a certificate; `pending`: none yet (being obtained, or waiting for
   * the reload that activates it); `expired`; `error`: mod_md could not get one (see `lastError`).
   */
  state: 'valid' | 'pending' | 'expired' | 'error';
  /** The certificate Apache serves now. */
  active?: { serial: string; issuer?: string; validFrom?: string; validUntil?: string };
  /** When mod_md starts renewing (its renew window). */
  renewAt?: string;
  /** A new certificate mod_md has ready; Apache uses it from the next graceful reload. */
  staged?: { serial: string; validUntil?: string };
  /** mod_md's last failure to get a certificate, in its words. */
  lastError?: string;
  /** True when a graceful reload would put `staged` in service. */
  needsReload: boolean;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The certificate of a mod_md `cert` object: the first key type's (`rsa`, `secp256r1`, …) serial and dates. */
function certOf(value: unknown): { serial: string; issuer?: string; validFrom?: string; validUntil?: string } | undefined {
  const cert = obj(value);
  for (const [key, entry] of Object.entries(cert)) {
    if (key === 'valid') continue;
    const e = obj(entry);
    const serial = str(e.serial);
    if (serial) return { serial, issuer: str(e['issuer-name']), validFrom: str(obj(e.valid).from), validUntil: str(obj(e.valid).until) };
  }
  return undefined;
}

/** mod_md's `md-status` JSON (version 2.x) as one state per managed domain; unknown fields are ignored. */
export function parseMdStatus(json: unknown): CertificateState[] {
  const list = obj(json)['managed-domains'];
  if (!Array.isArray(list)) throw new Error('mod_md status has no "managed-domains" list');
  return list.map((entry): CertificateState => {
    const md = obj(entry);
    const active = certOf(md.cert);
    const renewal = obj(md.renewal);
    const stagedCert = renewal.finished === true ? certOf(renewal.cert) : undefined;
    const staged = stagedCert && stagedCert.serial !== active?.serial ? { serial: stagedCert.serial, validUntil: stagedCert.validUntil } : undefined;
    const last = obj(renewal.last);
    const failed = typeof last.status === 'number' && last.status !== 0;
    const lastError = failed ? [str(last.problem), str(last.detail) ?? str(last.activity)].filter(Boolean).join(': ') || `status ${String(last.status)}` : undefined;
    const until = active?.validUntil ? Date.parse(active.validUntil) : Number.NaN;
    const state: CertificateState['state'] = active ? (until < Date.now() ? 'expired' : 'valid') : failed ? 'error' : 'pending';
    return {
      name: str(md.name) ?? '?',
      domains: Array.isArray(md.domains) ? md.domains.filter((d): d is string => typeof d === 'string') : [],
      state,
      ...(active ? { active } : {}),
      ...(str(md['renew-at']) ? { renewAt: str(md['renew-at']) } : {}),
      ...(staged ? { staged } : {}),
      ...(lastError ? { lastError } : {}),
      needsReload: staged !== undefined,
    };
  });
}

/**
 * Reads mod_md's status through Apache on this machine: the TLS-auto vhost of `host` answers
 * `MD_STATUS_PATH` for 127.0.0.1 only. Rejects when Apache does not answer or says something else.
 */
export function fetchMdStatus(httpPort: number, host: string, timeoutMs = 5000): Promise<CertificateState[]> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: httpPort, path: MD_STATUS_PATH, headers: { host, 'user-agent': 'slipway' }, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`mod_md status for ${host} answered HTTP ${res.statusCode} (is mod_md loaded, and ${host}'s vhost rendered with "tls": "auto"?)`));
        try {
          resolve(parseMdStatus(JSON.parse(body)));
        } catch (err) {
          reject(new Error(`mod_md status for ${host} is not what slipway reads: ${(err as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`mod_md status: Apache on 127.0.0.1:${httpPort} did not answer (${err.message})`)));
  });
}

/** One line for people: `valid until …, renewal from …`, `pending: …`, `error: …`. */
export function describeCertificate(cert: CertificateState): string {
  const parts: string[] = [];
  if (cert.state === 'valid' || cert.state === 'expired') parts.push(`${cert.state} until ${cert.active?.validUntil ?? '?'}`);
  else parts.push(cert.state === 'error' ? 'no certificate yet' : 'pending (mod_md is getting the certificate)');
  if (cert.renewAt && cert.state === 'valid') parts.push(`renewal due ${cert.renewAt}`);
  if (cert.staged) parts.push(`new certificate ready (serial ${cert.staged.serial}), active after the next graceful reload`);
  if (cert.lastError) parts.push(`last error: ${cert.lastError}`);
  return parts.join('; ');
}
