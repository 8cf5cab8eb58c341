/**
 * Reads git's receive-pack exchange as it passes through the HTTP server, without changing a
 * byte of it: the command list at the start of the request (`<old> <new> <ref>` per ref, the
 * client's capabilities on the first) and the report-status in the response, which receive-pack
 * sends once the refs are updated and before it starts the post-receive hook. Both are pkt-lines
 * (4 hex digits of length, then the payload; `0000` is a flush). Anything unexpected makes a
 * reader give up ("unreadable"); the push itself goes on untouched.
 */
import { PktLineSplitter, type Packet } from '../git/pkt-line';
import { parseRefUpdates, type RefUpdate } from '../push/push-lines';

/** The start of a push request. */
export interface PushCommands {
  updates: RefUpdate[];
  capabilities: Set<string>;
}

/** receive-pack's answer to the commands. */
export interface ReportStatus {
  /** The pack was unpacked (`unpack ok`); otherwise no ref moved. */
  unpackOk: boolean;
  /** Refs updated (`ok <ref>`); refs refused (`ng <ref> …`) are not here. */
  updated: Set<string>;
}

/** What a reader says after each chunk. */
export type ReadResult<T> = { done: T } | 'more' | 'unreadable';

/** Reads the command list at the start of a receive-pack request body, up to its flush. */
export class PushCommandsReader {
  private readonly lines = new PktLineSplitter(true);
  private readonly updates: RefUpdate[] = [];
  private capabilities = new Set<string>();
  private result: ReadResult<PushCommands> = 'more';

  write(chunk: Buffer): ReadResult<PushCommands> {
    if (this.result !== 'more') return this.result;
    const packets = this.lines.take(chunk);
    if (packets === undefined) return (this.result = 'unreadable');
    for (const packet of packets) {
      if (packet.kind === 'flush') return (this.result = this.updates.length > 0 ? { done: { updates: this.updates, capabilities: this.capabilities } } : 'unreadable');
      let text = packet.payload.toString('utf8');
      const nul = text.indexOf('\0');
      if (nul >= 0) {
        if (this.updates.length === 0)
          this.capabilities = new Set(
            text
              .slice(nul + 1)
              .trim()
              .split(' ')
              .filter(Boolean),
          );
        text = text.slice(0, nul);
      }
      // The same `old new ref` line a post-receive hook gets, checked the same way.
      const { updates, malformed } = parseRefUpdates(text);
      if (updates.length !== 1 || malformed.length > 0) return (this.result = 'unreadable');
      this.updates.push(updates[0]);
    }
    return 'more';
  }
}

/**
 * Reads the report-status (v1 or v2) out of receive-pack's response. With side-band the report
 * travels as pkt-lines inside band-1 packets, possibly split across several of them.
 */
export class ReportStatusReader {
  private readonly outer = new PktLineSplitter(true);
  private readonly inner = new PktLineSplitter(true);
  private unpackOk: boolean | undefined;
  private readonly updated = new Set<string>();
  private result: ReadResult<ReportStatus> = 'more';

  constructor(private readonly sideband: boolean) {}

  write(chunk: Buffer): ReadResult<ReportStatus> {
    if (this.result !== 'more') return this.result;
    const packets = this.outer.take(chunk);
    if (packets === undefined) return (this.result = 'unreadable');
    for (const packet of packets) {
      if (!this.sideband) {
        this.result = this.readReport([packet]);
      } else if (packet.kind === 'data' && packet.payload[0] === 1) {
        const reportPackets = this.inner.take(packet.payload.subarray(1));
        this.result = reportPackets === undefined ? 'unreadable' : this.readReport(reportPackets);
      } else if (packet.kind === 'flush') {
        // The final flush before any report: receive-pack sent none.
        this.result = 'unreadable';
      }
      // Bands 2 and 3 (progress, errors) carry no report.
      if (this.result !== 'more') return this.result;
    }
    return 'more';
  }

  private readReport(packets: Packet[]): ReadResult<ReportStatus> {
    for (const packet of packets) {
      if (packet.kind === 'flush') {
        return this.unpackOk === undefined ? 'unreadable' : { done: { unpackOk: this.unpackOk, updated: this.updated } };
      }
      const line = packet.payload.toString('utf8').replace(/\n$/, '');
      if (this.unpackOk === undefined) {
        if (!line.startsWith('unpack ')) return 'unreadable';
        this.unpackOk = line === 'unpack ok';
      } else if (line.startsWith('ok ')) {
        this.updated.add(line.slice(3));
      } else if (!line.startsWith('ng ') && !line.startsWith('option ')) {
        return 'unreadable';
      }
    }
    return 'more';
  }
}
