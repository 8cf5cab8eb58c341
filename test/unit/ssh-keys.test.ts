import { describe, expect, it } from 'vitest';
import { keyFingerprint, keyLine, parsePublicKey, slipwayKeys, sshEntryCommand, withLine, withoutKey } from '../../src/ssh/authorized-keys';
import { parseSshCommand } from '../../src/ssh/ssh-command';
import { fingerprintArgs, parseFingerprints } from '../../src/ssh/ssh-keygen';
import { parseSocketRequest } from '../../src/push/hook-request-schema';

// A real ed25519 public key (ssh-keygen -t ed25519) and the fingerprint ssh-keygen -l prints for it.
const BLOB = 'AAAAC3NzaC1lZDI1NTE5AAAAIFR2Ur3+6HrQk8lf9HgNQd44PyZxxJZrh4dxTp7eQYr1';
const PUB = `ssh-ed25519 ${BLOB} alice@laptop\n`;
const ENTRY = 'SLIPWAY_HOME=/var/lib/slipway exec /usr/bin/node /opt/slipway/dist/ssh/ssh-entry.js';

describe('the command an ssh key may run', () => {
  it('takes git-receive-pack and git-upload-pack on an app, as git sends them', () => {
    expect(parseSshCommand("git-receive-pack '/shop.git'")).toEqual({ command: { service: 'git-receive-pack', app: 'shop' } });
    expect(parseSshCommand("git-upload-pack 'shop.git'")).toEqual({ command: { service: 'git-upload-pack', app: 'shop' } });
    expect(parseSshCommand("git receive-pack 'shop'")).toEqual({ command: { service: 'git-receive-pack', app: 'shop' } });
    expect(parseSshCommand('git-upload-pack shop.git/')).toEqual({ command: { service: 'git-upload-pack', app: 'shop' } });
  });

  it('refuses a shell, other commands and paths that are no app, saying why', () => {
    expect(parseSshCommand(undefined)).toEqual({ refused: expect.stringContaining('no shell here') });
    expect(parseSshCommand('true')).toEqual({ refused: expect.stringContaining('"true" is not allowed') });
    expect(parseSshCommand("git-upload-archive 'shop.git'")).toEqual({ refused: expect.stringContaining('is not allowed') });
    expect(parseSshCommand("git-receive-pack 'shop.git'; id")).toEqual({ refused: expect.stringContaining('is not allowed') });
    expect(parseSshCommand("git-receive-pack ''\\''; id'\\'''")).toEqual({ refused: expect.stringContaining('is not allowed') });
    expect(parseSshCommand("git-receive-pack '../x'")).toEqual({ refused: expect.stringContaining('"../x" is not an app repository') });
    expect(parseSshCommand("git-receive-pack '/etc/passwd'")).toEqual({ refused: expect.stringContaining('is not an app repository') });
    expect(parseSshCommand("git-receive-pack 'Shop.git'")).toEqual({ refused: expect.stringContaining('is not an app repository') });
    expect(parseSshCommand("git-receive-pack 'a\x1b[2J'")).toEqual({ refused: expect.not.stringContaining('\x1b') });
  });
});

describe('authorized_keys lines', () => {
  it('reads a public key, refuses a private key and anything else', () => {
    expect(parsePublicKey(PUB)).toEqual({ type: 'ssh-ed25519', blob: BLOB });
    expect(parsePublicKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn…\n')).toEqual({ problem: expect.stringContaining('private key') });
    expect(parsePublicKey(`${PUB}${PUB}`)).toEqual({ problem: 'expected one public key line, found 2' });
    expect(parsePublicKey('hello world')).toEqual({ problem: expect.stringContaining('not an ssh public key') });
    expect(parsePublicKey(`command="x" ${PUB}`)).toEqual({ problem: expect.stringContaining('not an ssh public key') });
  });

  it("computes ssh-keygen's SHA256 fingerprint and reads ssh-keygen -l output", () => {
    expect(keyFingerprint(BLOB)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(parseFingerprints('256 SHA256:abc+/1 alice@laptop (ED25519)\n2048 SHA256:xyz root@vm (RSA)\n')).toEqual(['SHA256:abc+/1', 'SHA256:xyz']);
    expect(fingerprintArgs('-')).toEqual(['-l', '-E', 'sha256', '-f', '-']);
  });

  it('writes restricted command= lines and finds only its own lines again', () => {
    const line = keyLine(ENTRY, 'alice', { type: 'ssh-ed25519', blob: BLOB });
    expect(line).toBe(`command="${ENTRY} alice",restrict ssh-ed25519 ${BLOB} slipway:alice`);
    const foreign = `# operator\nssh-ed25519 ${BLOB} someone-else\ncommand="/bin/other",restrict ssh-rsa AAAA slipway:Not-Ours`;
    const text = withLine(foreign, line);
    expect(text).toBe(`${foreign}\n${line}\n`);
    expect(slipwayKeys(text)).toEqual([{ name: 'alice', type: 'ssh-ed25519', blob: BLOB, fingerprint: keyFingerprint(BLOB) }]);
    expect(withoutKey(text, 'alice')).toBe(`${foreign}\n`);
    expect(withoutKey(text, 'bob')).toBe(text);
  });

  it('refuses entry paths a shell or the option quoting would read', () => {
    expect(sshEntryCommand('/var/lib/slipway', '/usr/bin/node', '/opt/slipway/dist/ssh/ssh-entry.js')).toBe(ENTRY);
    expect(() => sshEntryCommand('/var/lib/slip way', '/usr/bin/node', '/x.js')).toThrow(/cannot write/);
    expect(() => sshEntryCommand('/a";rm', '/usr/bin/node', '/x.js')).toThrow(/cannot write/);
    expect(() => keyLine('a"b', 'alice', { type: 'ssh-ed25519', blob: BLOB })).toThrow();
  });
});

describe("the ssh entry's announcement on the hook socket", () => {
  it('parses a holdReport request and refuses a malformed one', () => {
    expect(parseSocketRequest('{"holdReport":{"receivePackPid":42,"pusher":"ssh:alice"}}')).toEqual({ holdReport: { receivePackPid: 42, pusher: 'ssh:alice' } });
    expect(() => parseSocketRequest('{"holdReport":{"receivePackPid":0,"pusher":"ssh:alice"}}')).toThrow(/receivePackPid/);
    expect(() => parseSocketRequest('{"holdReport":{"receivePackPid":42,"pusher":"a\\nb"}}')).toThrow(/pusher/);
    expect(() => parseSocketRequest('{"holdReport":{"receivePackPid":42,"pusher":"x","more":1}}')).toThrow();
  });
});
