import type { Redis } from 'ioredis';

/**
 * Redis ACL users and Redis's TLS listener, as the embedded Redis gets them once a cluster has hosts
 * (see src/cluster/cluster-redis.ts). Builders of the commands are pure; the runners send them.
 * Passwords are given to Redis as their sha256 (`#<hex>`): Redis never holds them in clear.
 */

/** BullMQ's default key prefix: a queue `q` keeps its keys under `bull:q:`. */
const BULLMQ_PREFIX = 'bull';

/** The BullMQ queue of the host `name`: its agent consumes it. */
export function hostQueueName(name: string): string {
  return `slipway-host-${name}`;
}

/** Set by the server when it called off deploy `deployId`: the host's agent then skips that deploy's jobs it had not started. */
export function hostCalledOffKey(name: string, deployId: string): string {
  // Inside the host's queue keys: the host's Redis user may read it, and only that host's.
  return `${BULLMQ_PREFIX}:${hostQueueName(name)}:called-off:${deployId}`;
}

/** The hash where host `name`'s agent writes its heartbeat. */
export function hostHeartbeatKey(name: string): string {
  return `slipway:host:${name}`;
}

/** The Redis ACL user of host `name`. */
export function hostRedisUser(name: string): string {
  return `host-${name}`;
}

/**
 * `ACL SETUSER` arguments for host `name`: it may touch its own queue's keys and its heartbeat key,
 * nothing else, and no channel. Commands: everything but the dangerous category (no KEYS, FLUSHALL,
 * CONFIG, ACL, DEBUG, MONITOR...), plus the two BullMQ asks for at connect (INFO for Redis's version,
 * CLIENT SETNAME to name its connections). BullMQ's Lua scripts run with the user's key rights.
 */
export function hostAclRules(name: string, passwordSha256: string): string[] {
  return [
    hostRedisUser(name),
    'reset',
    'on',
    `#${passwordSha256}`,
    `~${BULLMQ_PREFIX}:${hostQueueName(name)}:*`,
    `~${hostHeartbeatKey(name)}`,
    'resetchannels',
    '+@all',
    '-@dangerous',
    '+info',
    '+client|setname',
    '+client|getname',
  ];
}

/** `ACL SETUSER` arguments for slipway's own server, worker and CLI: everything, as `default` had. */
export function slipwayAclRules(user: string, passwordSha256: string): string[] {
  return [user, 'reset', 'on', `#${passwordSha256}`, '~*', '&*', '+@all'];
}

/**
 * `ACL SETUSER` arguments that stop anyone from connecting without a user and password: `off`, and
 * `resetpass` to drop its `nopass` (while `default` is `nopass`, Redis's protected mode refuses every
 * client from another address, hosts included). Permissions are kept: connections already
 * authenticated as `default` (slipway's processes started before the first host) keep working until
 * they reconnect, which they then do as slipway's user.
 */
export const DEFAULT_USER_OFF = ['default', 'off', 'resetpass'];

/** Sets one ACL user (`rules` as built above). */
export async function setAclUser(redis: Redis, rules: string[]): Promise<void> {
  await redis.call('ACL', 'SETUSER', ...rules);
}

/**
 * Deletes the ACL user and closes its connections: Redis 7.0 leaves clients of a deleted user
 * connected, so they are killed by name. Safe to run twice.
 */
export async function revokeAclUser(redis: Redis, user: string): Promise<void> {
  await redis.call('ACL', 'DELUSER', user);
  await redis.call('CLIENT', 'KILL', 'USER', user).catch((err: Error) => {
    // "No such user" once it is gone: nothing left to close.
    if (!/No such user/i.test(err.message)) throw err;
  });
}

/** What Redis's TLS listener serves with. */
export interface TlsListener {
  address: string;
  port: number;
  /** The server certificate followed by the CA's: Redis sends the chain, so a host can check the CA's fingerprint. */
  certChainFile: string;
  keyFile: string;
  caCertFile: string;
}

/**
 * `CONFIG SET` arguments that open Redis's TLS listener on `address:port`. Clients are not asked for
 * certificates (`tls-auth-clients no`): they prove who they are with their ACL user and password.
 * The plain TCP port stays 0: the only network listener speaks TLS.
 */
export function tlsListenerConfig(listener: TlsListener): string[] {
  return [
    'tls-cert-file',
    listener.certChainFile,
    'tls-key-file',
    listener.keyFile,
    'tls-ca-cert-file',
    listener.caCertFile,
    'tls-auth-clients',
    'no',
    'bind',
    listener.address,
    'tls-port',
    String(listener.port),
  ];
}

/** Opens (or re-points) Redis's TLS listener. */
export async function openTlsListener(redis: Redis, listener: TlsListener): Promise<void> {
  await redis.call('CONFIG', 'SET', ...tlsListenerConfig(listener));
}

/** Closes Redis's TLS listener (no host left). */
export async function closeTlsListener(redis: Redis): Promise<void> {
  await redis.call('CONFIG', 'SET', 'tls-port', '0');
}
