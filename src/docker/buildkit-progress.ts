import { StringDecoder } from 'node:string_decoder';
import { readFields } from './protobuf-fields';

/** What a BuildKit status update says about one step (a vertex of the build graph). */
interface VertexUpdate {
  digest: string;
  name: string;
  cached: boolean;
  startedMs?: number;
  completedMs?: number;
  error: string;
}

interface LogUpdate {
  digest: string;
  msg: Uint8Array;
}

/**
 * Turns BuildKit's status stream (`moby.buildkit.trace` entries of the build response: base64
 * `StatusResponse` protobufs) into the lines `docker build --progress=plain` prints: `#n <step>`,
 * then its output line by line, then `#n DONE 0.4s`, `#n CACHED` or `#n ERROR: …`. Steps are
 * numbered in the order they start. BuildKit's own bookkeeping (`[internal] …`) is left out unless
 * it fails.
 */
export class BuildkitProgress {
  private readonly numbers = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly names = new Map<string, string>();
  /** Each step's output not yet printed: a line (or a character) can span two updates. */
  private readonly output = new Map<string, { decoder: StringDecoder; text: string }>();

  /** The lines one trace entry adds. */
  lines(auxBase64: string): string[] {
    const out: string[] = [];
    const { vertexes, logs } = decodeStatus(Buffer.from(auxBase64, 'base64'));
    // Announcements first and results last, so a step's output in the same update sits between.
    for (const v of vertexes) {
      if (v.name !== '') this.names.set(v.digest, v.name);
      const name = this.names.get(v.digest) ?? '';
      if (this.announced.has(v.digest) || (v.startedMs === undefined && !v.cached)) continue;
      if (name.startsWith('[internal]') && v.error === '') continue;
      this.announced.add(v.digest);
      out.push(`${this.tag(v.digest)} ${name}`);
    }
    for (const log of logs) {
      if (!this.announced.has(log.digest)) continue;
      const pending = this.output.get(log.digest) ?? { decoder: new StringDecoder('utf8'), text: '' };
      this.output.set(log.digest, pending);
      pending.text += pending.decoder.write(log.msg);
      const complete = pending.text.split('\n');
      pending.text = complete.pop() ?? '';
      out.push(...this.outputLines(log.digest, complete));
    }
    for (const v of vertexes) {
      if (this.finished.has(v.digest) || !this.announced.has(v.digest)) continue;
      let result: string;
      if (v.error !== '') result = `ERROR: ${v.error}`;
      else if (v.cached) result = 'CACHED';
      else if (v.completedMs !== undefined && v.startedMs !== undefined) result = `DONE ${((v.completedMs - v.startedMs) / 1000).toFixed(1)}s`;
      else continue;
      const pending = this.output.get(v.digest);
      if (pending !== undefined) out.push(...this.outputLines(v.digest, [pending.text + pending.decoder.end()]));
      this.output.delete(v.digest);
      out.push(`${this.tag(v.digest)} ${result}`);
      this.finished.add(v.digest);
    }
    return out;
  }

  /** A step's output lines, tagged; blank ones are dropped. */
  private outputLines(digest: string, lines: string[]): string[] {
    return lines.filter((line) => line.trim() !== '').map((line) => `${this.tag(digest)} ${line.replace(/\s+$/, '')}`);
  }

  private tag(digest: string): string {
    let n = this.numbers.get(digest);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(digest, n);
    }
    return `#${n}`;
  }
}

/** The parts of `moby.buildkit.v1.StatusResponse` shown to the pusher (field numbers from control.proto). */
function decodeStatus(bytes: Uint8Array): { vertexes: VertexUpdate[]; logs: LogUpdate[] } {
  const vertexes: VertexUpdate[] = [];
  const logs: LogUpdate[] = [];
  readFields(bytes, {
    1: (r) => vertexes.push(decodeVertex(r.bytes())),
    3: (r) => logs.push(decodeLog(r.bytes())),
  });
  return { vertexes, logs };
}

function decodeVertex(bytes: Uint8Array): VertexUpdate {
  const v: VertexUpdate = { digest: '', name: '', cached: false, error: '' };
  readFields(bytes, {
    1: (r) => (v.digest = r.string()),
    3: (r) => (v.name = r.string()),
    4: (r) => (v.cached = r.bool()),
    5: (r) => (v.startedMs = decodeTimestampMs(r.bytes())),
    6: (r) => (v.completedMs = decodeTimestampMs(r.bytes())),
    7: (r) => (v.error = r.string()),
  });
  return v;
}

function decodeLog(bytes: Uint8Array): LogUpdate {
  const log: LogUpdate = { digest: '', msg: new Uint8Array() };
  readFields(bytes, {
    1: (r) => (log.digest = r.string()),
    4: (r) => (log.msg = r.bytes()),
  });
  return log;
}

/** google.protobuf.Timestamp as milliseconds. */
function decodeTimestampMs(bytes: Uint8Array): number {
  let seconds = 0;
  let nanos = 0;
  readFields(bytes, {
    1: (r) => (seconds = Number(r.int64())),
    2: (r) => (nanos = r.int32()),
  });
  return seconds * 1000 + nanos / 1e6;
}
