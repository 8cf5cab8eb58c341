import { promises as fs } from 'node:fs';

const ESTABLISHED = '01';

/**
 * Counts ESTABLISHED TCP connections whose local port is `port`, from the text of
 * /proc/net/tcp or /proc/net/tcp6. App containers run with --net=host, so their server-side
 * sockets are in the host's table: this is how many connections the old version still serves.
 */
export function countEstablished(procNetTcp: string, port: number): number {
  let count = 0;
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const local = fields[1];
    const localPort = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (localPort === port && fields[3] === ESTABLISHED) count++;
  }
  return count;
}

/** Connections the process listening on `port` (on this host) is serving now. */
export async function establishedConnections(port: number): Promise<number> {
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    total += countEstablished(text, port);
  }
  return total;
}
