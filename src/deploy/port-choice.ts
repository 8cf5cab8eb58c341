import net from 'node:net';

/**
 * Picks the first port in the range that no slipway container holds and nothing listens on.
 * `isFree` is asked in order, so the answer is deterministic for a given machine state.
 */
export async function choosePort(range: { first: number; last: number }, held: Set<number>, isFree: (port: number) => Promise<boolean>): Promise<number> {
  return (await choosePorts(range, held, isFree, 1))[0];
}

/**
 * Picks `count` free ports (as {@link choosePort} does, lowest first), or throws before anything
 * starts when the range has fewer: `count` containers need `count` ports.
 */
export async function choosePorts(range: { first: number; last: number }, held: Set<number>, isFree: (port: number) => Promise<boolean>, count: number): Promise<number[]> {
  const chosen: number[] = [];
  for (let port = range.first; port <= range.last && chosen.length < count; port++) {
    if (held.has(port)) continue;
    if (await isFree(port)) chosen.push(port);
  }
  if (chosen.length === count) return chosen;
  if (count === 1) throw new Error(`no free port in ${range.first}-${range.last}: every port is held by an app or in use`);
  throw new Error(`the port range ${range.first}-${range.last} has ${chosen.length} free port(s), and ${count} web containers need ${count}: widen SLIPWAY_PORT_RANGE or scale web down`);
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
