/**
 * A failed deploy fails `git push` over smart HTTP (issue 15): the real git client against a real
 * slipway, Redis, Docker Engine and Apache.
 */
import { afterAll, beforeAll } from 'vitest';
import { describeFailedPushes } from '../support/failed-push-scenarios';
import { startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({});
});

afterAll(async () => {
  await stack?.stop();
});

describeFailedPushes(() => ({
  name: 'http',
  stack: () => stack,
  remote: (app) => ({ url: stack.slipway.remoteUrl(app) }),
  // The first push over HTTP creates the app.
  createApp: async () => undefined,
}));
