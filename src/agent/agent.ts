import { Worker } from 'bullmq';
import Docker from 'dockerode';
import type { Logger } from '../logger';
import { HEARTBEAT_INTERVAL_MS } from '../cluster/host-status';
import type { HostToken } from '../cluster/host-token';
import { writeHeartbeat, type HostJobData, type ProbeResult } from '../queue/host-queue';
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
  /** This host's apachectl (SLIPWAY_APACHECTL); Docker is found through DOCKER_HOST as always. */
  apachectl: string[];
  log: Logger;
}

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
  const docker = new Docker();
  const heartbeat = (extra: Partial<ProbeResult> = {}) => writeHeartbeat(connection, token.host, { version: SLIPWAY_VERSION, lastContact: Date.now(), ...extra });
  await heartbeat();
  const worker = new Worker<HostJobData, ProbeResult>(
    hostQueueName(token.host),
    async (job) => {
      // The only job kind so far; the deploy's prepare and commit come next.
      const result = await probeHost(docker, options.apachectl);
      await heartbeat(result);
      log.info({ job: job.id, ...result }, 'probe');
      return result;
    },
    { connection },
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
      await worker.close(true).catch(() => undefined);
      connection.disconnect();
    },
  };
}
