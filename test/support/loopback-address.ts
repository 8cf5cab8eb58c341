/**
 * A private IPv4 address on the loopback interface, for a test server that must not be on
 * 127.0.0.0/8: Docker Engines treat every 127.x registry as insecure (they skip TLS verification
 * there), so a registry test on 127.0.0.1 could not show that the Engine trusts the registry by its
 * CA. Traffic to an address on `lo` never leaves the machine.
 */
import { run } from './daemon-process';

export interface LoopbackAddress {
  address: string;
  /** Removes the address from `lo`. Safe to call twice. */
  remove(): Promise<void>;
}

/** Adds a random 10.216.x.y/32 (a range no other harness uses) to `lo`. */
export async function addLoopbackAddress(): Promise<LoopbackAddress> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const address = `10.216.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;
    const added = await run('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
    if (added.code !== 0) continue;
    let removed = false;
    return {
      address,
      async remove() {
        if (removed) return;
        removed = true;
        await run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
      },
    };
  }
  throw new Error('could not add an address to lo');
}
