import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log';
import { ensureClusterCertificates } from '../cluster/cluster-ca';
import { applyClusterRedis, revokeHostRedis } from '../cluster/cluster-redis';
import { LOCAL_HOST } from '../cluster/host-name';
import { hostState, parseHostList } from '../cluster/host-status';
import { checkHostName, HostStore, hostsDir } from '../cluster/host-store';
import { formatHostToken, newHostSecret, secretSha256 } from '../cluster/host-token';
import { formatJoinLine } from '../cluster/join-line';
import { enqueueProbe, forgetHost, openHostQueue, readHeartbeat } from '../queue/host-queue';
import { SLIPWAY_VERSION } from '../version';
import { openCliContext, table } from './cli-context';
import { cliRemoveFromHosts } from './remove-from-hosts';
import { embeddedRedisSocket, withRedis } from './embedded-redis-access';

export function registerHostCommands(program: Command): void {
  program
    .command('hosts')
    .description('the hosts of the cluster (the server itself is `local`): state, slipway version, last contact, Docker and Apache versions')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = openCliContext();
      const hosts = await new HostStore(hostsDir(ctx.settings.home)).list();
      const now = Date.now();
      const rows = [
        { name: LOCAL_HOST, state: 'up', version: SLIPWAY_VERSION, lastContact: new Date(now).toISOString(), docker: undefined as string | undefined, apache: undefined as string | undefined },
      ];
      if (hosts.length > 0) {
        await withRedis(await embeddedRedisSocket(ctx), async (redis) => {
          for (const host of hosts) {
            const beat = await readHeartbeat(redis, host.name);
            rows.push({
              name: host.name,
              state: hostState(beat, now),
              version: beat.version ?? '',
              lastContact: beat.lastContact === undefined ? '' : new Date(beat.lastContact).toISOString(),
              docker: beat.docker,
              apache: beat.apache,
            });
          }
        });
      }
      ctx.print(
        opts.json
          ? JSON.stringify(rows, null, 2)
          : table(
              ['host', 'state', 'version', 'last contact', 'docker', 'apache'],
              rows.map((r) => [r.name, r.state, r.version, r.lastContact, r.docker ?? '', r.apache ?? '']),
            ),
      );
    });

  program
    .command('hosts:add <name>')
    .description('add a host: prints the one `slipway agent` command line that joins it (shown once: it carries the host token)')
    .addHelpText('after', '\nNeeds SLIPWAY_CLUSTER_ADDRESS (the IP the hosts reach this server at).\n\nExample:\n  slipway hosts:add h2')
    .action(async (rawName: string) => {
      const ctx = openCliContext();
      const name = checkHostName(rawName);
      const { address, redisPort } = ctx.settings.cluster;
      if (address === undefined) throw new Error('set SLIPWAY_CLUSTER_ADDRESS to the IP address the hosts reach this server at (for the server and for this command)');
      const socketPath = await embeddedRedisSocket(ctx);
      const store = new HostStore(hostsDir(ctx.settings.home));
      const secret = newHostSecret();
      await store.add({ name, added: new Date().toISOString(), secretSha256: secretSha256(secret) });
      try {
        await applyClusterRedis(ctx.settings.home, socketPath, { address, redisPort }, await store.list());
        await withRedis(socketPath, async (redis) => {
          const queue = openHostQueue(name, redis);
          await enqueueProbe(queue).finally(() => queue.close());
        });
      } catch (err) {
        // Nothing half-made: the host is not kept when Redis could not take it.
        await store.remove(name);
        throw err;
      }
      const { caFingerprint } = await ensureClusterCertificates(ctx.settings.home, address);
      await ctx.audit.append({ actor: cliActor(), action: 'hosts:add', outcome: 'ok', detail: name });
      ctx.print(
        `host "${name}" added. On that host, run (shown once: it carries the host's secret):\n\n    ${formatJoinLine({ address, port: redisPort, token: formatHostToken({ host: name, secret }), caFingerprint })}\n`,
      );
    });

  program
    .command('hosts:remove <name>')
    .description("remove a host: its token is refused from now on and its agent's connections are closed")
    .action(async (rawName: string) => {
      const ctx = openCliContext();
      const name = checkHostName(rawName);
      const store = new HostStore(hostsDir(ctx.settings.home));
      if (!(await store.read(name))) throw new Error(`no host named "${name}" (see \`slipway hosts\`)`);
      for (const app of await ctx.listApps()) {
        if ((await ctx.appConfigs.read(app)).hosts?.includes(name)) throw new Error(`app ${app} runs on ${name}: \`slipway hosts:set ${app} …\` without it first`);
      }
      const socketPath = await embeddedRedisSocket(ctx);
      const left = (await store.list()).filter((h) => h.name !== name).length;
      await withRedis(socketPath, async (redis) => {
        await revokeHostRedis(redis, name, left);
        await forgetHost(redis, name);
      });
      await store.remove(name);
      await ctx.audit.append({ actor: cliActor(), action: 'hosts:remove', outcome: 'ok', detail: name });
      ctx.print(`host "${name}" removed; its token is refused`);
    });

  program
    .command('hosts:set <app> <hosts>')
    .description('the hosts an app runs on, comma-separated (`local` is this server; the default is `local` alone); a host left out loses the app at once')
    .addHelpText(
      'after',
      '\nA host added gets the app at its next deploy (`slipway restart <app>` deploys the live release now).\nA host left out has the app removed at once (containers, images, Apache site); the others keep serving.\nLeaving some hosts and joining others at once is refused for a live app: add, deploy, then leave.\n\nExample:\n  slipway hosts:set myapp local,h2,h3',
    )
    .action(async (app: string, list: string) => {
      const ctx = openCliContext();
      await ctx.requireApp(app);
      const names = parseHostList(list);
      const known = new Set([LOCAL_HOST, ...(await new HostStore(hostsDir(ctx.settings.home)).list()).map((h) => h.name)]);
      const unknown = names.filter((n) => !known.has(n));
      if (unknown.length > 0) throw new Error(`no host named ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${[...known].join(', ')}); nothing changed`);
      const before = (await ctx.appConfigs.read(app)).hosts ?? [LOCAL_HOST];
      const added = names.filter((h) => !before.includes(h));
      const left = before.filter((h) => !names.includes(h));
      const live = await ctx.releases.live(app);
      // The hosts it leaves would stop serving before the new ones got the release.
      if (live && added.length > 0 && left.length > 0) {
        throw new Error(
          `${app} would leave ${left.join(', ')} and join ${added.join(', ')} at once, and the hosts it leaves would stop serving before the others have it: ` +
            `add first (\`slipway hosts:set ${app} ${[...before, ...added].join(',')}\`), deploy (\`slipway restart ${app}\`), then leave (\`slipway hosts:set ${app} ${names.join(',')}\`); nothing changed`,
        );
      }
      const save = async () => {
        await ctx.appConfigs.update(app, (config) => ({ ...config, hosts: names }));
        await ctx.audit.append({ actor: cliActor(), action: 'hosts:set', app, outcome: 'ok', detail: names.join(',') });
      };
      // The list is saved first (under the app's deploy lock when another host is reached), then the app leaves those hosts.
      const removed = await cliRemoveFromHosts(ctx, app, left, save);
      ctx.print(`${app} runs on ${names.join(', ')}`);
      if (live && added.length > 0)
        ctx.print(`${added.join(', ')} get${added.length === 1 ? 's' : ''} ${app} at its next deploy (\`slipway restart ${app}\` deploys release ${live.number} to every host now)`);
      for (const { line } of removed) ctx.print(line);
    });
}
