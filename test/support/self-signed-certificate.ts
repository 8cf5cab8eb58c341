/** Throwaway TLS certificates for test servers (the private Apache, pebble's own listener). */
import { run } from './daemon-process';

/**
 * Makes a self-signed certificate valid 1 day (openssl, RSA 2048, no passphrase) for `subject`
 * (`/CN=…`) and `altNames` (`DNS:x,IP:y`), writing `certFile` and `keyFile`.
 */
export async function makeSelfSignedCertificate(files: { certFile: string; keyFile: string }, subject: string, altNames: string): Promise<void> {
  const made = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    subject,
    '-addext',
    `subjectAltName=${altNames}`,
    '-keyout',
    files.keyFile,
    '-out',
    files.certFile,
  ]);
  if (made.code !== 0) throw new Error(`openssl could not make a test certificate (${subject}): ${made.output}`);
}
