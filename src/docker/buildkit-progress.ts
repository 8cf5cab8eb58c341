import { Reader } from 'protobufjs/minimal';

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
  text: string;
}

/**
 * Turns BuildKit's status stream (`moby.buildkit.trace` entries of the build response: base64
 * `StatusResponse` protobufs) into the lines `docker build --progress=plain` prints: `#n <step>`,
 * then its output, then `#n DONE 0.4s`, `#n CACHED` or `#n ERROR: …`. Steps are numbered in the
 * order they start. BuildKit's own bookkeeping (`[internal] …`) is left out unless it fails.
 */
export class BuildkitProgress {
  private readonly numbers = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly names = new Map<string, string>();

  /** The lines one trace entry adds. */
  lines(auxBase64: string): string[] {
    const out: string[] = [];
    const { vertexes, logs } = decodeStatus(Buffer.from(auxBase64, 'base64'));
    for (const v of vertexes) {
      if (v.name !== '') this.names.set(v.digest, v.name);
      const name = this.names.get(v.digest) ?? '';
      const internal = name.startsWith('[internal]');
      if (!this.announced.has(v.digest) && (v.startedMs !== undefined || v.cached) && (!internal || v.error !== '')) {
        this.announced.add(v.digest);
        out.push(`${this.tag(v.digest)} ${name}`);
      }
      if (this.finished.has(v.digest) || !this.announced.has(v.digest)) continue;
      if (v.error !== '') out.push(`${this.tag(v.digest)} ERROR: ${v.error}`);
      else if (v.cached) out.push(`${this.tag(v.digest)} CACHED`);
      else if (v.completedMs !== undefined && v.startedMs !== undefined) out.push(`${this.tag(v.digest)} DONE ${((v.completedMs - v.startedMs) / 1000).toFixed(1)}s`);
      else continue;
      this.finished.add(v.digest);
    }
    for (const log of logs) {
      if (!this.announced.has(log.digest)) continue;
      for (const line of log.text.split('\n')) if (line.trim() !== '') out.push(`${this.tag(log.digest)} ${line.replace(/\s+$/, '')}`);
    }
    return out;
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
  const r = Reader.create(bytes);
  const vertexes: VertexUpdate[] = [];
  const logs: LogUpdate[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) vertexes.push(decodeVertex(r.bytes()));
    else if (tag >>> 3 === 3) logs.push(decodeLog(r.bytes()));
    else r.skipType(tag & 7);
  }
  return { vertexes, logs };
}

function decodeVertex(bytes: Uint8Array): VertexUpdate {
  const r = Reader.create(bytes);
  const v: VertexUpdate = { digest: '', name: '', cached: false, error: '' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        v.digest = r.string();
        break;
      case 3:
        v.name = r.string();
        break;
      case 4:
        v.cached = r.bool();
        break;
      case 5:
        v.startedMs = decodeTimestampMs(r.bytes());
        break;
      case 6:
        v.completedMs = decodeTimestampMs(r.bytes());
        break;
      case 7:
        v.error = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return v;
}

function decodeLog(bytes: Uint8Array): LogUpdate {
  const r = Reader.create(bytes);
  const log: LogUpdate = { digest: '', text: '' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) log.digest = r.string();
    else if (tag >>> 3 === 4) log.text = Buffer.from(r.bytes()).toString('utf8');
    else r.skipType(tag & 7);
  }
  return log;
}

/** google.protobuf.Timestamp as milliseconds. */
function decodeTimestampMs(bytes: Uint8Array): number {
  const r = Reader.create(bytes);
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) seconds = Number(r.int64());
    else if (tag >>> 3 === 2) nanos = r.int32();
    else r.skipType(tag & 7);
  }
  return seconds * 1000 + nanos / 1e6;
}
