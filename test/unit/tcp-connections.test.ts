import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { countEstablished, establishedConnections } from '../../src/deploy/tcp-connections';

const SAMPLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F91 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:D2F0 0100007F:1F91 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F91 0100007F:D2F2 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0000000000000000
`;

describe('established connections', () => {
  it('counts only ESTABLISHED sockets whose local port matches (not the listener, not the client side, not TIME_WAIT)', () => {
    expect(countEstablished(SAMPLE, 8081)).toBe(1);
    expect(countEstablished(SAMPLE, 54000)).toBe(1);
    expect(countEstablished(SAMPLE, 9999)).toBe(0);
  });
  it('sees a real open connection, and no more once it closes', async () => {
    const server = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    await new Promise((r) => setTimeout(r, 50));
    expect(await establishedConnections(port)).toBe(1);
    client.destroy();
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(await establishedConnections(port)).toBe(0);
  });
});
