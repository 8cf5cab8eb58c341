/**
 * A private pebble (Debian's `pebble`, Let's Encrypt's small RFC 8555 ACME server made for tests)
 * on free loopback ports, for the `tls: auto` tests: its own temp directory, config JSON and a
 * TLS certificate for its own HTTPS listener (made with openssl). With `PEBBLE_VA_ALWAYS_VALID=1`
 * it validates no challenge, so no test ever needs port 80 or a real DNS name. Stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { sleep, terminate } from './daemon-process';
import { freePort } from './free-port';
import { makeSelfSignedCertificate } from './self-signed-certificate';

const PEBBLE_BIN = '/usr/bin/pebble';

export interface PebbleInstance {
  /** The ACME directory URL (`https://127.0.0.1:<port>/dir`): SLIPWAY_ACME_CA. */
  directoryUrl: string;
  /** The certificate of pebble's own HTTPS listener (self-signed, world-readable): SLIPWAY_ACME_CA_TRUST. */
  listenerCertFile: string;
  /** Subject CN of the intermediate that signs the certificates pebble issues (new on every start). */
  issuerName(): Promise<string>;
  /** Everything pebble printed. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts pebble and resolves once its directory answers. `validitySeconds` sets the lifetime of
 * the certificates it issues (pebble's `certificateValidityPeriod`), short to test renewals.
 */
export async function startPebble(options: { validitySeconds?: number } = {}): Promise<PebbleInstance> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-pebble-'));
  // Apache's children (www-data) read the listener certificate as mod_md's MDCACertificateFile.
  await fs.chmod(dir, 0o755);
  const certFile = path.join(dir, 'listener-cert.pem');
  const keyFile = path.join(dir, 'listener-key.pem');
  await makeSelfSignedCertificate({ certFile, keyFile }, '/CN=pebble-listener', 'IP:127.0.0.1,DNS:localhost');
  await fs.chmod(certFile, 0o644);
  const [port, managementPort, httpPort, tlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const configFile = path.join(dir, 'pebble-config.json');
  await fs.writeFile(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: certFile,
        privateKey: keyFile,
        // Unused with PEBBLE_VA_ALWAYS_VALID, but pebble wants them.
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
      },
    }),
  );
  let output = '';
  const child: ChildProcess = spawn(PEBBLE_BIN, ['-config', configFile], {
    env: { ...process.env, PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const ca = await fs.readFile(certFile);
  const get = (url: string) =>
    new Promise<string>((resolve, reject) => {
      https
        .get(url, { ca, agent: false, timeout: 5000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  const stop = async () => {
    if (child.pid !== undefined) await terminate(child.pid, 5000, 'pebble');
    await fs.rm(dir, { recursive: true, force: true });
  };
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await get(directoryUrl);
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`pebble did not answer on ${directoryUrl}: ${(err as Error).message}\n${output}`);
      }
      await sleep(100);
    }
  }
  return {
    directoryUrl,
    listenerCertFile: certFile,
    async issuerName() {
      const pem = await get(`https://127.0.0.1:${managementPort}/intermediates/0`);
      return /CN=([^\n]+)/.exec(new X509Certificate(pem).subject)?.[1] ?? '';
    },
    output: () => output,
    stop,
  };
}
