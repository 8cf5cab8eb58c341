/**
 * A realistic app to deploy: a Node HTTP server (one `server.js`) in an image built `FROM scratch`
 * with the host's own `/usr/bin/node` and the shared libraries it links (no registry is reachable,
 * so no `FROM node:20`). The runtime is one big layer (~100 MB) that stays cached between builds;
 * a new version changes only the small `server.js` layer, as a real app's code change does.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The Node binary copied into the image. */
const NODE_BIN = '/usr/bin/node';

/** Options for {@link writeNodeApp}. */
export interface NodeAppOptions {
  /** Served by `/` as `version=<version>`; letters, digits, `.`, `_`, `-` only. */
  version: string;
  /** Milliseconds the app sleeps before it listens (simulated boot). */
  bootDelayMs: number;
  /** Milliseconds `/slow` takes to answer. */
  slowMs: number;
  /** Written as `slipway.json` when given. */
  slipwayJson?: object;
}

/**
 * The Dockerfile. The runtime layer comes first and `ENV`/`CMD` never change, so a new version
 * rebuilds only `COPY server.js`.
 */
const DOCKERFILE = [
  'FROM scratch',
  '# /usr/bin/node and the libraries `ldd /usr/bin/node` lists, at their absolute paths.',
  'COPY rootfs/ /',
  'ENV NODE_ENV=production',
  'COPY server.js /app/server.js',
  'CMD ["/usr/bin/node", "/app/server.js"]',
  '',
].join('\n');

/**
 * Writes the app into `dir` (a git work tree or a plain build context): `rootfs/` (copied once;
 * reused when already there), `Dockerfile`, `.dockerignore`, `server.js` and, when given,
 * `slipway.json`. Does not commit.
 */
export async function writeNodeApp(dir: string, options: NodeAppOptions): Promise<void> {
  if (!/^[\w.-]+$/.test(options.version)) throw new Error(`writeNodeApp: unsafe version ${JSON.stringify(options.version)}`);
  await writeRootfs(path.join(dir, 'rootfs'));
  await fs.writeFile(path.join(dir, 'Dockerfile'), DOCKERFILE);
  await fs.writeFile(path.join(dir, '.dockerignore'), '.git\n');
  await fs.writeFile(path.join(dir, 'server.js'), serverSource(options));
  if (options.slipwayJson !== undefined) {
    await fs.writeFile(path.join(dir, 'slipway.json'), `${JSON.stringify(options.slipwayJson, null, 2)}\n`);
  }
}

/**
 * The absolute paths the Node binary needs at run time: the binary, every library `ldd` resolves
 * and the dynamic loader (`/lib64/ld-linux-x86-64.so.2`, named in the ELF header). The vDSO has
 * no path and is provided by the kernel.
 */
export async function nodeRuntimeFiles(): Promise<string[]> {
  const output = await new Promise<string>((resolve, reject) => execFile('ldd', [NODE_BIN], { encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
  const libraries = output
    .split('\n')
    .map((line) => /(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined);
  if (!libraries.some((p) => p.includes('ld-linux'))) throw new Error(`ldd ${NODE_BIN} names no loader:\n${output}`);
  return [NODE_BIN, ...new Set(libraries)];
}

/**
 * Copies the runtime files into `rootfs` at their absolute paths, following symlinks (the image
 * needs the files, not links to host paths). Modes are normalised the way git stores them
 * (0755 if executable, else 0644), so a git checkout of the same tree and this copy produce the
 * same build-cache key. Skipped when `rootfs` already holds a node binary of the right size.
 */
async function writeRootfs(rootfs: string): Promise<void> {
  const nodeCopy = path.join(rootfs, NODE_BIN);
  const [have, want] = await Promise.all([fs.stat(nodeCopy).catch(() => undefined), fs.stat(NODE_BIN)]);
  if (have?.size === want.size) return;
  for (const file of await nodeRuntimeFiles()) {
    const target = path.join(rootfs, file);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(file, target);
    const executable = ((await fs.stat(file)).mode & 0o111) !== 0;
    await fs.chmod(target, executable ? 0o755 : 0o644);
  }
}

/**
 * The app's source. Its shutdown is what a careful Node app does on SIGTERM: stop accepting
 * (`server.close()`), let requests in flight finish, close idle keep-alive connections (now, and
 * each time an in-flight request ends, since only then does its connection become idle), answer
 * `Connection: close` meanwhile so no client reuses a connection that is about to go away, and
 * exit when the last connection is gone.
 */
export function serverSource(options: NodeAppOptions): string {
  return `'use strict';
// Benchmark app written by bench/node-app-image.ts.
const http = require('node:http');

const VERSION = ${JSON.stringify(options.version)};
const PORT = Number(process.env.PORT);
const BOOT_DELAY_MS = ${options.bootDelayMs};
const SLOW_MS = ${options.slowMs};
if (!Number.isInteger(PORT) || PORT <= 0) {
  console.error('PORT must be set');
  process.exit(2);
}

let shuttingDown = false;

const server = http.createServer((req, res) => {
  if (shuttingDown) res.setHeader('Connection', 'close');
  res.on('finish', () => {
    if (shuttingDown) server.closeIdleConnections();
  });
  const reply = (status, type, body) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const path = (req.url || '/').split('?')[0];
  if (path === '/') return reply(200, 'text/plain', 'version=' + VERSION + '\\n');
  if (path === '/slow') return setTimeout(() => reply(200, 'text/plain', 'version=' + VERSION + ' slow\\n'), SLOW_MS);
  if (path === '/health') return reply(200, 'application/json', '{"status":"UP"}');
  return reply(404, 'text/plain', 'not found\\n');
});

process.on('SIGTERM', () => {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log('SIGTERM: closing the listener, finishing requests in flight');
  if (!server.listening) process.exit(0);
  server.close(() => {
    console.log('all connections closed, exiting');
    process.exit(0);
  });
  server.closeIdleConnections();
});

// Simulated boot (loading config, warming caches, connecting to a database).
setTimeout(() => {
  if (shuttingDown) return;
  server.listen(PORT, () => console.log('version ' + VERSION + ' listening on ' + PORT));
}, BOOT_DELAY_MS);
`;
}
