import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fillFileAtomic, pathExists, writeFileAtomic } from '../atomic-write';

/**
 * The cluster's own certificate authority: it signs the certificate the server's network listeners
 * (Redis's TLS port, the registry) present to the hosts, and a host checks the server by this CA's
 * sha256 fingerprint, which travels in the join line (like kubeadm's discovery hash). Private: no
 * public CA can sign an IP address slipway's users pick on a private network.
 */
export interface ClusterCertificates {
  caCertPath: string;
  certPath: string;
  keyPath: string;
  /** The server certificate followed by the CA's: what a listener presents, so a host sees the CA it checks. */
  chainPath: string;
  /** sha256 of the CA certificate (DER), uppercase hex pairs joined by `:` (as openssl and Node print it). */
  caFingerprint: string;
}

/** Ten years: a private CA and the server certificate it signs for one address; replaced by hand (`rm -r cluster/`) if ever needed. */
const VALID_DAYS = '3650';

/** Where the cluster's certificate files live under SLIPWAY_HOME. */
export function clusterCertificatePaths(home: string) {
  const dir = path.join(home, 'cluster');
  return {
    dir,
    caKeyPath: path.join(dir, 'ca.key'),
    caCertPath: path.join(dir, 'ca.crt'),
    keyPath: path.join(dir, 'server.key'),
    certPath: path.join(dir, 'server.crt'),
    chainPath: path.join(dir, 'server-chain.crt'),
  };
}

/** The openssl argv that makes the private key of a CA or a server (EC P-256: small, fast, and what Redis and Node accept). */
export function privateKeyArgs(keyFile: string): string[] {
  return ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile];
}

/** The openssl argv that self-signs the cluster CA's certificate with `caKeyFile`. */
export function caCertificateArgs(caKeyFile: string, caCertFile: string): string[] {
  return [
    'req',
    '-x509',
    '-new',
    '-key',
    caKeyFile,
    '-days',
    VALID_DAYS,
    '-subj',
    '/CN=slipway cluster CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    caCertFile,
  ];
}

/**
 * The openssl argv that makes the server's certificate for `address` (an IP SAN: hosts connect by
 * address), signed by the CA (`req -x509 -CA`, OpenSSL 3).
 */
export function serverCertificateArgs(files: { caKeyFile: string; caCertFile: string; keyFile: string; certFile: string }, address: string): string[] {
  return [
    'req',
    '-x509',
    '-new',
    '-key',
    files.keyFile,
    '-CA',
    files.caCertFile,
    '-CAkey',
    files.caKeyFile,
    '-days',
    VALID_DAYS,
    '-subj',
    `/CN=${address}`,
    '-addext',
    `subjectAltName=IP:${address}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-out',
    files.certFile,
  ];
}

/** Runs `openssl` with an argv array; rejects with its own words on failure. */
function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { encoding: 'utf8', timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error("openssl was not found: install Debian's openssl"));
      reject(new Error(`openssl ${args[0]} failed: ${stderr.trim() || err.message}`));
    });
  });
}

/** The sha256 fingerprint of a PEM certificate, as {@link ClusterCertificates.caFingerprint}. */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** True when `certFile` exists, was signed by the CA in `caCertFile` and names `address`. */
async function serverCertificateFits(certFile: string, caCertFile: string, address: string): Promise<boolean> {
  if (!(await pathExists(certFile))) return false;
  const cert = new X509Certificate(await fs.readFile(certFile));
  const ca = new X509Certificate(await fs.readFile(caCertFile));
  return cert.checkIssued(ca) && cert.checkIP(address) !== undefined && new Date(cert.validTo).getTime() > Date.now();
}

/**
 * Makes sure `home/cluster/` holds the cluster CA and a server certificate for `address`, making
 * what is missing (idempotent: an existing CA is kept, so join lines already printed stay valid; a
 * server certificate for another address is replaced). Every file is mode 600, written atomically
 * (openssl writes a temp file that is renamed into place), the directory 700.
 */
export async function ensureClusterCertificates(home: string, address: string): Promise<ClusterCertificates> {
  const paths = clusterCertificatePaths(home);
  await fs.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (!(await pathExists(paths.caCertPath)) || !(await pathExists(paths.caKeyPath))) {
    await fillFileAtomic(paths.caKeyPath, 0o600, (temp) => openssl(privateKeyArgs(temp)));
    await fillFileAtomic(paths.caCertPath, 0o600, (temp) => openssl(caCertificateArgs(paths.caKeyPath, temp)));
    // A new CA makes the old server certificate worthless.
    await fs.rm(paths.certPath, { force: true });
  }
  if (!(await serverCertificateFits(paths.certPath, paths.caCertPath, address))) {
    await fillFileAtomic(paths.keyPath, 0o600, (temp) => openssl(privateKeyArgs(temp)));
    await fillFileAtomic(paths.certPath, 0o600, (temp) =>
      openssl(serverCertificateArgs({ caKeyFile: paths.caKeyPath, caCertFile: paths.caCertPath, keyFile: paths.keyPath, certFile: temp }, address)),
    );
  }
  const chain = (await fs.readFile(paths.certPath, 'utf8')) + (await fs.readFile(paths.caCertPath, 'utf8'));
  if ((await fs.readFile(paths.chainPath, 'utf8').catch(() => '')) !== chain) await writeFileAtomic(paths.chainPath, chain, 0o600);
  return {
    caCertPath: paths.caCertPath,
    certPath: paths.certPath,
    keyPath: paths.keyPath,
    chainPath: paths.chainPath,
    caFingerprint: certificateFingerprint(await fs.readFile(paths.caCertPath, 'utf8')),
  };
}
