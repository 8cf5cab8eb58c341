import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APP_CONFIG_FORMAT, AppConfigStore } from '../../src/apps/app-config-store';
import { DEPLOY_JOB_FORMAT, readJobData } from '../../src/queue/deploy-job';
import { RELEASE_HISTORY_FORMAT, ReleaseStore } from '../../src/releases/release-store';
import { RUNTIME_INFO_FORMAT, readRuntimeInfo } from '../../src/runtime-file';
import { TOKEN_LIST_FORMAT, TokenStore } from '../../src/auth/token-store';
import { hashToken } from '../../src/auth/push-token';
import { migrateHome, migrateStateFile } from '../../src/state/migrate-home';
import { PORT_MAP_FORMAT, portMapContent } from '../../src/state/port-map-format';
import { assertAppStateUsable, stateProblems } from '../../src/state/state-files';
import { decodeState, StateError } from '../../src/state/state-format';

// What release 0.1.0 (commit 7379769) wrote, byte for byte in form: its formats are version 1.
const V1_RELEASES = [
  {
    number: 1,
    app: 'shop',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    kind: 'push',
    deployId: 'deploy-shop-aaaaaaaaaaaa-1',
    pushedBy: 'git',
    startedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 3100,
    result: 'live',
    port: 8080,
  },
  {
    number: 2,
    app: 'shop',
    sha: 'b'.repeat(40),
    ref: 'refs/heads/main',
    kind: 'push',
    deployId: 'deploy-shop-bbbbbbbbbbbb-2',
    pushedBy: 'alice',
    startedAt: '2026-12-01T11:00:00.000Z',
    durationMs: 900,
    result: 'failed',
    reason: 'build failed: x',
  },
  {
    number: 3,
    app: 'shop',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    kind: 'rollback',
    note: 'rollback to release 1',
    deployId: 'deploy-shop-aaaaaaaaaaaa-3',
    pushedBy: 'cli:root',
    startedAt: '2026-12-01T12:00:00.000Z',
    durationMs: 700,
    result: 'live',
    port: 8081,
  },
];
const V1_CONFIG = { env: { SECRET: 's3cret', EMPTY: '' }, domain: 'shop.example.com', publicFetch: true, webhooks: ['https://hooks.example.com/x'] };
const V1_TOKENS = [{ name: 'alice', sha256: hashToken('alice-token').toString('hex'), createdAt: '2026-12-01T09:00:00.000Z' }];
const V1_RUNTIME = { redis: '/var/lib/slipway/redis/redis.sock', queueName: 'slipway-deploys' };
const V1_JOB = { app: 'shop', sha: 'c'.repeat(40), ref: 'refs/heads/main', kind: 'push', rebuild: false, pushedBy: 'git', pushedAt: '2026-12-01T13:00:00.000Z' };
const json = (value: unknown) => `${JSON.stringify(value, null, 1)}\n`;

let home: string;
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-state-'));
  for (const dir of ['apps', 'releases', 'apache']) await fs.mkdir(path.join(home, dir));
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

async function write0_1_0Home(): Promise<void> {
  await fs.writeFile(path.join(home, 'releases', 'shop.json'), json(V1_RELEASES), { mode: 0o600 });
  await fs.writeFile(path.join(home, 'apps', 'shop.json'), json(V1_CONFIG), { mode: 0o600 });
  await fs.writeFile(path.join(home, 'tokens.json'), json(V1_TOKENS), { mode: 0o600 });
  await fs.writeFile(path.join(home, 'runtime.json'), `${JSON.stringify(V1_RUNTIME)}\n`, { mode: 0o600 });
  await fs.writeFile(path.join(home, 'apache', 'shop.map'), 'upstream 127.0.0.1:8081\n');
}

describe('each migration, from what 0.1.0 wrote', () => {
  it('app-config-v2 adds the version and keeps every field', () => {
    expect(APP_CONFIG_FORMAT.migrations.map((m) => m.name)).toEqual(['app-config-v2']);
    expect(decodeState(APP_CONFIG_FORMAT, V1_CONFIG, 'apps/shop.json')).toEqual({ version: 2, ...V1_CONFIG });
  });
  it('release-history-v2 moves the list, unchanged, under "releases"', () => {
    expect(RELEASE_HISTORY_FORMAT.migrations.map((m) => m.name)).toEqual(['release-history-v2']);
    expect(decodeState(RELEASE_HISTORY_FORMAT, V1_RELEASES, 'releases/shop.json')).toEqual({ version: 2, releases: V1_RELEASES });
  });
  it('token-list-v2 moves the list, unchanged, under "tokens"', () => {
    expect(TOKEN_LIST_FORMAT.migrations.map((m) => m.name)).toEqual(['token-list-v2']);
    expect(decodeState(TOKEN_LIST_FORMAT, V1_TOKENS, 'tokens.json')).toEqual({ version: 2, tokens: V1_TOKENS });
  });
  it('runtime-info-v2 adds the version', () => {
    expect(decodeState(RUNTIME_INFO_FORMAT, V1_RUNTIME, 'runtime.json')).toEqual({ version: 2, ...V1_RUNTIME });
  });
  it('port-map-v2 puts the version line before the upstream line; port-map-v3 renumbers it', () => {
    expect(PORT_MAP_FORMAT.migrations.map((m) => m.name)).toEqual(['port-map-v2', 'port-map-v3']);
    expect(decodeState(PORT_MAP_FORMAT, 'upstream 127.0.0.1:8081\n', 'apache/shop.map')).toBe(portMapContent(8081));
    expect(decodeState(PORT_MAP_FORMAT, '# slipway port map, format 2\nupstream 127.0.0.1:8081\n', 'apache/shop.map')).toBe(portMapContent(8081));
    expect(portMapContent(8081)).toBe('# slipway port map, format 3\nupstream 127.0.0.1:8081\n');
  });
  it('port map format 3 lists one upstream per web replica; a format-2 map with several is refused', () => {
    expect(portMapContent([8081, 8082, 8083])).toBe('# slipway port map, format 3\nupstream 127.0.0.1:8081|127.0.0.1:8082|127.0.0.1:8083\n');
    expect(decodeState(PORT_MAP_FORMAT, portMapContent([8081, 8082]), 'apache/shop.map')).toBe(portMapContent([8081, 8082]));
    expect(() => decodeState(PORT_MAP_FORMAT, '# slipway port map, format 3\nupstream 127.0.0.1:8081|10.0.0.1:80\n', 'apache/shop.map')).toThrow(/expected/);
  });
  it('deploy-job-v2: a job 0.1.0 left in Redis is read as it was', () => {
    expect(DEPLOY_JOB_FORMAT.migrations.map((m) => m.name)).toEqual(['deploy-job-v2']);
    expect(readJobData(V1_JOB, 'deploy-shop-cccccccccccc-4')).toEqual(V1_JOB);
    expect(readJobData({ ...V1_JOB, version: 2 }, 'j')).toEqual(V1_JOB);
    expect(() => readJobData({ ...V1_JOB, version: 3 }, 'j')).toThrow(/^deploy job j is deploy job data format 3, written by a newer slipway; this slipway reads formats up to 2/);
  });
});

describe('the stores read 0.1.0 files before any migration ran', () => {
  it('releases, app config, tokens and runtime info', async () => {
    await write0_1_0Home();
    expect(await new ReleaseStore(path.join(home, 'releases')).list('shop')).toEqual(V1_RELEASES);
    expect((await new ReleaseStore(path.join(home, 'releases')).live('shop'))?.number).toBe(3);
    expect(await new AppConfigStore(path.join(home, 'apps')).read('shop')).toEqual(V1_CONFIG);
    expect(await new TokenStore(path.join(home, 'tokens.json'), 'admin').authenticate(`Bearer alice-token`)).toBe('alice');
    expect(await readRuntimeInfo(path.join(home, 'runtime.json'))).toEqual(V1_RUNTIME);
  });
  it('and write the current format on their next write', async () => {
    await write0_1_0Home();
    await new AppConfigStore(path.join(home, 'apps')).update('shop', (c) => ({ ...c, env: { ...c.env, B: '2' } }));
    expect(JSON.parse(await fs.readFile(path.join(home, 'apps', 'shop.json'), 'utf8'))).toEqual({ version: 2, ...V1_CONFIG, env: { ...V1_CONFIG.env, B: '2' } });
  });
});

describe('migrating SLIPWAY_HOME on start', () => {
  it('brings every 0.1.0 file to the current format, keeps modes, removes the backups, and is a no-op the second time', async () => {
    await write0_1_0Home();
    const { migrated, problems } = await migrateHome(home);
    expect(problems).toEqual([]);
    expect(migrated.map((m) => [path.relative(home, m.file), m.from, m.to, m.steps])).toEqual([
      ['apps/shop.json', 1, 2, ['app-config-v2']],
      ['releases/shop.json', 1, 2, ['release-history-v2']],
      ['apache/shop.map', 1, 3, ['port-map-v2', 'port-map-v3']],
      ['tokens.json', 1, 2, ['token-list-v2']],
      ['runtime.json', 1, 2, ['runtime-info-v2']],
    ]);
    expect(JSON.parse(await fs.readFile(path.join(home, 'releases', 'shop.json'), 'utf8'))).toEqual({ version: 2, releases: V1_RELEASES });
    expect(await fs.readFile(path.join(home, 'apache', 'shop.map'), 'utf8')).toBe(portMapContent(8081));
    expect((await fs.stat(path.join(home, 'apps', 'shop.json'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(home, 'apache', 'shop.map'))).mode & 0o777).toBe(0o644);
    const leftovers = (await fs.readdir(home, { recursive: true })).filter((f) => String(f).includes('.bak') || String(f).endsWith('.tmp'));
    expect(leftovers).toEqual([]);
    expect(await migrateHome(home)).toEqual({ migrated: [], problems: [] });
  });

  it('keeps the previous file as <file>.v1.bak until the new one is written; a failed write changes nothing', async () => {
    await write0_1_0Home();
    const file = path.join(home, 'releases', 'shop.json');
    const before = await fs.readFile(file, 'utf8');
    let backupDuringWrite: string | undefined;
    const failingWrite = async () => {
      backupDuringWrite = await fs.readFile(`${file}.v1.bak`, 'utf8');
      throw new Error('disk full');
    };
    await expect(migrateStateFile({ file, format: RELEASE_HISTORY_FORMAT }, failingWrite)).rejects.toThrow('disk full');
    expect(backupDuringWrite).toBe(before);
    expect(await fs.readFile(file, 'utf8')).toBe(before);
    expect(await fs.readFile(`${file}.v1.bak`, 'utf8')).toBe(before);
    // The next start succeeds and then removes the backup.
    expect((await migrateStateFile({ file, format: RELEASE_HISTORY_FORMAT }))?.steps).toEqual(['release-history-v2']);
    await expect(fs.stat(`${file}.v1.bak`)).rejects.toThrow(/ENOENT/);
  });

  it('leaves a damaged file byte-identical, names it and its problem, and migrates the others', async () => {
    await write0_1_0Home();
    await fs.writeFile(path.join(home, 'apps', 'broken.json'), '{"env": {"A": "1"');
    await fs.writeFile(path.join(home, 'releases', 'odd.json'), json([{ number: 'one' }]));
    const { migrated, problems } = await migrateHome(home);
    expect(migrated).toHaveLength(5);
    expect(problems.map((p) => [path.relative(home, p.source), p.problem])).toEqual([
      ['apps/broken.json', 'damaged'],
      ['releases/odd.json', 'damaged'],
    ]);
    expect(problems[0].message).toMatch(/apps\/broken.json: not valid JSON .*slipway left it as it is/);
    expect(problems[1].message).toMatch(/releases\/odd.json: releases\[0\].number: expected a number, got "one"/);
    expect(await fs.readFile(path.join(home, 'apps', 'broken.json'), 'utf8')).toBe('{"env": {"A": "1"');
    expect(await fs.readFile(path.join(home, 'releases', 'odd.json'), 'utf8')).toBe(json([{ number: 'one' }]));
    expect((await fs.readdir(path.join(home, 'apps'))).sort()).toEqual(['broken.json', 'shop.json']);
  });

  it('refuses a file from a newer slipway, naming the file and both versions, and rewrites nothing', async () => {
    const file = path.join(home, 'apps', 'shop.json');
    const text = json({ version: 3, env: {}, scale: 2 });
    await fs.writeFile(file, text);
    const { migrated, problems } = await migrateHome(home);
    expect(migrated).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(StateError);
    expect(problems[0].problem).toBe('newer');
    expect(problems[0].message).toBe(
      `${file} is app config format 3, written by a newer slipway; this slipway reads formats up to 2. It was left as it is: run the newer slipway again, or restore the backup taken before the upgrade`,
    );
    expect(await fs.readFile(file, 'utf8')).toBe(text);
  });
});

describe('a damaged app', () => {
  it('is refused by name (its deploys fail before anything is touched); the other apps are usable', async () => {
    await write0_1_0Home();
    await fs.writeFile(path.join(home, 'apps', 'broken.json'), '');
    await expect(assertAppStateUsable(home, 'broken')).rejects.toThrow(/^slipway will not touch broken until this is repaired: .*apps\/broken.json: not valid JSON/);
    await expect(assertAppStateUsable(home, 'shop')).resolves.toBeUndefined();
    await expect(new AppConfigStore(path.join(home, 'apps')).update('broken', (c) => c)).rejects.toThrow(StateError);
    expect(await fs.readFile(path.join(home, 'apps', 'broken.json'), 'utf8')).toBe('');
    expect((await stateProblems(home)).map((p) => path.relative(home, p.source))).toEqual(['apps/broken.json']);
  });
  it('a damaged token list locks out only the named tokens, never the admin', async () => {
    await fs.writeFile(path.join(home, 'tokens.json'), '[{"name": "alice"');
    const store = new TokenStore(path.join(home, 'tokens.json'), 'admin');
    expect(await store.authenticate('Bearer admin')).toBe('admin');
    expect(await store.authenticate('Bearer alice-token')).toBeUndefined();
    await expect(store.add('bob')).rejects.toThrow(/tokens.json: not valid JSON/);
  });
  it("a port map that is not slipway's format is named", async () => {
    await fs.writeFile(path.join(home, 'apache', 'shop.map'), 'upstream somewhere-else\n');
    expect((await stateProblems(home)).map((p) => p.message)).toEqual([expect.stringMatching(/apache\/shop.map: expected "# slipway port map, format 3" and then "upstream 127.0.0.1:<port>"/)]);
  });
});
