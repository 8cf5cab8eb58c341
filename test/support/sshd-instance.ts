/**
 * A private OpenSSH server (Debian's openssh-server) for e2e tests: its own config, host key,
 * pid file and AuthorizedKeysFile in a temp dir, on a free loopback port, run in the foreground
 * as a child of the test and stopped by its pid. Logins are by key only, as the user the tests
 * run as.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './daemon-process';
import { freePort } from './free-port';
import { waitForPort } from './wait-for-port';

const SSHD = '/usr/sbin/sshd';

export interface SshdInstance {
  port: number;
  /** The login user (the one running the tests). */
  user: string;
  /** The file sshd reads as AuthorizedKeysFile (what SLIPWAY_AUTHORIZED_KEYS points at). */
  authorizedKeys: string;
  /** Makes an ed25519 key pair; resolves with the private key file (the public one is `<file>.pub`). */
  newKey(name: string): Promise<string>;
  /** GIT_SSH_COMMAND for `key`: this port, no host key checks, that key only, never a prompt. */
  gitSshCommand(key: string): string;
  /** `ssh://<user>@127.0.0.1:<port>/<app>.git` */
  remoteUrl(app: string): string;
  /** The ssh client's options for `key`: this port, no host key checks, that key only, never a prompt. */
  clientArgs(key: string): string[];
  /** Runs the real ssh client with `key` and extra arguments (e.g. `['true']`); never throws. */
  ssh(key: string, args: string[]): Promise<{ code: number; output: string }>;
  /** Everything sshd logged (-e: to its stderr). */
  log(): string;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<SshdInstance> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-sshd-'));
  const port = await freePort();
  const user = os.userInfo().username;
  const hostKey = path.join(dir, 'host_ed25519');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  // sshd's privilege separation directory is compiled in; Debian's service creates it at start.
  await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The temp dir is the test's; sshd's ownership checks of its parents are not under test.
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    `AllowUsers ${user}`,
    // Forwarding is allowed by the server: the key lines' `restrict` is what must stop it.
    'AllowTcpForwarding yes',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
  const configFile = path.join(dir, 'sshd_config');
  await fs.writeFile(configFile, config);
  const check = await run(SSHD, ['-t', '-f', configFile]);
  if (check.code !== 0) throw new Error(`sshd rejects its test config: ${check.output}`);

  let log = '';
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 10_000, () => log);

  const clientArgs = (key: string) => [
    '-i',
    key,
    '-p',
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
  ];
  // git splits GIT_SSH_COMMAND like a shell; temp paths hold no spaces.
  const gitSshCommand = (key: string) => ['ssh', ...clientArgs(key)].join(' ');
  return {
    port,
    user,
    authorizedKeys,
    async newKey(name) {
      const file = path.join(dir, `${name}_ed25519`);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', file]);
      return file;
    },
    gitSshCommand,
    remoteUrl: (app) => `ssh://${user}@127.0.0.1:${port}/${app}.git`,
    clientArgs,
    ssh: (key, args) => run('ssh', [...clientArgs(key), ...args]),
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
