/**
 * Proves the e2e support pieces work together, without slipway: a private Apache proxying through a
 * run-time `RewriteMap` to a busybox app container, a port switch by atomic map rename (no reload),
 * `.dockerignore` honoured by the docker CLI, and a private Redis.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheInstance } from './apache-instance';
import { freePort } from './free-port';
import { ping, startRedis, type RedisInstance } from './redis-instance';
import { createAppWorktree, writeBusyboxApp, commit, type AppWorktree } from './test-app';

const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const image = `slipway-smoke-${suffix}`;
const containers: string[] = [];
const images: string[] = [];

let apache: ApacheInstance | undefined;
let redis: RedisInstance | undefined;
let app: AppWorktree | undefined;

/** Runs a command with argv only; resolves with code and combined output, never rejects. */
function run(file: string, args: string[], timeout = 120_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function mustRun(file: string, args: string[]): Promise<string> {
  const { code, output } = await run(file, args);
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${code}:\n${output}`);
  return output;
}

/** One GET on a fresh connection (no keep-alive), with an optional Host header. */
function get(port: number, urlPath: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: host ? { Host: host } : {}, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `probe` every 100 ms until it returns true or `timeoutMs` passes; returns the last result. */
async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Writes `content` to `file` atomically: temp file in the same dir (a name no glob matches), fsync, rename. */
async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  const handle = await fs.open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.chmod(tmp, 0o644);
  await fs.rename(tmp, file);
}

/** Starts the busybox app container `<image>:<tag>` on a free port and waits until it serves `/`. */
async function runApp(tag: string): Promise<number> {
  const port = await freePort();
  const name = `${image}-${tag}`;
  containers.push(name);
  await mustRun('docker', ['run', '-d', '--name', name, '--label', 'slipway.test=1', '--net=host', '-e', `PORT=${port}`, `${image}:${tag}`]);
  const up = await waitFor(async () => (await get(port, '/')).status === 200, 15_000);
  if (!up) throw new Error(`container ${name} did not serve on port ${port}:\n${(await run('docker', ['logs', name])).output}`);
  return port;
}

describe('e2e support pieces (no slipway)', () => {
  beforeAll(async () => {
    [apache, redis, app] = await Promise.all([startApache(), startRedis(), createAppWorktree({ name: 'smoke' })]);
    for (const version of ['v1', 'v2']) {
      await writeBusyboxApp(app.dir, { version, slowSeconds: 1 });
      await commit(app.dir, `smoke ${version}`);
      images.push(`${image}:${version}`);
      await mustRun('docker', ['build', '--force-rm', '-q', '-t', `${image}:${version}`, app.dir]);
    }
  });

  afterAll(async () => {
    if (containers.length > 0) await run('docker', ['rm', '-f', ...containers]);
    if (images.length > 0) await run('docker', ['rmi', '-f', ...images]);
    await apache?.stop();
    await redis?.stop();
    await app?.remove();
  });

  it('runs a private Redis that answers PING', async () => {
    const r = redis!;
    expect(await ping(r.socketPath)).toBe(true);
    expect((await mustRun('redis-cli', ['-s', r.socketPath, 'ping'])).trim()).toBe('PONG');
    await mustRun('redis-cli', ['-s', r.socketPath, 'set', 'smoke', 'kept']);
    await r.restart();
    expect((await mustRun('redis-cli', ['-s', r.socketPath, 'get', 'smoke'])).trim()).toBe('kept');
  });

  it('builds an image that honours .dockerignore', async () => {
    const listing = await mustRun('docker', ['run', '--rm', '--label', 'slipway.test=1', '--entrypoint', '/bin/ls', `${image}:v1`, '-a', '/ctx']);
    const files = listing.split(/\s+/).filter(Boolean);
    expect(files).toContain('Dockerfile');
    expect(files).toContain('slipway.json');
    expect(files).not.toContain('secret.txt');
    expect(files).not.toContain('.git');
  });

  it('a failing build makes docker build exit non-zero', async () => {
    const failing = await createAppWorktree({ name: 'smoke-fail' });
    try {
      await writeBusyboxApp(failing.dir, { version: 'bad', buildFails: true });
      images.push(`${image}:bad`);
      const result = await run('docker', ['build', '--force-rm', '-t', `${image}:bad`, failing.dir]);
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('failing on purpose');
    } finally {
      await failing.remove();
    }
  });

  it('proxies through Apache and switches ports by renaming a RewriteMap, without a reload', async () => {
    const a = apache!;
    const portV1 = await runApp('v1');

    const mapsDir = path.join(a.dir, 'maps');
    await fs.mkdir(mapsDir, { mode: 0o755 });
    await fs.chmod(mapsDir, 0o755);
    const mapFile = path.join(mapsDir, 'app.map');
    await writeAtomic(mapFile, `upstream 127.0.0.1:${portV1}\n`);
    const site = [
      `<VirtualHost *:${a.port}>`,
      '    ServerName smoke.localhost',
      '    RewriteEngine On',
      `    RewriteMap smokemap "txt:${mapFile}"`,
      '    RewriteRule "^/(.*)$" "http://${smokemap:upstream}/$1" [P,NE]',
      '</VirtualHost>',
      '',
    ].join('\n');
    await writeAtomic(path.join(a.sitesDir, 'smoke.conf'), site);

    const test = await run(a.apachectl[0], [...a.apachectl.slice(1), 'configtest']);
    expect(test.output).toContain('Syntax OK');
    expect(test.code).toBe(0);
    await mustRun(a.apachectl[0], [...a.apachectl.slice(1), 'graceful']);

    // `-k graceful` only signals the parent: poll until the new generation serves the vhost.
    const served = await waitFor(async () => (await get(a.port, '/', 'smoke.localhost')).body === 'version=v1\n', 10_000);
    expect(served).toBe(true);
    const health = await get(a.port, '/cgi-bin/health', 'smoke.localhost');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'UP' });
    const slow = await get(a.port, '/cgi-bin/slow', 'smoke.localhost');
    expect(slow).toEqual({ status: 200, body: 'version=v1\n' });

    const portV2 = await runApp('v2');
    const errorLog = path.join(a.dir, 'error.log');
    const reloads = async (): Promise<number> => ((await fs.readFile(errorLog, 'utf8')).match(/AH00493/g) ?? []).length;
    const reloadsBefore = await reloads();
    expect(reloadsBefore).toBe(1);
    const started = Date.now();
    await writeAtomic(mapFile, `upstream 127.0.0.1:${portV2}\n`);
    const switched = await waitFor(async () => (await get(a.port, '/', 'smoke.localhost')).body === 'version=v2\n', 2_000);
    expect(switched, `no switch to v2 within 2 s (took ${Date.now() - started} ms)`).toBe(true);
    // No reload happened: once switched, every request goes to v2 (each child re-reads the map by mtime).
    for (let i = 0; i < 10; i++) expect((await get(a.port, '/', 'smoke.localhost')).body).toBe('version=v2\n');
    expect(await reloads()).toBe(reloadsBefore);
  });
});
