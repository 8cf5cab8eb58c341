/**
 * ssh keys (issue 15): `slipway keys:add/list/remove` write the AuthorizedKeysFile of a private
 * Debian sshd; a key may push and fetch apps through slipway's entry and do nothing else.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startSshStack, type SshStack } from '../support/ssh-stack';
import type { SshdInstance } from '../support/sshd-instance';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';
import type { TestStack } from '../support/test-stack';
import { waitForPort } from '../support/wait-for-port';

let ssh: SshStack;
let stack: TestStack;
let sshd: SshdInstance;
let alice = '';

beforeAll(async () => {
  ssh = await startSshStack();
  ({ stack, sshd, alice } = ssh);
});

afterAll(async () => {
  await ssh?.stop();
});

const sshRemote = (key: string, app: string) => ssh.remote(key, app);
const createApp = (app: string) => ssh.createApp(app);

describe('named keys', () => {
  let app: AppWorktree;
  const push = (key: string, name = app.name) => gitPush(app.dir, sshRemote(key, name).url, ['main'], { env: { ...process.env, ...sshRemote(key, name).env } });

  beforeAll(async () => {
    app = await stack.newApp();
    await createApp(app.name);
    await writeBusyboxApp(app.dir, { version: 'k1', slipwayJson: { healthcheck: { path: '/cgi-bin/health' }, watch: 0 } });
    await commit(app.dir, 'k1');
  });

  it("a named key's push deploys and its release says ssh:alice", async () => {
    const result = await push(alice);
    expect(result.output).toMatch(/remote: ✔ .* live on port/);
    expect(result.code).toBe(0);
    const releases = JSON.parse((await stack.slipway.cli(['releases', app.name, '--json'])).output) as { pushedBy: string }[];
    expect(releases.at(-1)?.pushedBy).toBe('ssh:alice');
    // Fetching goes through the entry too.
    const clone = path.join(app.dir, '..', `${app.name}-clone`);
    const cloned = await new Promise<number>((resolve) =>
      execFile('git', ['clone', '-q', sshd.remoteUrl(app.name), clone], { env: { ...process.env, GIT_SSH_COMMAND: sshd.gitSshCommand(alice) } }, (e) => resolve(e ? 1 : 0)),
    );
    await fs.rm(clone, { recursive: true, force: true });
    expect(cloned).toBe(0);
  });

  it('keys:list shows the key; keys:add refuses a bad name, a duplicate name or key, a private key and junk, leaving the file as it was', async () => {
    const list = JSON.parse((await stack.slipway.cli(['keys:list', '--json'])).output) as { name: string; fingerprint: string }[];
    expect(list.map((k) => k.name)).toEqual(['alice']);
    // A line slipway did not write stays byte for byte.
    const foreign = "# the operator's own line, no newline at the end";
    await fs.appendFile(sshd.authorizedKeys, foreign);
    const before = await fs.readFile(sshd.authorizedKeys, 'utf8');
    const bob = await sshd.newKey('bob');
    const junk = path.join(path.dirname(bob), 'junk.pub');
    await fs.writeFile(junk, 'ssh-ed25519 AAAAnot-base64-of-a-key!!\n');
    const cases: [string[], RegExp][] = [
      [['keys:add', 'Bob!', `${bob}.pub`], /"Bob!" is not a valid key name/],
      [['keys:add', 'alice', `${bob}.pub`], /a key named "alice" exists/],
      [['keys:add', 'bob', `${alice}.pub`], /this key is already there as "alice"/],
      [['keys:add', 'bob', bob], /that is a private key; give the public one/],
      [['keys:add', 'bob', junk], /not an ssh public key/],
      [['keys:add', 'bob', path.join(path.dirname(bob), 'missing.pub')], /no such file/],
      [['keys:remove', 'carol'], /no key named "carol"/],
    ];
    for (const [args, message] of cases) {
      const result = await stack.slipway.cli(args);
      expect(result.output).toMatch(message);
      expect(result.code).not.toBe(0);
    }
    expect(await fs.readFile(sshd.authorizedKeys, 'utf8')).toBe(before);
    // Adding and removing bob keeps every other byte.
    expect((await stack.slipway.cli(['keys:add', 'bob', `${bob}.pub`])).code).toBe(0);
    expect(await fs.readFile(sshd.authorizedKeys, 'utf8')).toMatch(new RegExp(`${foreign}\\ncommand="[^"]+ bob",restrict ssh-ed25519 \\S+ slipway:bob\\n$`));
    expect((await stack.slipway.cli(['keys:remove', 'bob'])).code).toBe(0);
    expect(await fs.readFile(sshd.authorizedKeys, 'utf8')).toBe(`${before}\n`);
  });

  it('a removed key is refused', async () => {
    const carol = await sshd.newKey('carol');
    expect((await stack.slipway.cli(['keys:add', 'carol', `${carol}.pub`])).code).toBe(0);
    expect((await sshd.ssh(carol, [`${sshd.user}@127.0.0.1`, `git-upload-pack '${app.name}.git'`])).output).not.toContain('Permission denied');
    expect((await stack.slipway.cli(['keys:remove', 'carol'])).code).toBe(0);
    const result = await push(carol);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('Permission denied (publickey)');
  });

  it('a key runs no shell command, gets no pty and forwards no port', async () => {
    const shell = await sshd.ssh(alice, [`${sshd.user}@127.0.0.1`, 'true']);
    expect(shell.code).not.toBe(0);
    expect(shell.output).toContain('slipway: "true" is not allowed; this key can only push and fetch apps');
    const login = await sshd.ssh(alice, [`${sshd.user}@127.0.0.1`]);
    expect(login.code).not.toBe(0);
    expect(login.output).toContain('slipway: no shell here');
    const pty = await sshd.ssh(alice, ['-tt', `${sshd.user}@127.0.0.1`]);
    expect(pty.code).not.toBe(0);
    expect(pty.output).toContain('PTY allocation request failed');
    // -L: a forwarded port that would reach slipway's own HTTP port if sshd let it through.
    const local = await freePort();
    const tunnel = spawn('ssh', [...sshd.clientArgs(alice), '-N', '-L', `${local}:127.0.0.1:${stack.slipway.port}`, `${sshd.user}@127.0.0.1`], { stdio: 'ignore' });
    try {
      await waitForPort(local, 20_000, () => 'ssh -L never listened');
      const through = await httpGet(local, '/', 'localhost').then(
        (r) => `HTTP ${r.status}`,
        (err: Error) => err.message,
      );
      expect(through).not.toMatch(/^HTTP/);
      expect((await httpGet(stack.slipway.port, '/', 'localhost')).status).toBeGreaterThan(0);
      expect(sshd.log()).toMatch(/refused local port forward/);
    } finally {
      tunnel.kill('SIGTERM');
    }
  });

  it('refuses an unknown repo, hostile paths and other commands with a readable message, creating nothing', async () => {
    const repos = () => fs.readdir(path.join(stack.slipway.home, 'repos'));
    const before = await repos();
    const unknown = await push(alice, 'no-such-app');
    expect(unknown.output).toContain('slipway: no app named "no-such-app" on this server; create it there with `slipway apps:create no-such-app`');
    expect(unknown.code).not.toBe(0);
    const attempts: [string, string][] = [
      ["git-receive-pack '../x'", 'is not an app repository'],
      ["git-receive-pack ''\\''; id'\\'''", 'is not allowed'],
      [`git-receive-pack '${app.name}.git'; id`, 'is not allowed'],
      [`git-upload-archive '${app.name}.git'`, 'is not allowed'],
      ["git-receive-pack '/etc/passwd'", 'is not an app repository'],
    ];
    for (const [command, message] of attempts) {
      const result = await sshd.ssh(alice, [`${sshd.user}@127.0.0.1`, command]);
      expect(result.output).toContain(message);
      expect(result.output).not.toMatch(/uid=\d+/);
      expect(result.code).not.toBe(0);
    }
    expect(await repos()).toEqual(before);
  });
});
