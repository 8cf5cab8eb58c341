import type { Redis } from 'ioredis';
import { writeFileAtomic } from '../atomic-write';
import { closeTlsListener, DEFAULT_USER_OFF, hostAclRules, hostRedisUser, openTlsListener, revokeAclUser, setAclUser, slipwayAclRules } from '../queue/redis-acl';
import { connectEmbeddedRedis, embeddedRedisPasswordFile, readEmbeddedRedisPassword, SLIPWAY_REDIS_USER } from '../queue/redis-connection';
import { ensureClusterCertificates } from './cluster-ca';
import type { Host } from './host-store';
import { newHostSecret, secretSha256 } from './host-token';

/** Where the cluster's Redis listens for the hosts. */
export interface ClusterAddress {
  address: string;
  redisPort: number;
}

/**
 * The embedded Redis's password for slipway's own user, made once (mode 600, beside the socket):
 * its processes read it at each connect (see queue/redis-connection.ts).
 */
async function ensureSlipwayPassword(socketPath: string): Promise<string> {
  const existing = readEmbeddedRedisPassword(socketPath);
  if (existing !== undefined) return existing;
  const password = newHostSecret();
  await writeFileAtomic(embeddedRedisPasswordFile(socketPath), `${password}\n`, 0o600);
  return password;
}

/**
 * Makes the embedded Redis ready for hosts, idempotently (the server runs it on every start, since
 * Redis keeps ACL users in memory only; `hosts:add` runs it too). Once a host was ever added:
 * slipway's own user and password, one user per host, and the `default` user off (from then on
 * nobody connects without a user and password, on the socket as on the network). While hosts exist:
 * the cluster certificate and the TLS listener on the cluster address, opened last so no one reaches
 * Redis before its users are set. Never set up (no host ever added): nothing changes.
 */
export async function applyClusterRedis(home: string, socketPath: string, cluster: ClusterAddress | undefined, hosts: Host[]): Promise<void> {
  if (hosts.length === 0 && readEmbeddedRedisPassword(socketPath) === undefined) return;
  if (hosts.length > 0 && cluster === undefined) {
    throw new Error(`hosts are configured (${hosts.map((h) => h.name).join(', ')}) but SLIPWAY_CLUSTER_ADDRESS is not set: set it to the IP address the hosts reach this server at`);
  }
  const certificates = cluster && hosts.length > 0 ? await ensureClusterCertificates(home, cluster.address) : undefined;
  const password = await ensureSlipwayPassword(socketPath);
  // slipway's own user once it exists, else `default` (a fresh Redis has no users yet).
  const redis = await connectEmbeddedRedis(socketPath);
  try {
    await setAclUser(redis, slipwayAclRules(SLIPWAY_REDIS_USER, secretSha256(password)));
    await redis.call('AUTH', SLIPWAY_REDIS_USER, password);
    for (const host of hosts) await setAclUser(redis, hostAclRules(host.name, host.secretSha256));
    await setAclUser(redis, DEFAULT_USER_OFF);
    if (cluster && certificates) {
      await openTlsListener(redis, {
        address: cluster.address,
        port: cluster.redisPort,
        certChainFile: certificates.chainPath,
        keyFile: certificates.keyPath,
        caCertFile: certificates.caCertPath,
      });
    }
  } catch (err) {
    throw new Error(`cannot set up the embedded Redis for hosts (${socketPath}): ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

/**
 * Revokes host `name` in Redis: its user deleted and its connections closed (its token is refused
 * from then on). With no host left, the TLS listener closes; the ACL users stay (slipway's own
 * processes keep authenticating as `slipway`).
 */
export async function revokeHostRedis(redis: Redis, name: string, hostsLeft: number): Promise<void> {
  await revokeAclUser(redis, hostRedisUser(name));
  if (hostsLeft === 0) await closeTlsListener(redis);
}
