import { removeFromHosts, type HostRemoval } from '../apps/app-control';
import { machineControlDeps } from '../apps/app-control-deps';
import { LOCAL_HOST } from '../cluster/host-name';
import type { CliContext } from './cli-context';

/**
 * Takes `app` off `hosts` (containers, images, Apache files), saying what it did per host. This server alone
 * needs no running slipway; another host is reached through the running slipway's Redis, holding
 * the app's deploy lock (a deploy of the app under way makes it refuse), and `first` runs under
 * that lock too, before anything is removed.
 */
export async function cliRemoveFromHosts(ctx: CliContext, app: string, hosts: string[], first: () => Promise<void> = async () => undefined): Promise<HostRemoval[]> {
  const otherApps = (await ctx.listApps()).filter((a) => a !== app);
  if (hosts.every((h) => h === LOCAL_HOST)) {
    await first();
    return removeFromHosts(machineControlDeps(ctx.settings), undefined, app, hosts, otherApps);
  }
  return ctx.withAppControl((deps) =>
    deps.withAppLock(app, async () => {
      await first();
      return removeFromHosts(deps, deps.hosts, app, hosts, otherApps);
    }),
  );
}
