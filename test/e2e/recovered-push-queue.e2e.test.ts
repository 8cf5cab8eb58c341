import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { RECOVERED_PUSH_NOTE, type DeployJobData } from '../../src/queue/deploy-job';
import { enqueueDeploy, openDeployQueue, type DeployQueue } from '../../src/queue/deploy-queue';
import { startRedis, type RedisInstance } from '../support/redis-instance';

/**
 * A push landing while slipway starts is queued by its own hook and by reconcile (which saw the
 * ref move with no job yet), in either order. On a real Redis, with no worker: one job stays, the push's own.
 */
describe('a push queued by its hook and by reconcile at once', () => {
  let redis: RedisInstance;
  let connection: Redis;
  let queue: DeployQueue;
  const sha = randomBytes(20).toString('hex');
  const push: DeployJobData = { app: 'shop', sha, ref: 'refs/heads/main', kind: 'push', pushedBy: 'deployer', pushedAt: new Date().toISOString() };
  const recovered: DeployJobData = { ...push, pushedBy: 'slipway', note: RECOVERED_PUSH_NOTE };
  const queued = async () => (await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active'])).map((j) => ({ app: j.data.app, sha: j.data.sha, pushedBy: j.data.pushedBy }));

  beforeAll(async () => {
    redis = await startRedis();
    connection = new Redis({ path: redis.socketPath, maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await queue?.close();
    connection?.disconnect();
    await redis?.stop();
  });

  it.each([
    ['reconcile first, then the hook', [recovered, push]],
    ['the hook first, then reconcile', [push, recovered]],
  ])('%s: only the push of its own stays queued', async (_order, adds) => {
    queue = openDeployQueue(`recovered-${randomBytes(4).toString('hex')}`, connection);
    for (const data of adds) await enqueueDeploy(queue, data);
    expect(await queued()).toEqual([{ app: 'shop', sha, pushedBy: 'deployer' }]);
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it("reconcile's job stays when no push of that commit is queued (another app's or another commit's push does not count)", async () => {
    queue = openDeployQueue(`recovered-${randomBytes(4).toString('hex')}`, connection);
    const otherSha = randomBytes(20).toString('hex');
    await enqueueDeploy(queue, recovered);
    await enqueueDeploy(queue, { ...push, sha: otherSha });
    await enqueueDeploy(queue, { ...push, app: 'blog' });
    await enqueueDeploy(queue, { ...push, kind: 'rollback' });
    const left = await queued();
    expect(left).toHaveLength(4);
    expect(left).toContainEqual({ app: 'shop', sha, pushedBy: 'slipway' });
    await queue.obliterate({ force: true });
  });
});
