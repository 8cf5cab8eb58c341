import { describe, expect, it } from 'vitest';
import { leftoverSlipwayVariables, missingModules, parseLoadedModules } from '../../src/doctor/apache';
import { compareVersions, guarded } from '../../src/doctor/check';
import { parseRedisServerVersion, redactRedisTarget } from '../../src/doctor/redis';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPorts, checkState, compactPorts, homeModeProblems, parseGitVersion, readSettingsForDoctor } from '../../src/doctor/system';
import { readSettings } from '../../src/settings';

describe('version parsing', () => {
  it('reads git --version in its usual spellings', () => {
    expect(parseGitVersion('git version 2.39.5\n')).toBe('2.39.5');
    expect(parseGitVersion('git version 2.30.1.windows.1')).toBe('2.30.1');
    expect(parseGitVersion('git version 2.37.1 (Apple Git-137.1)')).toBe('2.37.1');
    expect(parseGitVersion('git version 2.28')).toBe('2.28');
    expect(parseGitVersion('bash: git: command not found')).toBeUndefined();
  });
  it('compares versions numerically, not as text', () => {
    expect(compareVersions('2.39.5', '2.28')).toBeGreaterThan(0);
    expect(compareVersions('2.9', '2.28')).toBeLessThan(0);
    expect(compareVersions('2.28.0', '2.28')).toBe(0);
    expect(compareVersions('1.41', '1.41')).toBe(0);
    expect(compareVersions('1.40', '1.41')).toBeLessThan(0);
    expect(compareVersions('1.43', '1.41')).toBeGreaterThan(0);
  });
  it('reads redis-server --version', () => {
    expect(parseRedisServerVersion('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d')).toBe('7.0.15');
    expect(parseRedisServerVersion('something else')).toBeUndefined();
  });
  it('hides a Redis password in messages', () => {
    expect(redactRedisTarget('redis://:s3cret@db:6379/0')).toBe('redis://***@db:6379/0');
    expect(redactRedisTarget('/var/lib/slipway/redis/redis.sock')).toBe('/var/lib/slipway/redis/redis.sock');
  });
});

describe('apachectl -M output', () => {
  const debian = [
    "AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using 127.0.1.1",
    'Loaded Modules:',
    ' core_module (static)',
    ' so_module (static)',
    ' mpm_event_module (shared)',
    ' proxy_module (shared)',
    ' proxy_http_module (shared)',
    ' rewrite_module (shared)',
  ].join('\n');
  it('lists the loaded modules and ignores warnings around them', () => {
    expect([...(parseLoadedModules(debian) ?? [])]).toEqual(['core_module', 'so_module', 'mpm_event_module', 'proxy_module', 'proxy_http_module', 'rewrite_module']);
  });
  it('gives undefined when there is no module list (a wrapper refusing -M)', () => {
    expect(parseLoadedModules("apachectl wrapper: unsupported action '-M' (use configtest|graceful|start|stop)")).toBeUndefined();
    expect(parseLoadedModules('')).toBeUndefined();
  });
  it('names the required and recommended modules that are missing', () => {
    const loaded = parseLoadedModules(debian) as Set<string>;
    expect(missingModules(loaded, { ssl: false })).toEqual({ required: [], recommended: ['headers_module'] });
    expect(missingModules(loaded, { ssl: true })).toEqual({ required: ['ssl_module'], recommended: ['headers_module'] });
    expect(missingModules(new Set(['core_module']), { ssl: false }).required).toEqual(['proxy_module', 'proxy_http_module', 'rewrite_module']);
  });
});

describe('leftover template variables', () => {
  it("reports slipway's names and *_PORT names, in both forms, once each", () => {
    expect(leftoverSlipwayVariables('Listen ${HTTPS_PORT}\nProxyPass / http://127.0.0.1:$ADRA_PORT/\n# $ADRA_PORT\n${PORT} $SSL_KEY_FILE')).toEqual([
      '${HTTPS_PORT}',
      '$ADRA_PORT',
      '${PORT}',
      '$SSL_KEY_FILE',
    ]);
  });
  it("leaves Apache's own variables, back-references and RewriteMap lookups alone", () => {
    const rendered = 'ErrorLog ${APACHE_LOG_DIR}/error.log\nCustomLog $APACHE_LOG_DIR/x combined\nRewriteRule "^/(.*)$" "http://${slipway_adara:upstream}/$1" [P,NE]\nServerName %{HTTP_HOST}\n$PORTS';
    expect(leftoverSlipwayVariables(rendered)).toEqual([]);
  });
});

describe('home permissions', () => {
  const ancestors = [
    { path: '/', mode: 0o40755 },
    { path: '/var', mode: 0o40755 },
    { path: '/var/lib', mode: 0o40755 },
  ];
  it("accepts slipway's own layout", () => {
    expect(homeModeProblems('/var/lib/slipway', { home: 0o40711, repos: 0o40700, maps: 0o40755, ancestors })).toEqual({ fails: [], warns: [], fixes: [] });
  });
  it('fails what breaks Apache or exposes repos, warns what is merely different', () => {
    const bad = homeModeProblems('/var/lib/slipway', { home: 0o40700, repos: 0o40755, maps: 0o40700, ancestors: [...ancestors.slice(0, 2), { path: '/var/lib', mode: 0o40700 }] });
    expect(bad.fails).toEqual([
      '/var/lib is 0700: others cannot traverse it to the port maps',
      "/var/lib/slipway is 0700, want 0711 (Apache's children must reach /var/lib/slipway/apache)",
      '/var/lib/slipway/repos is 0755: the repos are readable by others, want 0700',
      "/var/lib/slipway/apache is 0700: Apache's children cannot read the port maps, want 0755",
    ]);
    expect(bad.fixes).toEqual(['chmod o+x /var/lib', 'chmod 711 /var/lib/slipway (`slipway up` sets it on start)', 'chmod 700 /var/lib/slipway/repos', 'chmod 755 /var/lib/slipway/apache']);
    const open = homeModeProblems('/var/lib/slipway', { home: 0o40755, repos: undefined, maps: undefined, ancestors });
    expect(open.fails).toEqual([]);
    expect(open.warns).toEqual(['/var/lib/slipway is 0755, want 0711', '/var/lib/slipway/repos does not exist yet', '/var/lib/slipway/apache does not exist yet']);
  });
});

describe('settings for the doctor', () => {
  it('reports each invalid variable and goes on with its default', () => {
    const { settings, results } = readSettingsForDoctor({ SLIPWAY_PORT_RANGE: '80-90', SLIPWAY_PORT: 'abc', SLIPWAY_HOME: '/srv/s' });
    expect(results.map((r) => r.status)).toEqual(['fail', 'fail']);
    expect(results.map((r) => r.detail).join('\n')).toMatch(/SLIPWAY_PORT=abc/);
    expect(results.map((r) => r.detail).join('\n')).toMatch(/SLIPWAY_PORT_RANGE=80-90/);
    expect(settings.portRange).toEqual({ first: 8080, last: 8999 });
    expect(settings.port).toBe(7005);
    expect(settings.home).toBe('/srv/s');
  });
  it('half a TLS pair: the set half is dropped', () => {
    const { settings, results } = readSettingsForDoctor({ SLIPWAY_SSL_CERT_FILE: '/c.pem' });
    expect(results[0].status).toBe('fail');
    expect(settings.ssl).toBeUndefined();
  });
  it('valid settings: one ok line, the same settings as slipway up reads', () => {
    const env = { SLIPWAY_HOME: '/srv/s', SLIPWAY_PORT: '7010' };
    const { settings, results } = readSettingsForDoctor(env);
    expect(results).toEqual([{ name: 'settings', status: 'ok', detail: 'environment variables are valid' }]);
    expect(settings).toEqual(readSettings(env));
  });
});

describe('ports', () => {
  it('compacts port lists', () => {
    expect(compactPorts([8080, 8081, 8082, 8090, 8092, 8093])).toBe('8080-8082, 8090, 8092-8093');
    expect(compactPorts([])).toBe('');
  });
  it('finds a few free ports in the range, skipping busy ones', async () => {
    const settings = readSettings({ SLIPWAY_PORT_RANGE: '8080-8999', SLIPWAY_PORT: '7005' });
    const busy = new Set([8080, 8081, 8083]);
    const results = await checkPorts(settings, async (p) => !busy.has(p));
    expect(results).toEqual([
      { name: 'port range', status: 'ok', detail: 'SLIPWAY_PORT_RANGE 8080-8999: 8082, 8084, 8085 free (8080-8081, 8083 in use)' },
      { name: 'git port', status: 'ok', detail: 'SLIPWAY_PORT 7005 is free (slipway is not running)' },
    ]);
  });
  it('a full small range fails; a busy start of a large range only warns', async () => {
    const small = await checkPorts(readSettings({ SLIPWAY_PORT_RANGE: '9000-9003' }), async (p) => p === 7005);
    expect(small[0]).toMatchObject({ status: 'fail', detail: 'SLIPWAY_PORT_RANGE 9000-9003: no free port' });
    const large = await checkPorts(readSettings({ SLIPWAY_PORT_RANGE: '9000-9999' }), async (p) => p === 7005);
    expect(large[0]).toMatchObject({ status: 'warn', detail: 'SLIPWAY_PORT_RANGE 9000-9999: none of 9000-9049 is free' });
  });
});

describe('guarded checks', () => {
  it('turn a thrown error or a hang into a fail line', async () => {
    expect(
      await guarded('x', async () => {
        throw new Error('boom');
      }),
    ).toEqual([{ name: 'x', status: 'fail', detail: 'the check itself failed: boom' }]);
    expect(await guarded('y', () => new Promise(() => undefined), 50)).toEqual([{ name: 'y', status: 'fail', detail: 'no answer within 0.05 s' }]);
  });
});

describe('state files', () => {
  it('ok when every file is readable; one fail line per damaged file, naming it and the problem', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-doctor-state-'));
    try {
      await fs.mkdir(path.join(home, 'apps'));
      await fs.writeFile(path.join(home, 'apps', 'shop.json'), '{"version": 2, "env": {}}\n');
      expect(await checkState(readSettings({ SLIPWAY_HOME: home }))).toEqual([{ name: 'state', status: 'ok', detail: `the state files under ${home} are readable and in known formats` }]);
      await fs.writeFile(path.join(home, 'apps', 'blog.json'), '{"version": 2, "env": {"A": 1}}\n');
      const [result, ...rest] = await checkState(readSettings({ SLIPWAY_HOME: home }));
      expect(rest).toEqual([]);
      expect(result).toMatchObject({ name: 'state', status: 'fail', detail: `${home}/apps/blog.json: env.A: expected a string, got 1 (slipway left the file as it is)` });
      expect(result.fix).toMatch(/^repair or restore .*blog.json/);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
