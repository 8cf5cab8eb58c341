/**
 * The real stack an e2e test file runs against: a private Apache, a private Redis and a slipway
 * process wired to both, plus the test apps it creates. `stop()` removes all of it (containers
 * and images of the apps included).
 */
import { startApache, type ApacheInstance } from './apache-instance';
import { startRedis, type RedisInstance } from './redis-instance';
import { removeAppArtifacts, startSlipway, type SlipwayInstance } from './slipway-instance';
import { createAppWorktree, type AppWorktree } from './test-app';

export interface TestStack {
  apache: ApacheInstance;
  redis: RedisInstance;
  slipway: SlipwayInstance;
  /** A new app work tree, cleaned up (with its containers and images) by `stop()`. */
  newApp(): Promise<AppWorktree>;
  stop(): Promise<void>;
}

/**
 * Starts Apache (with HTTPS if `tls`), Redis and slipway (`env`, or a function of the Apache, goes to
 * slipway; `home`: an empty directory for SLIPWAY_HOME instead of a fresh temp one).
 */
export async function startTestStack(env: Record<string, string> | ((apache: ApacheInstance) => Record<string, string>) = {}, options: { tls?: boolean; home?: string } = {}): Promise<TestStack> {
  const apache = await startApache({ tls: options.tls });
  const redis = await startRedis();
  const slipway = await startSlipway({ apache, redis: redis.socketPath, env: typeof env === 'function' ? env(apache) : env, home: options.home });
  const apps: AppWorktree[] = [];
  return {
    apache,
    redis,
    slipway,
    async newApp() {
      const app = await createAppWorktree();
      apps.push(app);
      return app;
    },
    async stop() {
      await slipway.stop();
      for (const app of apps) {
        await removeAppArtifacts(app.name);
        await app.remove();
      }
      await apache.stop();
      await redis.stop();
    },
  };
}
