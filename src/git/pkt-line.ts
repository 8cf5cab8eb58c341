/**
 * git's pkt-line framing, as receive-pack speaks it: 4 hex digits of length (its own 4 included),
 * then the payload; `0000` is a flush. With side-band, each packet's first payload byte names its
 * band: 1 data (here: the report-status, itself pkt-lines), 2 progress (`remote:` lines), 3 error.
 */

/** One packet as read, with the bytes it came as (passed on unchanged when nothing is rewritten). */
export type Packet = { kind: 'flush'; raw: Buffer } | { kind: 'data'; payload: Buffer; raw: Buffer };

/** The most a splitter keeps while waiting for the end of a packet (a pkt-line is at most 65520 bytes). */
const MAX_PENDING_BYTES = 1024 * 1024;
/** git's LARGE_PACKET_MAX: the longest pkt-line, its 4 length digits included. */
const LARGE_PACKET_MAX = 65520;

/** Cuts a byte stream into pkt-lines, across chunk boundaries. */
export class PktLineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /**
   * @param stopAtFlush stop after the first flush and keep what follows unread (the pack after a
   *   push's commands is no pkt-lines)
   */
  constructor(private readonly stopAtFlush = false) {}

  /** The complete packets in `chunk` (plus what was left over); undefined when the bytes are no pkt-lines. */
  take(chunk: Buffer): Packet[] | undefined {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const packets: Packet[] = [];
    while (this.pending.length >= 4) {
      const head = this.pending.toString('latin1', 0, 4);
      if (!/^[0-9a-f]{4}$/.test(head)) return undefined;
      const length = parseInt(head, 16);
      if (length === 0) {
        packets.push({ kind: 'flush', raw: this.pending.subarray(0, 4) });
        this.pending = this.pending.subarray(4);
        if (this.stopAtFlush) return packets;
        continue;
      }
      // 0001-0003 are protocol v2 delimiters, never part of a push's commands or report.
      if (length < 4) return undefined;
      if (this.pending.length < length) break;
      packets.push({ kind: 'data', payload: this.pending.subarray(4, length), raw: this.pending.subarray(0, length) });
      this.pending = this.pending.subarray(length);
    }
    return this.pending.length > MAX_PENDING_BYTES ? undefined : packets;
  }

  /** The bytes taken but not yet returned as packets (the start of one, or what is no pkt-line); they are forgotten here. */
  rest(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }
}

/** One pkt-line carrying `payload`. */
export function encodePktLine(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (body.length + 4 > LARGE_PACKET_MAX) throw new Error(`a pkt-line holds at most ${LARGE_PACKET_MAX - 4} bytes`);
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'latin1'), body]);
}

/** The flush-pkt. */
export const FLUSH_PKT = Buffer.from('0000', 'latin1');

/** `data` as side-band packets of `band`, cut to the largest packet git accepts. */
export function encodeSideband(band: 1 | 2 | 3, data: Buffer): Buffer {
  const room = LARGE_PACKET_MAX - 5;
  const packets: Buffer[] = [];
  for (let at = 0; at < data.length; at += room) packets.push(encodePktLine(Buffer.concat([Buffer.from([band]), data.subarray(at, at + room)])));
  return Buffer.concat(packets);
}
