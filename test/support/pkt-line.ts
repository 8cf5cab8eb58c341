/** git pkt-lines for tests of what slipway reads out of a receive-pack exchange. */

/** One pkt-line: 4 hex digits of length (its own 4 included), then the payload. */
export function pkt(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}

/** The flush-pkt. */
export const FLUSH = Buffer.from('0000');

/** One side-band packet: band 1 data, 2 progress, 3 error. */
export function band(n: 1 | 2 | 3, data: Buffer): Buffer {
  return pkt(Buffer.concat([Buffer.from([n]), data]));
}
