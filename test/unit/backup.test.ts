import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupMembers, defaultBackupName, tarCreateArgs } from '../../src/backup/backup-plan';
import { writeBackup } from '../../src/cli/backup-command';

/** A home as slipway 0.1.0 leaves it (file names and layout; contents are placeholders). */
const HOME_FILES: Record<string, string> = {
  'apps/shop.json': '{"env":{"SECRET":"s3cret"}}',
  'releases/shop.json': '[{"number":1}]',
  'deploys/shop/deploy-shop-1.log': '-----> Deploying shop\n',
  'apache/shop.map': 'upstream 127.0.0.1:8081\n',
  token: 'admin-token\n',
  'tokens.json': '[{"name":"alice"}]',
  'runtime.json': '{"redis":"/x/redis.sock"}',
  'redis/appendonlydir/appendonly.aof.1.incr.aof': '*1\r\n',
  'repos/shop.git/HEAD': 'ref: refs/heads/main\n',
  'repos/shop.git/objects/ab/cdef': 'blob',
  'worktrees/shop/index.html': 'v1',
  'run/hook.sock': '',
  '.tokens.json.0a1b2c.tmp': 'half-written',
};

let home: string;
let out: string;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-backup-home-'));
  out = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-backup-out-'));
  for (const [file, text] of Object.entries(HOME_FILES)) {
    await fs.mkdir(path.dirname(path.join(home, file)), { recursive: true });
    await fs.writeFile(path.join(home, file), text);
  }
});

afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
  await fs.rm(out, { recursive: true, force: true });
});

function listTar(file: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile('tar', ['-tzf', file], { encoding: 'utf8' }, (err, stdout) =>
      err
        ? reject(err)
        : resolve(
            stdout
              .split('\n')
              .filter((l) => l && !l.endsWith('/'))
              .sort(),
          ),
    ),
  );
}

describe('backupMembers', () => {
  const top = ['apps', 'releases', 'deploys', 'apache', 'token', 'tokens.json', 'runtime.json', 'redis', 'repos', 'worktrees', 'run', '.apps.x.tmp', 'audit.log'];
  it('keeps the state and anything unknown at the top of the home; leaves out the queue, sockets, checkouts, temp files and the repos', () => {
    expect(backupMembers(top, { withRepos: false })).toEqual(['apache', 'apps', 'audit.log', 'deploys', 'releases', 'token', 'tokens.json']);
  });
  it('adds the repos with --with-repos', () => {
    expect(backupMembers(top, { withRepos: true })).toContain('repos');
  });
  it('tar gets every member after --, so a name is never an option', () => {
    expect(tarCreateArgs('/h', ['--checkpoint-action=exec=x', 'apps'], '/o.tgz')).toEqual(['--create', '--gzip', '--file', '/o.tgz', '--directory', '/h', '--', '--checkpoint-action=exec=x', 'apps']);
  });
  it('names the default file after the time, in UTC', () => {
    expect(defaultBackupName(new Date('2026-12-03T20:30:05.123Z'))).toBe('slipway-backup-20261203T203005Z.tar.gz');
  });
});

describe('writeBackup (the real tar)', () => {
  it('writes exactly the state files, mode 600, and nothing else is left in the output directory', async () => {
    const file = path.join(out, 'b.tar.gz');
    const result = await writeBackup(home, file, { withRepos: false });
    expect(await listTar(file)).toEqual(['apache/shop.map', 'apps/shop.json', 'deploys/shop/deploy-shop-1.log', 'releases/shop.json', 'token', 'tokens.json']);
    expect(result.members).toEqual(['apache', 'apps', 'deploys', 'releases', 'token', 'tokens.json']);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(out)).toEqual(['b.tar.gz']);
  });

  it('with repos: the bare repos, objects included', async () => {
    const file = path.join(out, 'r.tar.gz');
    await writeBackup(home, file, { withRepos: true });
    expect(await listTar(file)).toEqual(expect.arrayContaining(['repos/shop.git/HEAD', 'repos/shop.git/objects/ab/cdef']));
  });

  it('restores: untarred into an empty directory, the files are the same', async () => {
    const file = path.join(out, 'b.tar.gz');
    await writeBackup(home, file, { withRepos: false });
    const restored = path.join(out, 'home');
    await fs.mkdir(restored);
    await new Promise<void>((resolve, reject) => execFile('tar', ['-xzf', file, '-C', restored], (err) => (err ? reject(err) : resolve())));
    expect(await fs.readFile(path.join(restored, 'apps/shop.json'), 'utf8')).toBe(HOME_FILES['apps/shop.json']);
    expect(await fs.readFile(path.join(restored, 'token'), 'utf8')).toBe(HOME_FILES.token);
  });

  it('refuses a file inside the home, a missing home and an unwritable target, leaving nothing behind', async () => {
    await expect(writeBackup(home, path.join(home, 'apps', 'b.tar.gz'), { withRepos: false })).rejects.toThrow(/outside SLIPWAY_HOME/);
    await expect(writeBackup(path.join(home, 'nope'), path.join(out, 'b.tar.gz'), { withRepos: false })).rejects.toThrow(/does not exist/);
    await expect(writeBackup(home, path.join(out, 'missing-dir', 'b.tar.gz'), { withRepos: false })).rejects.toThrow(/ENOENT/);
    expect(await fs.readdir(out)).toEqual([]);
    expect((await fs.readdir(path.join(home, 'apps'))).sort()).toEqual(['shop.json']);
  });

  it('a tar that fails halfway leaves the previous backup whole and no temp file', async () => {
    const file = path.join(out, 'b.tar.gz');
    await fs.writeFile(file, 'previous backup');
    // A stand-in tar on PATH that writes half an archive and fails, as a full disk would make it.
    const bin = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-fake-tar-'));
    await fs.writeFile(path.join(bin, 'tar'), '#!/bin/sh\nwhile [ "$1" != --file ]; do shift; done\necho half > "$2"\necho "tar: write error: No space left on device" >&2\nexit 2\n', { mode: 0o755 });
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      await expect(writeBackup(home, file, { withRepos: false })).rejects.toThrow(/tar failed \(2\): tar: write error: No space left on device/);
    } finally {
      process.env.PATH = savedPath;
      await fs.rm(bin, { recursive: true, force: true });
    }
    expect(await fs.readFile(file, 'utf8')).toBe('previous backup');
    expect(await fs.readdir(out)).toEqual(['b.tar.gz']);
  });
});
