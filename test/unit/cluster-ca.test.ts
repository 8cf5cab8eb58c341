import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { caCertificateArgs, ensureClusterCertificates, privateKeyArgs, serverCertificateArgs } from '../../src/cluster/cluster-ca';

describe('cluster CA argv', () => {
  it('makes an EC P-256 key', () => {
    expect(privateKeyArgs('/k')).toEqual(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', '/k']);
  });

  it('self-signs a CA certificate marked as a CA', () => {
    const args = caCertificateArgs('/ca.key', '/ca.crt');
    expect(args.slice(0, 5)).toEqual(['req', '-x509', '-new', '-key', '/ca.key']);
    expect(args).toContain('basicConstraints=critical,CA:TRUE');
    expect(args.at(-1)).toBe('/ca.crt');
  });

  it('signs the server certificate with the CA for the address as an IP SAN', () => {
    const args = serverCertificateArgs({ caKeyFile: '/ca.key', caCertFile: '/ca.crt', keyFile: '/s.key', certFile: '/s.crt' }, '10.77.0.1');
    expect(args).toEqual(expect.arrayContaining(['-CA', '/ca.crt', '-CAkey', '/ca.key', '-key', '/s.key', 'subjectAltName=IP:10.77.0.1']));
    expect(args.at(-1)).toBe('/s.crt');
  });
});

describe('ensureClusterCertificates (real openssl)', () => {
  const homes: string[] = [];
  afterEach(async () => {
    await Promise.all(homes.splice(0).map((home) => fs.rm(home, { recursive: true, force: true })));
  });

  it('makes a CA and a server certificate for the address, mode 600, and keeps the CA on a second run', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-ca-'));
    homes.push(home);
    const first = await ensureClusterCertificates(home, '10.77.0.1');
    const ca = new X509Certificate(await fs.readFile(first.caCertPath));
    const server = new X509Certificate(await fs.readFile(first.certPath));
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP('10.77.0.1')).toBe('10.77.0.1');
    expect(first.caFingerprint).toBe(ca.fingerprint256);
    expect(first.caFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await fs.readFile(first.chainPath, 'utf8')).toBe((await fs.readFile(first.certPath, 'utf8')) + (await fs.readFile(first.caCertPath, 'utf8')));
    for (const file of [first.caCertPath, first.certPath, first.keyPath, first.chainPath, path.join(home, 'cluster', 'ca.key')]) {
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    }
    expect((await fs.stat(path.join(home, 'cluster'))).mode & 0o777).toBe(0o700);

    const serverBefore = await fs.readFile(first.certPath, 'utf8');
    const again = await ensureClusterCertificates(home, '10.77.0.1');
    expect(again).toEqual(first);
    expect(await fs.readFile(again.certPath, 'utf8')).toBe(serverBefore);

    // Another address: same CA (join lines stay valid), a new server certificate naming it.
    const moved = await ensureClusterCertificates(home, '10.77.0.9');
    expect(moved.caFingerprint).toBe(first.caFingerprint);
    const movedServer = new X509Certificate(await fs.readFile(moved.certPath));
    expect(movedServer.checkIP('10.77.0.9')).toBe('10.77.0.9');
    expect(movedServer.checkIP('10.77.0.1')).toBeUndefined();
    expect((await fs.readdir(path.join(home, 'cluster'))).sort()).toEqual(['ca.crt', 'ca.key', 'server-chain.crt', 'server.crt', 'server.key']);
  });
});
