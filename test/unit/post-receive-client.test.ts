/**
 * The post-receive hook as git runs it (a process with GIT_DIR, stdin and push-option env), against
 * a stand-in for the server's hook socket.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeExit, encodeLine, hookSocketPath, type HookRequest } from '../../src/push/hook-protocol';
import { parseHookRequest } from '../../src/push/hook-request-schema';
import { leaveStaleSocket } from '../support/stale-socket';

const ROOT = path.resolve(__dirname, '..', '..');
const HOOK = path.join(ROOT, 'src', 'hook', 'post-receive.ts');
/** tsx runs the TypeScript source; the hook runs in the repo, where no node_modules is found by name. */
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

let home: string;
let server: net.Server | undefined;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-hook-client-'));
  await fs.mkdir(path.join(home, 'repos', 'shop.git'), { recursive: true });
  await fs.mkdir(path.join(home, 'run'));
});

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await fs.rm(home, { recursive: true, force: true });
});

/** A stand-in server: reads the request line, records it, then answers with `reply` (raw text). */
async function serve(reply: (request: HookRequest) => string, endAfter = true): Promise<HookRequest[]> {
  const requests: HookRequest[] = [];
  server = net.createServer((socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      const request = parseHookRequest(text.slice(0, text.indexOf('\n')));
      requests.push(request);
      socket.write(reply(request));
      if (endAfter) socket.end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(hookSocketPath(home), () => resolve()));
  return requests;
}

/** Runs the hook in the bare repo, as git does (ssh-style: no SLIPWAY_HOME). */
function runHook(stdin: string, env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', TSX, HOOK],
      { cwd: path.join(home, 'repos', 'shop.git'), env: { PATH: process.env.PATH, USER: 'deployer', ...env }, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
    child.stdin?.end(stdin);
  });
}

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('post-receive hook client', () => {
  it('hands the push over and prints the lines it gets back, exiting with the given code', async () => {
    const requests = await serve(() => `${encodeLine('-----> Deploying shop bbbbbbb (main)')}${encodeLine('✘ build failed')}${encodeExit(1)}`);
    const run = await runHook(`${A} ${B} refs/heads/main\n`, { GIT_DIR: '.', GIT_PUSH_OPTION_COUNT: '1', GIT_PUSH_OPTION_0: 'color' });
    expect(run).toEqual({ code: 1, output: '-----> Deploying shop bbbbbbb (main)\n✘ build failed\n' });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ app: 'shop', refUpdates: `${A} ${B} refs/heads/main\n`, pushOptions: ['color'], user: 'deployer' });
    expect(requests[0].receivePackPid).toBe(process.pid);
  });

  it('without a running server: one plain line, exit 0 (git has stored the push)', async () => {
    const run = await runHook(`${A} ${B} refs/heads/main\n`);
    expect(run.code).toBe(0);
    expect(run.output).toBe(`slipway: no running slipway server found under ${home} (${hookSocketPath(home)}); the push is stored but not deployed\n`);
  });

  it('a stale socket file (the server was killed) reads the same', async () => {
    await leaveStaleSocket(hookSocketPath(home));
    const run = await runHook(`${A} ${B} refs/heads/main\n`);
    expect(run.code).toBe(0);
    expect(run.output).toContain('slipway: no running slipway server found under');
  });

  it('a connection lost before the exit code: says so and how to follow the deploy, exit 1', async () => {
    await serve(() => encodeLine('-----> Deploying shop bbbbbbb (main), job 7'));
    const run = await runHook(`${A} ${B} refs/heads/main\n`);
    expect(run.code).toBe(1);
    expect(run.output).toBe(
      '-----> Deploying shop bbbbbbb (main), job 7\n' + 'slipway: lost the connection to the slipway server; the deploy may still be running: follow it with `slipway deploys shop`\n',
    );
  });

  it('an unreadable answer is not printed as if it were a deploy line', async () => {
    await serve(() => '{"line": 42}\n', false);
    const run = await runHook(`${A} ${B} refs/heads/main\n`);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/^slipway: unreadable answer from the slipway server \(neither .*\); the deploy may still be running/);
  });
});
