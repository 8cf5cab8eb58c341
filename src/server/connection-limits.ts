import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../logger';

/** How many connections the server holds open at once. */
export interface ConnectionCaps {
  /** In total (`SLIPWAY_MAX_CONNECTIONS`); more are dropped by Node itself. */
  max: number;
  /** From one TCP peer address (`SLIPWAY_MAX_CONNECTIONS_PER_ADDRESS`). */
  perAddress: number;
  /** Peers the per-address cap does not apply to: trusted proxies carry many clients on their connections. */
  exempt(address: string): boolean;
}

/**
 * Caps open connections, in total and per peer address, so one client holding many slow
 * connections can neither exhaust file descriptors nor crowd out everyone else. A connection over
 * a cap is closed at once, before any byte of it is read.
 */
export function limitConnections(server: http.Server, caps: ConnectionCaps, log: Logger): void {
  server.maxConnections = caps.max;
  server.on('drop', (data?: { remoteAddress?: string }) => log.debug({ remote: data?.remoteAddress, max: caps.max }, 'connection dropped: SLIPWAY_MAX_CONNECTIONS reached'));
  const open = new Map<string, number>();
  server.on('connection', (socket: net.Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    if (caps.exempt(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= caps.perAddress) {
      log.debug({ remote: address, max: caps.perAddress }, 'connection dropped: SLIPWAY_MAX_CONNECTIONS_PER_ADDRESS reached');
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
