/**
 * Holds back git-receive-pack's report-status on its way to the pusher until the deploy's outcome
 * is known, then passes it on, with `ok <ref>` turned into `ng <ref> <reason>` for each ref whose
 * deploy failed: `git push` then shows `! [remote rejected] main -> main (<reason>)` and exits 1.
 *
 * receive-pack updates the refs, sends its report, runs the post-receive hook (whose lines travel
 * in side-band 2 as `remote: …`) and ends with a flush; the git client reads the report only once
 * the whole response is in, so a report held until that final flush arrives changes nothing the
 * pusher sees but the verdict. Everything else passes through as it comes, byte for byte, so the
 * hook's lines stay live. One implementation for both transports: the HTTP server filters
 * receive-pack's stdout on its way into the response, the ssh entry on its way to sshd.
 *
 * Anything unexpected (no pkt-lines, a report it cannot read) makes the holder give up and pass
 * everything on unchanged: the push then reports what receive-pack said.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { encodePktLine, encodeSideband, FLUSH_PKT, PktLineSplitter, type Packet } from './pkt-line';

/** Refs to report as rejected, with the reason git shows in brackets. */
export type Rejections = ReadonlyMap<string, string>;

/** Options of a {@link ReportHolder}. */
export interface ReportHolderOptions {
  /**
   * The stream starts with the ref advertisement (receive-pack over ssh); over smart HTTP
   * (`--stateless-rpc`) the POST's response starts with the answer to the push.
   */
  advertisement: boolean;
}

/** The longest reason put into a report line; git prints it on one line. */
const MAX_REASON_CHARS = 300;

type State = 'advertisement' | 'answer' | 'report' | 'after-report' | 'plain-report' | 'held' | 'passing';

/**
 * The pure part: fed receive-pack's output chunk by chunk, says what may pass at once; once the
 * response is complete (`waiting`), {@link release} hands over the held rest, rewritten.
 */
export class ReportHolder {
  private readonly outer = new PktLineSplitter();
  private readonly inner = new PktLineSplitter();
  private state: State;
  private sideband = false;
  /** The raw bytes held back, in order: given back unchanged when nothing is rewritten. */
  private held: Buffer[] = [];
  /** The report's own lines (inside band 1 with side-band), flush excluded. */
  private readonly reportLines: Buffer[] = [];
  /** Held bytes after the report: the final flush and anything after it. */
  private tail: Buffer[] = [];
  private ended = false;
  private plainReportDone = false;

  constructor(options: ReportHolderOptions) {
    this.state = options.advertisement ? 'advertisement' : 'answer';
  }

  /** The state as it is now (TypeScript keeps a narrowed `this.state` across calls that change it). */
  private get current(): State {
    return this.state;
  }

  /** The response is complete and a report is held: get the outcome and call {@link release}. */
  get waiting(): boolean {
    return this.state === 'held' || (this.ended && this.state === 'plain-report');
  }

  /** The refs the held report says were updated (`ok <ref>`). */
  updatedRefs(): Set<string> {
    const refs = new Set<string>();
    for (const line of this.reportLines) {
      const text = lineText(line);
      if (text.startsWith('ok ')) refs.add(text.slice(3));
    }
    return refs;
  }

  /** Feeds the next chunk of receive-pack's output; returns the bytes to pass on now. */
  write(chunk: Buffer): Buffer {
    if (this.state === 'passing') return chunk;
    if (this.waiting) {
      this.tail.push(chunk);
      return Buffer.alloc(0);
    }
    const packets = this.outer.take(chunk);
    if (packets === undefined) return this.giveUp(this.outer.rest());
    const out: Buffer[] = [];
    for (const packet of packets) {
      if (this.current === 'passing') out.push(packet.raw);
      else if (this.current === 'held') this.tail.push(packet.raw);
      else out.push(this.accept(packet) ?? this.giveUp(packet.raw));
    }
    // A part of a packet is waiting in the splitter: once nothing more is read, it goes as it is.
    if (this.current === 'passing') out.push(this.outer.rest());
    else if (this.current === 'held') this.tail.push(this.outer.rest());
    return Buffer.concat(out);
  }

  /** The stream ended; without side-band this is what completes the response. */
  end(): void {
    this.ended = true;
  }

  /**
   * Everything held, with the report rewritten so each ref in `rejected` that receive-pack
   * reported `ok` is reported `ng` with its reason. Passes everything after it straight on.
   */
  release(rejected: Rejections): Buffer {
    const held = this.state === 'held' || this.state === 'plain-report' ? this.rewrite(rejected) : Buffer.concat(this.held);
    const out = Buffer.concat([held, ...this.tail]);
    this.held = [];
    this.tail = [];
    this.state = 'passing';
    return out;
  }

  /** Takes one packet in; returns the bytes it lets through, or undefined when the stream is not as expected. */
  private accept(packet: Packet): Buffer | undefined {
    switch (this.state) {
      case 'advertisement':
        // The refs receive-pack offers, up to their flush; the client's commands come next.
        if (packet.kind === 'flush') this.state = 'answer';
        return packet.raw;
      case 'answer':
        if (packet.kind === 'flush') {
          // No report at all (nothing was pushed, or receive-pack gave up): nothing to hold.
          this.state = 'passing';
          return packet.raw;
        }
        if ([1, 2, 3].includes(packet.payload[0])) {
          this.sideband = true;
          return this.acceptSideband(packet);
        }
        if (!lineText(packet.payload).startsWith('unpack ')) return undefined;
        // No side-band: the report is the rest of the response, which ends with the stream.
        this.state = 'plain-report';
        return this.holdPlain(packet);
      case 'plain-report':
        return this.holdPlain(packet);
      case 'report':
      case 'after-report':
        return this.acceptSideband(packet);
      default:
        return undefined;
    }
  }

  private holdPlain(packet: Packet): Buffer {
    this.held.push(packet.raw);
    if (!this.plainReportDone) {
      if (packet.kind === 'flush') this.plainReportDone = true;
      else this.reportLines.push(packet.payload);
    }
    return Buffer.alloc(0);
  }

  private acceptSideband(packet: Packet): Buffer | undefined {
    if (packet.kind === 'flush') {
      // The final flush: the response is complete once it is here. A flush before the report
      // ended means receive-pack sent none; pass it on.
      if (this.state !== 'after-report') return undefined;
      this.state = 'held';
      this.tail.push(packet.raw);
      return Buffer.alloc(0);
    }
    const bandNumber = packet.payload[0];
    if (bandNumber === 2 || bandNumber === 3) return packet.raw;
    if (bandNumber !== 1) return undefined;
    // Band 1 outside the report: keep-alives (empty), passed as they are.
    if (this.state === 'after-report' || packet.payload.length === 1) return packet.raw;
    this.state = 'report';
    this.held.push(packet.raw);
    const lines = this.inner.take(packet.payload.subarray(1));
    if (lines === undefined) return undefined;
    for (const line of lines) {
      if (line.kind === 'flush') {
        this.state = 'after-report';
        break;
      }
      this.reportLines.push(line.payload);
    }
    return Buffer.alloc(0);
  }

  /** Passes on everything held so far and everything after, unchanged. */
  private giveUp(current: Buffer): Buffer {
    const out = Buffer.concat([...this.held, current]);
    this.held = [];
    this.state = 'passing';
    return out;
  }

  private rewrite(rejected: Rejections): Buffer {
    const texts = this.reportLines.map(lineText);
    const readable = texts.length > 0 && texts[0].startsWith('unpack ') && texts.slice(1).every((t) => /^(ok|ng|option) /.test(t));
    if (!readable || !texts.some((t) => t.startsWith('ok ') && rejected.has(t.slice(3)))) return Buffer.concat(this.held);
    const lines: Buffer[] = [];
    let droppingOptions = false;
    texts.forEach((text, i) => {
      if (text.startsWith('option ')) {
        // report-status-v2: `option …` lines belong to the `ok` before them.
        if (!droppingOptions) lines.push(encodePktLine(this.reportLines[i]));
        return;
      }
      const ref = text.startsWith('ok ') ? text.slice(3) : undefined;
      const reason = ref === undefined ? undefined : rejected.get(ref);
      droppingOptions = reason !== undefined;
      lines.push(reason === undefined ? encodePktLine(this.reportLines[i]) : encodePktLine(`ng ${ref} ${reportReason(reason)}\n`));
    });
    const report = Buffer.concat([...lines, FLUSH_PKT]);
    return this.sideband ? encodeSideband(1, report) : report;
  }
}

/** A report line's text without its newline. */
function lineText(payload: Buffer): string {
  return payload.toString('utf8').replace(/\n$/, '');
}

/** A reason git can show on one line: no control characters, not too long. */
export function reportReason(reason: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = reason.replace(/[\x00-\x1f\x7f]+/g, ' ').trim() || 'the deploy failed';
  return flat.length > MAX_REASON_CHARS ? `${flat.slice(0, MAX_REASON_CHARS - 1)}…` : flat;
}

/** Where the outcome of a push comes from, given the refs the report says were updated. */
export type OutcomeSource = (updated: Set<string>) => Promise<Rejections>;

/**
 * receive-pack's stdout with the report held (see {@link ReportHolder}): pipe receive-pack's
 * stdout in and the result to the pusher. When the response is complete it asks `outcome` which
 * refs to reject; an outcome that fails rejects nothing.
 */
export class ReportHoldingStream extends Transform {
  private readonly holder: ReportHolder;
  private asked = false;

  constructor(
    options: ReportHolderOptions,
    private readonly outcome: OutcomeSource,
  ) {
    super();
    this.holder = new ReportHolder(options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const now = this.holder.write(chunk);
    if (now.length > 0) this.push(now);
    this.releaseWhenComplete(done);
  }

  override _flush(done: TransformCallback): void {
    this.holder.end();
    this.releaseWhenComplete(() => {
      // A response cut short (receive-pack died) still passes on what was held, unchanged.
      if (!this.asked) this.push(this.holder.release(new Map()));
      done();
    });
  }

  /** Calls `done` at once, or, when the response just became complete, after the held report is passed on. */
  private releaseWhenComplete(done: TransformCallback): void {
    if (this.asked || !this.holder.waiting) return done();
    this.asked = true;
    void this.outcome(this.holder.updatedRefs())
      .catch(() => new Map<string, string>())
      .then((rejected) => {
        this.push(this.holder.release(rejected));
        done();
      });
  }
}
