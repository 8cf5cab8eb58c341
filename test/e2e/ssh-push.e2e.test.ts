/**
 * A failed deploy fails `git push` over ssh with a named key (issue 15), as over HTTP
 * (push-fails.e2e.test.ts): Debian's sshd on a private port, the real git client, the real stack.
 */
import { afterAll, beforeAll } from 'vitest';
import { describeFailedPushes } from '../support/failed-push-scenarios';
import { startSshStack, type SshStack } from '../support/ssh-stack';

let ssh: SshStack;

beforeAll(async () => {
  ssh = await startSshStack();
});

afterAll(async () => {
  await ssh?.stop();
});

describeFailedPushes(() => ({ name: 'ssh', stack: () => ssh.stack, remote: (app) => ssh.remote(ssh.alice, app), createApp: (app) => ssh.createApp(app) }));
