/**
 * A free TCP port on the loopback interface, for private test servers.
 */
import { createServer } from 'node:net';

/**
 * Asks the kernel for a free port by listening on `127.0.0.1:0`, reads the port it chose and closes
 * the listener again.
 *
 * The port is free at the moment this resolves; another process could still take it before the
 * caller binds it, which is rare enough for tests.
 *
 * @returns the port number (1024-65535)
 */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listener has no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
