import { promises as fs } from 'node:fs';
import type http from 'node:http';
import type { Worker } from 'bullmq';
import Docker from 'dockerode';
import type { Redis } from 'ioredis';
import { watchEngineRestarts } from './docker/engine-restarts';
import { createDashboard, type Dashboard } from './dashboard/dashboard';
import { createAppControlDeps } from './apps/app-control-deps';
import { dashboardDeps } from './dashboard/dashboard-deps';
import { applyRepoConfig, listAppNames } from './git/bare-repo';
import { hookSocketPath } from './push/hook-protocol';
import { handlePush, startPush } from './push/push-handler';
import { createLogger, type Logger } from './logger';
import { migrateHome } from './state/migrate-home';
import { MOVE_PORT_MAPS, movePortMaps } from './state/migrations/move-port-maps';
import { startEmbeddedRedis, type EmbeddedRedis } from './queue/embedded-redis';
import { applyClusterRedis } from './cluster/cluster-redis';
import { HostStore, hostsDir } from './cluster/host-store';
import { createHostAccess } from './cluster/host-access';
import { appHostStatus } from './cluster/app-host-status';
import { LOCAL_HOST } from './cluster/host-name';
import { onSeveralHosts } from './deploy/deploy-plan';
import { stopImageRegistry } from './cluster/image-registry';
import { openDeployQueue, type DeployQueue } from './queue/deploy-queue';
import { connectRedis } from './queue/redis-connection';
import { readRuntimeInfo, writeRuntimeInfo } from './runtime-file';
import { createGitHttpServer } from './server/git-http-server';
import { AppConfigStore } from './apps/app-config-store';
import { createDockerEngine } from './docker/docker-engine';
import { AuthFailures, AuthRateLimit } from './auth/auth-rate-limit';
import { trustedProxyList } from './client-address';
import { loadOrCreateToken } from './auth/push-token';
import { apacheMapsDir, apacheSitesFromSettings } from './apache/apache-sites';
import { certificateLine, readAppCertificates } from './tls/app-certificates';
import { startHookSocketServer, type HookSocketServer } from './server/hook-socket-server';
import { PushRegistry } from './push/push-registry';
import { TokenStore } from './auth/token-store';
import { homePaths, repoPath, type Settings } from './settings';
import { certificateWatcherDeps, createDeployDeps, hostConvergenceDeps, reconcileDeps } from './worker/deploy-deps';
import { startHostConvergence } from './worker/host-convergence';
import { startCertificateWatcher, CERTIFICATE_CHECK_INTERVAL_MS } from './tls/certificate-watcher';
import { reconcile } from './worker/reconcile';
import { startDeployWorker } from './worker/deploy-worker';

/** How often the worker looks for hosts to bring to an app's live release (a host's heartbeat says `down` after 15 s). */
const HOST_CONVERGENCE_INTERVAL_MS = 10_000;

/**
 * Brings SLIPWAY_HOME's state files to this slipway's formats. A damaged file is logged and left
 * as it is (its app is refused, the others run); a file from a newer slipway stops the start.
 */
async function migrateState(settings: Settings, log: Logger): Promise<void> {
  const { migrated, problems } = await migrateHome(settings.home);
  for (const m of migrated) log.info({ file: m.file, from: m.from, to: m.to, steps: m.steps }, `state: migrated ${m.file} from format ${m.from} to ${m.to}`);
  const newer = problems.filter((p) => p.problem === 'newer');
  if (newer.length > 0) throw new Error(newer.map((p) => p.message).join('\n'));
  for (const p of problems) log.error({ file: p.source }, `state: ${p.message}`);
  for (const file of await movePortMaps(homePaths(settings.home).apacheMaps, apacheMapsDir(settings.apacheSites))) {
    log.info({ file, step: MOVE_PORT_MAPS.name }, `state: ${MOVE_PORT_MAPS.name}: moved ${file} beside ${settings.apacheSites} (a symlink stays in its place)`);
  }
}

/** Which halves one process runs: `up` = both, or `server` / `worker` alone (pm2 runs them apart). */
export type Role = 'up' | 'server' | 'worker';

/**
 * Starts slipway: prepares SLIPWAY_HOME, the queue's Redis (embedded unless REDIS_URL is set), the
 * git server and/or the worker. Returns a stop function that lets a running deploy finish.
 */
export async function startSlipway(settings: Settings, role: Role, log: Logger = createLogger(`slipway-${role}`)): Promise<{ stop(): Promise<void>; server?: http.Server }> {
  const paths = homePaths(settings.home);
  // The home is traversable (0711) so Apache's children can read the port maps under it; the
  // maps directory is readable, everything else (repos, token, Redis) is private.
  await fs.mkdir(settings.home, { recursive: true });
  await fs.chmod(settings.home, 0o711);
  await fs.mkdir(paths.repos, { recursive: true, mode: 0o700 });
  await fs.mkdir(paths.apacheMaps, { recursive: true, mode: 0o755 });
  // The server half migrates (a separate worker reads older formats in memory, and two processes
  // must not migrate the same file at once).
  if (role !== 'worker') await migrateState(settings, log);

  let embedded: EmbeddedRedis | undefined;
  let redisTarget = settings.redisUrl;
  if (redisTarget === undefined) {
    if (role === 'worker') {
      // The server half owns the embedded Redis; the worker finds it through runtime.json.
      redisTarget = (await readRuntimeInfo(paths.runtimeFile))?.redis;
      if (!redisTarget) throw new Error('no REDIS_URL and no running `slipway server` to share its Redis: start the server first');
    } else {
      embedded = await startEmbeddedRedis(paths.redis);
      redisTarget = embedded.socketPath;
      // Redis keeps ACL users in memory only: a restarted Redis gets its hosts' users (and its TLS listener) again.
      const cluster = settings.cluster.address === undefined ? undefined : { address: settings.cluster.address, redisPort: settings.cluster.redisPort };
      await applyClusterRedis(settings.home, embedded.socketPath, cluster, await new HostStore(hostsDir(settings.home)).list());
    }
  }
  if (role !== 'worker') await writeRuntimeInfo(paths.runtimeFile, { redis: redisTarget, queueName: settings.queueName });

  const connections: Redis[] = [];
  let server: http.Server | undefined;
  let worker: Worker | undefined;
  let certificateWatcher: { stop(): Promise<void> } | undefined;
  let hostConvergence: { stop(): Promise<void> } | undefined;
  let convergenceQueue: DeployQueue | undefined;
  let hookServer: HookSocketServer | undefined;
  let dashboard: Dashboard | undefined;
  let serverQueue: DeployQueue | undefined;
  let stopEngineWatch: (() => void) | undefined;

  if (role !== 'worker') {
    const { token, created } = await loadOrCreateToken(paths.tokenFile, settings.token);
    if (created) {
      process.stdout.write(
        `\nslipway: generated the push token (kept in ${paths.tokenFile}):\n\n    ${token}\n\n` +
          `add the remote with: git remote add production http://git:${token}@<this-host>:${settings.port}/<app>.git\n\n`,
      );
    }
    for (const app of await listAppNames(paths.repos)) await applyRepoConfig(repoPath(settings.home, app));
    // The dashboard (served on the same port, behind the same token) and the pushes handed over by
    // the post-receive hooks read and enqueue through the server's one queue handle.
    const queueConnection = connectRedis(redisTarget, { maxRetriesPerRequest: 3 });
    connections.push(queueConnection);
    const queue = openDeployQueue(settings.queueName, queueConnection);
    serverQueue = queue;
    const pushes = new PushRegistry();
    // Listens before the git server does, so the hook of the very first push finds it.
    const pushDeps = { home: settings.home, queue, pushes };
    hookServer = await startHookSocketServer(hookSocketPath(settings.home), (request, say, signal) => handlePush(pushDeps, request, say, signal), log, pushes);
    // One failed-login limit per client address for the git remote and the dashboard together.
    const authFailures = new AuthFailures(new AuthRateLimit(settings.authFailures.max, settings.authFailures.windowMs), log);
    const sites = apacheSitesFromSettings(settings);
    const certificate = async (app: string) => {
      const [found] = await readAppCertificates(sites, settings.apacheHttpPort, app);
      return found ? certificateLine(found.certificate) : undefined;
    };
    // An app on several hosts: its page asks each host's agent what runs there (as `slipway status` does).
    const appConfigs = new AppConfigStore(paths.apps);
    const hostsLine = async (app: string) => {
      const hosts = (await appConfigs.read(app)).hosts ?? [LOCAL_HOST];
      if (!onSeveralHosts(hosts)) return undefined;
      return appHostStatus(queueConnection, hosts, app, await createDockerEngine().listSlipwayContainers());
    };
    dashboard = createDashboard({ ...dashboardDeps(settings.home, token, queue, createAppControlDeps(settings, queueConnection, settings.queueName), certificate), hosts: hostsLine }, authFailures);
    server = createGitHttpServer({
      home: settings.home,
      tokens: new TokenStore(paths.namedTokens, token),
      authFailures,
      trustedProxies: trustedProxyList(settings.trustedProxies),
      appConfigs,
      pushes,
      startPush: (push) => startPush(pushDeps, { ...push, pushOptions: [] }),
      limits: settings.limits,
      log,
      web: dashboard,
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(settings.port, settings.host, () => resolve());
    });
    log.info({ port: settings.port, host: settings.host, home: settings.home, hookSocket: hookSocketPath(settings.home) }, 'git server listening');
  }
  if (role !== 'server') {
    const connection = connectRedis(redisTarget);
    connections.push(connection);
    const { address } = settings.cluster;
    // Apps on several hosts reach them through their agents' queues on this Redis (cluster/host-access.ts).
    const hosts =
      address === undefined
        ? undefined
        : createHostAccess({
            redis: connection,
            home: settings.home,
            address,
            registryPort: settings.cluster.registryPort,
            server: { cli: settings.dockerCli ?? 'docker', dockerHost: process.env.DOCKER_HOST, parentEnv: process.env },
            transport: settings.imageTransport,
          });
    const deps = { ...createDeployDeps(settings, log), hosts };
    const target = redisTarget;
    const reconcileNow = async () => {
      const reconcileConnection = connectRedis(target);
      const queue = openDeployQueue(settings.queueName, reconcileConnection);
      try {
        for (const action of await reconcile(reconcileDeps(settings, deps, queue))) log.warn({ action }, `reconcile: ${action}`);
      } finally {
        await queue.close();
        reconcileConnection.disconnect();
      }
    };
    // Before taking jobs: repair what a crash mid-deploy left behind (see worker/reconcile.ts).
    await reconcileNow();
    worker = startDeployWorker(settings, connection, deps, log);
    // Next to the deploys: it reloads Apache for mod_md's new certificates only between them.
    certificateWatcher = startCertificateWatcher(certificateWatcherDeps(settings, deps, connection, log), CERTIFICATE_CHECK_INTERVAL_MS);
    // Apps on several hosts: a host left out of a release while it did not answer gets it once it is back.
    if (hosts) {
      convergenceQueue = openDeployQueue(settings.queueName, connection);
      hostConvergence = startHostConvergence(hostConvergenceDeps(settings, deps, convergenceQueue, connection, log), HOST_CONVERGENCE_INTERVAL_MS);
    }
    log.info({ queue: settings.queueName, concurrency: settings.workerConcurrency }, 'deploy worker started');
    // A restart of the Docker Engine without live-restore stops every container: once it answers
    // again, reconcile starts them again and tidies what a deploy under way left.
    stopEngineWatch = watchEngineRestarts(new Docker(), {
      lost: (reason) => log.warn({ reason }, 'the Docker Engine stopped answering; waiting for it'),
      back: () => {
        log.warn('the Docker Engine answers again: reconciling');
        return reconcileNow().catch((err: Error) => log.error({ err }, 'reconcile after a Docker restart failed'));
      },
    });
  }

  return {
    server,
    async stop() {
      dashboard?.close();
      if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
      // Only after the git server: the HTTP pushes it lets finish still run their hooks through this socket.
      await hookServer?.close();
      stopEngineWatch?.();
      // close() waits for the running deploys to finish: a deploy is never cut in half by a restart.
      await certificateWatcher?.stop();
      await hostConvergence?.stop();
      await convergenceQueue?.close();
      if (worker) await worker.close();
      await serverQueue?.close();
      for (const c of connections) c.disconnect();
      // Only `up` owns the whole lifecycle. A `server` stopping next to a separate worker (pm2 stops
      // both at once) leaves Redis running: the worker may still be finishing a deploy on it, and the
      // next `slipway server` start reuses it.
      if (embedded && role === 'up') await embedded.stop();
      // The image registry the deploys to other hosts started, likewise.
      if (role === 'up' && settings.cluster.address !== undefined) await stopImageRegistry(settings.home);
    },
  };
}
