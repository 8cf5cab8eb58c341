/**
 * The real stack plus a private sshd whose AuthorizedKeysFile `slipway keys:add` writes, with one
 * key, alice, added through the real CLI: what the ssh e2e files push through.
 */
import { expect } from 'vitest';
import { startSshd, type SshdInstance } from './sshd-instance';
import { startTestStack, type TestStack } from './test-stack';

export interface SshStack {
  stack: TestStack;
  sshd: SshdInstance;
  /** alice's private key file (added as "alice"). */
  alice: string;
  /** The ssh remote of `app` and the GIT_SSH_COMMAND that pushes with `key`. */
  remote(key: string, app: string): { url: string; env: NodeJS.ProcessEnv };
  /** `slipway apps:create <app>`: ssh creates no apps. */
  createApp(app: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startSshStack(): Promise<SshStack> {
  const sshd = await startSshd();
  const stack = await startTestStack({ SLIPWAY_AUTHORIZED_KEYS: sshd.authorizedKeys });
  const alice = await sshd.newKey('alice');
  const added = await stack.slipway.cli(['keys:add', 'alice', `${alice}.pub`]);
  expect(added.output).toContain('key "alice" (ssh-ed25519 SHA256:');
  expect(added.code).toBe(0);
  return {
    stack,
    sshd,
    alice,
    remote: (key, app) => ({ url: sshd.remoteUrl(app), env: { GIT_SSH_COMMAND: sshd.gitSshCommand(key) } }),
    async createApp(app) {
      expect((await stack.slipway.cli(['apps:create', app])).code).toBe(0);
    },
    async stop() {
      await stack.stop();
      await sshd.stop();
    },
  };
}
