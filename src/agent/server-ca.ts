import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

/**
 * Reads the certificate chain the server's TLS listener presents and returns the certificate (PEM)
 * of the CA whose sha256 fingerprint is `fingerprint`: the join line's promise of which server this
 * is (like kubeadm's discovery hash). The agent then connects trusting that CA alone, so every later
 * connection is checked the ordinary way (chain and IP address). Throws when no certificate in the
 * chain has that fingerprint: another server, or someone in between.
 */
export function fetchServerCa(address: string, port: number, fingerprint: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    // Not verified here on purpose: what is checked is the fingerprint, below.
    const socket = tls.connect({ host: address, port, rejectUnauthorized: false });
    const fail = (message: string) => {
      socket.destroy();
      reject(new Error(message));
    };
    socket.setTimeout(timeoutMs, () => fail(`the server ${address}:${port} did not complete a TLS handshake within ${timeoutMs / 1000} s`));
    socket.once('error', (err: Error) => fail(`cannot reach the server's Redis at ${address}:${port} over TLS: ${err.message}`));
    socket.once('secureConnect', () => {
      const seen: string[] = [];
      for (let cert = socket.getPeerCertificate(true); cert?.raw && !seen.includes(cert.fingerprint256); cert = cert.issuerCertificate) {
        seen.push(cert.fingerprint256);
        if (cert.fingerprint256 === fingerprint) {
          socket.destroy();
          return resolve(new X509Certificate(cert.raw).toString());
        }
      }
      fail(
        `the server at ${address}:${port} did not present the cluster CA with sha256 ${fingerprint}: this is not the server the join line was made for (or something stands in between); not connecting`,
      );
    });
  });
}
