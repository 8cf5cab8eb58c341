import { Worker, type Job } from 'bullmq';
import Docker from 'dockerode';
import type { Logger } from '../logger';
import { HEARTBEAT_INTERVAL_MS } from '../cluster/host-status';
import type { HostToken } from '../cluster/host-token';
import { isDeployCalledOff, writeHeartbeat, type HostJobData, type ProbeResult } from '../queue/host-queue';
import { inspectWeb, runHostPhase } from '../deploy/host-phase';
import { runHostControl, type HostControlRequest, type MaintenanceOutcome, type RemoveOutcome, type StopOutcome } from '../apps/machine-control';
import type { HostPhaseRequest, HostPhaseResult, HostWebContainer } from '../deploy/host-phase-request';
import { deployConfig, machineDeps } from '../deploy/machine-deps';
import { localHttpAddress, type Settings } from '../settings';
import { serveMaintenancePages } from '../apps/maintenance-page';
import { agentDeployDeps } from './agent-deps';
import { registryImageFetcher } from './image-fetcher';
import { hostQueueName, hostRedisUser } from '../queue/redis-acl';
import { connectRedis } from '../queue/redis-connection';
import { SLIPWAY_VERSION } from '../version';
import { probeHost } from './probe';
import { fetchServerCa } from './server-ca';

/** What `slipway agent` is started with: the join line's parts and this host's own machine settings. */
export interface AgentOptions {
  server: { address: string; port: number };
  token: HostToken;
  caFingerprint: string;
  /** This host's own settings (DOCKER_HOST, SLIPWAY_HOME, SLIPWAY_APACHECTL, SLIPWAY_APACHE_SITES, …). */
  settings: Settings;
  log: Logger;
}

/** Phases that belong to a deploy still under way: skipped when the server called that deploy off before the agent took them. */
const CALLED_OFF_SKIPS = new Set(['prepare', 'commit', 'finish']);

/** True when Redis refused the host's user and password (a removed host, a mistyped token). */
function refused(err: Error): boolean {
  return /WRONGPASS|NOAUTH|invalid username-password/i.test(err.message);
}

/**
 * Runs a host's agent: checks the server by its CA fingerprint, connects to its Redis over TLS as
 * the host's ACL user, consumes the host's queue and heartbeats. Resolves with a stop function;
 * `stopped` settles when the agent ends on its own (the server refused its token).
 */
export async function startAgent(options: AgentOptions): Promise<{ stop(): Promise<void>; stopped: Promise<Error> }> {
  const { server, token, log } = options;
  const ca = await fetchServerCa(server.address, server.port, options.caFingerprint);
  const host = server.address.includes(':') ? `[${server.address}]` : server.address;
  const url = `rediss://${encodeURIComponent(hostRedisUser(token.host))}:${encodeURIComponent(token.secret)}@${host}:${server.port}`;
  const connection = connectRedis(url, { tls: { ca }, lazyConnect: true });
  // A refused AUTH closes the connection: connect() then only says "Connection is closed", the
  // reason comes as an error event.
  let lastError: Error | undefined;
  connection.on('error', (err: Error) => (lastError = err));
  try {
    await connection.connect();
    await connection.ping();
  } catch (err) {
    connection.disconnect();
    const reason = lastError ?? (err as Error);
    if (refused(reason)) throw new Error(`the server refused host "${token.host}"'s token (removed with \`slipway hosts:remove\`, or mistyped)`);
    throw new Error(`cannot connect to the server's Redis at ${server.address}:${server.port}: ${reason.message}`);
  }
  // The host's Apache proxies an app in maintenance (or stopped) to this host's own page server.
  const pages = await serveMaintenancePages(options.settings.home, localHttpAddress(options.settings), options.settings.port).catch((err: Error) => {
    connection.disconnect();
    throw err;
  });
  const docker = new Docker();
  const heartbeat = (extra: Partial<ProbeResult> = {}) => writeHeartbeat(connection, token.host, { version: SLIPWAY_VERSION, lastContact: Date.now(), ...extra });
  await heartbeat();
  const machine = machineDeps(options.settings, log);
  const config = deployConfig(options.settings);
  const fetcher = registryImageFetcher(options.settings);
  const runPhase = async (job: Job<HostJobData<HostPhaseRequest, HostControlRequest>>, request: HostPhaseRequest, startBy: number | undefined): Promise<HostPhaseResult> => {
    if (CALLED_OFF_SKIPS.has(request.phase)) {
      // After the agent died and came back, BullMQ hands its unfinished job over again: the deploy has moved on since.
      if ((startBy !== undefined && Date.now() > startBy) || (await isDeployCalledOff(connection, token.host, request.deployId))) {
        throw new Error(`the server called this deploy off before this host took its ${request.phase}`);
      }
    }
    // job.log is a Redis round trip; chaining keeps the lines in order.
    let logged: Promise<unknown> = Promise.resolve();
    const say = (line: string) => {
      logged = logged.then(() => job.log(line)).catch((err: Error) => log.warn({ err: err.message }, 'could not log a line'));
    };
    log.info({ job: job.id, phase: request.phase, app: request.job.app, sha: request.job.sha }, 'phase started');
    try {
      return await runHostPhase(request, agentDeployDeps(machine, request), config, say, fetcher);
    } finally {
      await logged;
    }
  };
  const worker = new Worker<HostJobData<HostPhaseRequest, HostControlRequest>, ProbeResult | HostPhaseResult | HostWebContainer[] | MaintenanceOutcome | StopOutcome | RemoveOutcome>(
    hostQueueName(token.host),
    async (job) => {
      if (job.data.kind === 'phase') return runPhase(job, job.data.request, job.data.startBy);
      if (job.data.kind === 'inspect') return inspectWeb(machine.docker, job.data.app);
      if (job.data.kind === 'control') {
        log.info({ job: job.id, app: job.data.request.app, action: job.data.request.action }, 'control');
        return runHostControl({ ...machine, stopGraceSeconds: options.settings.stopGraceSeconds }, job.data.request);
      }
      const result = await probeHost(docker, options.settings.apachectl);
      await heartbeat(result);
      log.info({ job: job.id, ...result }, 'probe');
      return result;
    },
    // Phases of different apps run side by side; one app's phases come one at a time from its deploy.
    { connection, concurrency: 8 },
  );
  let end: (err: Error) => void = () => undefined;
  const stopped = new Promise<Error>((resolve) => (end = resolve));
  const timer = setInterval(() => {
    heartbeat().catch((err: Error) => {
      log.warn({ err: err.message }, 'heartbeat failed');
      if (refused(err)) end(new Error(`the server refused host "${token.host}"'s token: it was removed (\`slipway hosts:remove\`)`));
    });
  }, HEARTBEAT_INTERVAL_MS);
  connection.on('error', (err: Error) => {
    if (refused(err)) end(new Error(`the server refused host "${token.host}"'s token: it was removed (\`slipway hosts:remove\`)`));
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'agent worker'));
  log.info({ host: token.host, server: `${server.address}:${server.port}`, queue: hostQueueName(token.host) }, 'agent connected');
  return {
    stopped,
    async stop() {
      clearInterval(timer);
      pages.close();
      await worker.close(true).catch(() => undefined);
      connection.disconnect();
    },
  };
}
