import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseApacheVersion } from '../../src/agent/probe';
import { hostState, parseHostList } from '../../src/cluster/host-status';
import { checkHostName, HostStore, hostsDir } from '../../src/cluster/host-store';
import { formatHostToken, newHostSecret, parseHostToken, secretMatches, secretSha256 } from '../../src/cluster/host-token';
import { formatJoinLine, joinArgs, parseCaFingerprint, parseServerAddress } from '../../src/cluster/join-line';
import { hostAclRules, slipwayAclRules, tlsListenerConfig } from '../../src/queue/redis-acl';
import { listStateFiles, stateProblems } from '../../src/state/state-files';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');

describe('host names', () => {
  it('take app-like names and refuse `local` and anything else', () => {
    expect(checkHostName('h2')).toBe('h2');
    expect(() => checkHostName('local')).toThrow(/"local" is the server itself/);
    expect(() => checkHostName('H2')).toThrow(/host name: expected 1-40 characters/);
    expect(() => checkHostName('../x')).toThrow(/host name/);
  });
});

describe('host tokens', () => {
  it('carry the host and a secret kept only as its sha256', () => {
    const secret = newHostSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseHostToken(formatHostToken({ host: 'h2', secret }))).toEqual({ host: 'h2', secret });
    expect(secretMatches(secret, secretSha256(secret))).toBe(true);
    expect(secretMatches(`${secret}x`, secretSha256(secret))).toBe(false);
    expect(() => parseHostToken('h2')).toThrow(/expected a host token/);
    expect(() => parseHostToken('h2.short')).toThrow(/expected a host token/);
  });
});

describe('join line', () => {
  const join = { address: '10.77.0.1', port: 6380, token: formatHostToken({ host: 'h2', secret: newHostSecret() }), caFingerprint: FINGERPRINT };

  it('is one `slipway agent` line whose arguments need no shell quoting', () => {
    const line = formatJoinLine(join);
    expect(line.startsWith('slipway agent --server 10.77.0.1:6380 --token h2.')).toBe(true);
    for (const arg of joinArgs(join)) expect(arg).toMatch(/^[A-Za-z0-9_.:@%+=,/-]+$/);
    expect(line.split(' ')).toEqual(['slipway', ...joinArgs(join)]);
  });

  it('is read back by the agent', () => {
    expect(parseServerAddress('10.77.0.1:6380')).toEqual({ address: '10.77.0.1', port: 6380 });
    expect(parseServerAddress('[fd00::1]:6380')).toEqual({ address: 'fd00::1', port: 6380 });
    expect(() => parseServerAddress('example.com:6380')).toThrow(/--server: expected ADDRESS:PORT/);
    expect(() => parseServerAddress('10.0.0.1:70000')).toThrow(/--server/);
    expect(parseCaFingerprint(FINGERPRINT.toLowerCase().replace(/:/g, ''))).toBe(FINGERPRINT);
    expect(() => parseCaFingerprint('AB:CD')).toThrow(/--ca-sha256/);
  });
});

describe('Redis ACL rules', () => {
  it("give a host its own queue's keys and heartbeat, no channels, nothing dangerous", () => {
    const rules = hostAclRules('h2', 'ab'.repeat(32));
    expect(rules.slice(0, 4)).toEqual(['host-h2', 'reset', 'on', `#${'ab'.repeat(32)}`]);
    expect(rules.filter((r) => r.startsWith('~'))).toEqual(['~bull:slipway-host-h2:*', '~slipway:host:h2']);
    expect(rules).toEqual(expect.arrayContaining(['resetchannels', '-@dangerous', '+info', '+client|setname']));
    expect(rules).not.toContain('~*');
  });

  it("give slipway's own user everything", () => {
    expect(slipwayAclRules('slipway', 'cd'.repeat(32))).toEqual(['slipway', 'reset', 'on', `#${'cd'.repeat(32)}`, '~*', '&*', '+@all']);
  });

  it('open the TLS listener on the cluster address only, without client certificates', () => {
    const config = tlsListenerConfig({ address: '10.77.0.1', port: 6380, certChainFile: '/c', keyFile: '/k', caCertFile: '/ca' });
    const pairs = Object.fromEntries(config.flatMap((v, i) => (i % 2 === 0 ? [[v, config[i + 1]]] : [])));
    expect(pairs).toEqual({ 'tls-cert-file': '/c', 'tls-key-file': '/k', 'tls-ca-cert-file': '/ca', 'tls-auth-clients': 'no', bind: '10.77.0.1', 'tls-port': '6380' });
  });
});

describe('host state', () => {
  it('is up within three heartbeats, down after, new before any', () => {
    expect(hostState({}, 1_000_000)).toBe('new');
    expect(hostState({ lastContact: 1_000_000 - 14_000 }, 1_000_000)).toBe('up');
    expect(hostState({ lastContact: 1_000_000 - 16_000 }, 1_000_000)).toBe('down');
  });

  it('host lists are comma-separated, without repeats', () => {
    expect(parseHostList('local,h2,h2,h3')).toEqual(['local', 'h2', 'h3']);
    expect(() => parseHostList('local,,h2')).toThrow(/separated by commas/);
  });

  it("reads Apache's version line", () => {
    expect(parseApacheVersion('Server version: Apache/2.4.62 (Debian)\nServer built:   2024-10-04T15:21:08\n')).toBe('Apache/2.4.62');
  });
});

describe('host store', () => {
  const homes: string[] = [];
  afterEach(async () => {
    await Promise.all(homes.splice(0).map((home) => fs.rm(home, { recursive: true, force: true })));
  });

  it('keeps hosts as versioned state files, mode 600, listed with the other state files', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-hosts-'));
    homes.push(home);
    const store = new HostStore(hostsDir(home));
    const host = { name: 'h2', added: new Date().toISOString(), secretSha256: secretSha256('x') };
    await store.add(host);
    await expect(store.add(host)).rejects.toThrow(/a host named "h2" exists already/);
    expect(await store.list()).toEqual([host]);
    expect(JSON.parse(await fs.readFile(store.file('h2'), 'utf8'))).toMatchObject({ version: 1, name: 'h2' });
    expect((await fs.stat(store.file('h2'))).mode & 0o777).toBe(0o600);
    expect((await listStateFiles(home)).map((f) => f.file)).toContain(store.file('h2'));

    await fs.writeFile(store.file('h3'), JSON.stringify({ version: 2, name: 'h3' }));
    expect((await stateProblems(home)).map((p) => [p.source, p.problem])).toEqual([[store.file('h3'), 'newer']]);
    await fs.rm(store.file('h3'));

    expect(await store.remove('h2')).toBe(true);
    expect(await store.remove('h2')).toBe(false);
    expect(await store.list()).toEqual([]);
  });
});
