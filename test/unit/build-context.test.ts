import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-fs';
import { describe, expect, it } from 'vitest';
import { buildContextStream, dockerignoreFilter, readDockerignore } from '../../src/docker/build-context';

describe('.dockerignore', () => {
  it('sends everything without patterns', () => {
    expect(dockerignoreFilter([])('anything/at/all')).toBe(true);
  });
  it('reads the patterns as the docker CLI does: trimmed, without blank lines and comments; none without the file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-ignore-'));
    try {
      expect(await readDockerignore(dir)).toEqual([]);
      await fs.writeFile(path.join(dir, '.dockerignore'), '# build output\r\nnode_modules\r\n\n  *.log  \n!keep.log\n');
      expect(await readDockerignore(dir)).toEqual(['node_modules', '*.log', '!keep.log']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
  it('follows the patterns, with exceptions, and always sends Dockerfile and .dockerignore', () => {
    const send = dockerignoreFilter(['node_modules', '*.log', 'secret.txt', '!keep.log', 'Dockerfile']);
    expect(send('src/index.js')).toBe(true);
    expect(send('node_modules')).toBe(false);
    expect(send('debug.log')).toBe(false);
    expect(send('keep.log')).toBe(true);
    expect(send('secret.txt')).toBe(false);
    expect(send('Dockerfile')).toBe(true);
    expect(send('.dockerignore')).toBe(true);
  });
  it("packs an uncompressed tar of exactly the files to send, without the work tree's .git", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-ctx-'));
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-ctx-out-'));
    try {
      await fs.mkdir(path.join(dir, 'node_modules', 'x'), { recursive: true });
      await fs.writeFile(path.join(dir, 'node_modules', 'x', 'index.js'), 'x');
      await fs.writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
      await fs.writeFile(path.join(dir, '.dockerignore'), 'node_modules\nsecret.txt\n');
      await fs.writeFile(path.join(dir, 'secret.txt'), 'no');
      await fs.writeFile(path.join(dir, 'app.js'), 'yes');
      // Larger than one 1 MiB read, not a multiple of it.
      const big = randomBytes(3 * 1024 * 1024 + 123);
      await fs.writeFile(path.join(dir, 'big.bin'), big);
      await fs.mkdir(path.join(dir, '.git'));
      await fs.writeFile(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
      await fs.writeFile(path.join(dir, '.gitignore'), 'node_modules\n');
      const stream = await buildContextStream(dir);
      await new Promise((resolve, reject) => stream.pipe(tar.extract(out)).on('finish', resolve).on('error', reject));
      expect((await fs.readdir(out)).sort()).toEqual(['.dockerignore', '.gitignore', 'Dockerfile', 'app.js', 'big.bin']);
      expect((await fs.readFile(path.join(out, 'big.bin'))).equals(big)).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(out, { recursive: true, force: true });
    }
  });
});
