import net from 'node:net';

/**
 * Picks the first port in the range that no slipway container holds and nothing listens on.
 * `isFree` is asked in order, so the answer is deterministic for a given machine state.
 */
export async function choosePort(range: { first: number; last: number }, held: Set<number>, isFree: (port: number) => Promise<boolean>): Promise<number> {
  for (let port = range.first; port <= range.last; port++) {
    if (held.has(port)) continue;
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${range.first}-${range.last}: every port is held by an app or in use`);
}

/**
 * True when nothing listens on `port` on any local address. Binding the IPv4 wildcard fails if a
 * process holds 0.0.0.0 or 127.0.0.1:port; binding loopback explicitly catches a listener on
 * 127.0.0.1 only when the wildcard bind was allowed by SO_REUSEADDR semantics.
 */
export async function isPortFree(port: number): Promise<boolean> {
  for (const host of ['0.0.0.0', '127.0.0.1', '::']) {
    if (!(await canBind(port, host))) return false;
  }
  return true;
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

let allocation: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` (choose a port, then create the container that holds it) with no other port
 * allocation of this process in between: two apps deploying at once would otherwise both see
 * the same port free, since a new container listens only after it has booted.
 */
export function withPortAllocation<T>(fn: () => Promise<T>): Promise<T> {
  const run = allocation.catch(() => undefined).then(fn);
  allocation = run;
  return run;
}
