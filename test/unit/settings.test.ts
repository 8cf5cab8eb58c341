import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../src/settings';
import { SETTINGS_SCHEMA } from '../../src/settings-schema';

describe('settings', () => {
  it('has embedded defaults for everything', () => {
    const settings = readSettings({});
    expect(settings).toMatchObject({ home: '/var/lib/slipway', port: 7005, apacheSites: '/etc/apache2/sites-available', portRange: { first: 8080, last: 8999 }, keepReleases: 5 });
    expect(settings.apachectl).toEqual(['apachectl']);
    expect(settings.redisUrl).toBeUndefined();
    expect(settings.limits).toMatchObject({ bodyTimeoutMs: 60_000, maxConnections: 1000, maxConnectionsPerAddress: 64 });
    expect(settings.trustedProxies).toEqual([]);
  });
  it('builds: a 30-minute deadline and the CLI slipway finds, unless set', () => {
    expect(readSettings({})).toMatchObject({ builder: 'buildkit', buildTimeoutSeconds: 1800, dockerCli: undefined });
    expect(readSettings({ SLIPWAY_BUILD_TIMEOUT: '3', SLIPWAY_DOCKER_CLI: '/usr/bin/docker' })).toMatchObject({ buildTimeoutSeconds: 3, dockerCli: '/usr/bin/docker' });
  });
  it('splits SLIPWAY_APACHECTL into argv, no shell', () => {
    expect(readSettings({ SLIPWAY_APACHECTL: '/x/apachectl -f /etc/a b' }).apachectl).toEqual(['/x/apachectl', '-f', '/etc/a', 'b']);
  });
  it.each([
    [{ SLIPWAY_PORT: 'abc' }, /^environment: SLIPWAY_PORT: expected a whole number from 1 to 65535, got "abc"$/],
    [{ SLIPWAY_BUILDER: 'kaniko' }, /^environment: SLIPWAY_BUILDER: expected "buildkit" or "legacy", got "kaniko"$/],
    [{ SLIPWAY_PORT: '70000' }, /SLIPWAY_PORT/],
    [{ SLIPWAY_PORT_RANGE: '9000-8000' }, /SLIPWAY_PORT_RANGE/],
    [{ SLIPWAY_PORT_RANGE: '80-90' }, /SLIPWAY_PORT_RANGE/],
    [{ SLIPWAY_SSL_CERT_FILE: '/c.pem' }, /^environment: SLIPWAY_SSL_CERT_FILE: SLIPWAY_SSL_CERT_FILE and SLIPWAY_SSL_KEY_FILE must be set together, got "\/c.pem"$/],
    [{ SLIPWAY_KEEP_RELEASES: '1' }, /SLIPWAY_KEEP_RELEASES/],
    [{ SLIPWAY_BUILD_TIMEOUT: '0' }, /^environment: SLIPWAY_BUILD_TIMEOUT: expected a whole number from 1 to 86400, got "0"$/],
    [{ SLIPWAY_BUILD_TIMEOUT: '30m' }, /SLIPWAY_BUILD_TIMEOUT/],
    [{ SLIPWAY_BODY_TIMEOUT: '61' }, /^environment: SLIPWAY_BODY_TIMEOUT: expected a whole number from 1 to 60, got "61"$/],
    [{ SLIPWAY_MAX_CONNECTIONS: '0' }, /SLIPWAY_MAX_CONNECTIONS/],
    [{ SLIPWAY_TRUSTED_PROXIES: '127.0.0.1,proxy.local' }, /SLIPWAY_TRUSTED_PROXIES: "proxy.local" is not an IP address/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
  it('docs/configuration.md is exactly what `slipway settings --markdown` generates from the schema', () => {
    const root = path.resolve(__dirname, '..', '..');
    const doc = readFileSync(path.join(root, 'docs', 'configuration.md'), 'utf8');
    const generated = execFileSync(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(root, 'src', 'cli.ts'), 'settings', '--markdown'], { encoding: 'utf8' });
    expect(doc).toBe(generated);
    for (const name of Object.keys(SETTINGS_SCHEMA)) expect(doc).toContain(`\`${name}\``);
  });
});
