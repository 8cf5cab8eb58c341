import type { HostHeartbeat } from '../queue/host-queue';

/** An agent heartbeats this often; `slipway hosts` calls a host `down` after three missed beats. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
const DOWN_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** `up` (heard from lately), `down` (not lately), `new` (its agent never connected). */
export type HostState = 'up' | 'down' | 'new';

export function hostState(heartbeat: HostHeartbeat, now: number): HostState {
  if (heartbeat.lastContact === undefined) return 'new';
  return now - heartbeat.lastContact <= DOWN_AFTER_MS ? 'up' : 'down';
}

/** Parses `local,h2,h3` into names, in order, without repeats; throws on an empty list. */
export function parseHostList(text: string): string[] {
  const names = [...new Set(text.split(',').map((n) => n.trim()))];
  if (names.some((n) => n === '')) throw new Error(`expected host names separated by commas (like local,h2), got "${text}"`);
  return names;
}
