/** Speaks to slipway's hook socket directly, as a (possibly hostile) hook would. */
import net from 'node:net';

/**
 * Writes `request` (raw: any bytes) and collects the answer's messages, parsed, until the server
 * closes the connection, or, with `hangUpAfter`, hangs up as soon as that many have arrived.
 */
export function hookExchange(socketPath: string, request: string | Buffer, options: { hangUpAfter?: number } = {}): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let received = '';
    const messages = () =>
      received
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as unknown);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (options.hangUpAfter !== undefined && messages().length >= options.hangUpAfter) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(messages()));
    socket.write(request);
  });
}
