import { LOCAL_HOST } from '../cluster/host-name';
import { appHostStatus, type AppHostStatus } from '../cluster/app-host-status';
import { onSeveralHosts } from '../deploy/deploy-plan';
import type { ContainerInfo } from '../docker/docker-engine';
import type { CliContext } from './cli-context';
import { embeddedRedisSocket, withRedis } from './embedded-redis-access';

/** `slipway status`: each host of an app on several hosts, asked now; undefined for an app on this server alone. */
export async function cliAppHostStatus(ctx: CliContext, app: string, localContainers: ContainerInfo[]): Promise<AppHostStatus[] | undefined> {
  const hosts = (await ctx.appConfigs.read(app)).hosts ?? [LOCAL_HOST];
  if (!onSeveralHosts(hosts)) return undefined;
  return withRedis(await embeddedRedisSocket(ctx), (redis) => appHostStatus(redis, hosts, app, localContainers));
}
