import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { choosePort, isPortFree, withPortAllocation } from '../../src/deploy/port-choice';

describe('port choice', () => {
  it('skips ports held by apps and ports in use', async () => {
    const busy = new Set([8081]);
    const port = await choosePort({ first: 8080, last: 8085 }, new Set([8080, 8082]), async (p) => !busy.has(p));
    expect(port).toBe(8083);
  });
  it('says so when the range is exhausted', async () => {
    await expect(choosePort({ first: 8080, last: 8081 }, new Set([8080]), async () => false)).rejects.toThrow(/no free port in 8080-8081/);
  });
  it('sees a real listener on loopback as busy', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(port)).toBe(false);
    } finally {
      server.close();
    }
    expect(await isPortFree(port)).toBe(true);
  });

  it("two deploys allocating at once get different ports (the second sees the first one's container)", async () => {
    const held = new Set<number>();
    const allocate = () =>
      withPortAllocation(async () => {
        const port = await choosePort({ first: 9000, last: 9010 }, new Set(held), async () => true);
        await new Promise((r) => setTimeout(r, 20)); // creating the container takes a while
        held.add(port);
        return port;
      });
    const ports = await Promise.all([allocate(), allocate(), allocate()]);
    expect(new Set(ports).size).toBe(3);
  });
});
