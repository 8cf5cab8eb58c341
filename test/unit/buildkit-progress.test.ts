import { Writer } from 'protobufjs/minimal';
import { describe, expect, it } from 'vitest';
import { BuildkitProgress } from '../../src/docker/buildkit-progress';

/** google.protobuf.Timestamp. */
interface Time {
  seconds: number;
  nanos: number;
}

interface VertexFields {
  digest: string;
  name?: string;
  inputs?: string[];
  cached?: boolean;
  started?: Time;
  completed?: Time;
  error?: string;
  /** Appends fields the decoder does not know. */
  extra?: (w: Writer) => void;
}

interface LogFields {
  vertex: string;
  msg: string | Buffer;
  stream?: number;
  timestamp?: Time;
}

function timestamp(t: Time): Uint8Array {
  const w = Writer.create();
  if (t.seconds !== 0) w.uint32((1 << 3) | 0).int64(t.seconds);
  if (t.nanos !== 0) w.uint32((2 << 3) | 0).int32(t.nanos);
  return w.finish();
}

function vertex(v: VertexFields): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string(v.digest);
  for (const input of v.inputs ?? []) w.uint32((2 << 3) | 2).string(input);
  if (v.name !== undefined) w.uint32((3 << 3) | 2).string(v.name);
  if (v.cached === true) w.uint32((4 << 3) | 0).bool(true);
  if (v.started !== undefined) w.uint32((5 << 3) | 2).bytes(timestamp(v.started));
  if (v.completed !== undefined) w.uint32((6 << 3) | 2).bytes(timestamp(v.completed));
  if (v.error !== undefined) w.uint32((7 << 3) | 2).string(v.error);
  v.extra?.(w);
  return w.finish();
}

function log(l: LogFields): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string(l.vertex);
  if (l.timestamp !== undefined) w.uint32((2 << 3) | 2).bytes(timestamp(l.timestamp));
  w.uint32((3 << 3) | 0).int64(l.stream ?? 1);
  w.uint32((4 << 3) | 2).bytes(typeof l.msg === "string" ? Buffer.from(l.msg) : l.msg);
  return w.finish();
}

/** A base64 `StatusResponse`, as in the `moby.buildkit.trace` aux field. */
function status(parts: { vertexes?: VertexFields[]; logs?: LogFields[]; extra?: (w: Writer) => void }): string {
  const w = Writer.create();
  for (const v of parts.vertexes ?? []) w.uint32((1 << 3) | 2).bytes(vertex(v));
  parts.extra?.(w);
  for (const l of parts.logs ?? []) w.uint32((3 << 3) | 2).bytes(log(l));
  return Buffer.from(w.finish()).toString('base64');
}

const T0: Time = { seconds: 1_700_000_000, nanos: 100_000_000 };
const T0_4: Time = { seconds: 1_700_000_000, nanos: 500_000_000 };
const RUN = { digest: 'sha256:run', name: '[2/3] RUN npm ci' };

describe('BuildkitProgress', () => {
  it('prints a started step once, however often it is repeated', () => {
    const progress = new BuildkitProgress();
    expect(progress.lines(status({ vertexes: [{ ...RUN }] }))).toEqual([]);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0 }] }))).toEqual(['#1 [2/3] RUN npm ci']);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0 }] }))).toEqual([]);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0 }, { ...RUN, started: T0 }] }))).toEqual([]);
  });

  it('prints DONE with the time from start to completion, once', () => {
    const progress = new BuildkitProgress();
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0 }] }))).toEqual(['#1 [2/3] RUN npm ci']);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0, completed: T0_4 }] }))).toEqual(['#1 DONE 0.4s']);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0, completed: T0_4 }] }))).toEqual([]);
  });

  it('prints the step and DONE together when one update has both', () => {
    const progress = new BuildkitProgress();
    const started = { seconds: 1_700_000_010, nanos: 0 };
    const completed = { seconds: 1_700_000_022, nanos: 340_000_000 };
    expect(progress.lines(status({ vertexes: [{ ...RUN, started, completed }] }))).toEqual(['#1 [2/3] RUN npm ci', '#1 DONE 12.3s']);
  });

  it('keeps the name from an earlier update when a later one leaves it out', () => {
    const progress = new BuildkitProgress();
    expect(progress.lines(status({ vertexes: [{ ...RUN }] }))).toEqual([]);
    expect(progress.lines(status({ vertexes: [{ digest: RUN.digest, started: T0 }] }))).toEqual(['#1 [2/3] RUN npm ci']);
    expect(progress.lines(status({ vertexes: [{ digest: RUN.digest, started: T0, completed: T0_4 }] }))).toEqual(['#1 DONE 0.4s']);
  });

  it('prints a cached step by name, then CACHED', () => {
    const progress = new BuildkitProgress();
    const copy = { digest: 'sha256:copy', name: '[3/3] COPY . .' };
    expect(progress.lines(status({ vertexes: [{ ...copy, cached: true, started: T0, completed: T0 }] }))).toEqual(['#1 [3/3] COPY . .', '#1 CACHED']);
    expect(progress.lines(status({ vertexes: [{ ...copy, cached: true, started: T0, completed: T0 }] }))).toEqual([]);
  });

  it('prints a cached step that never started', () => {
    const progress = new BuildkitProgress();
    expect(progress.lines(status({ vertexes: [{ digest: 'sha256:c', name: '[1/3] FROM node:20', cached: true }] }))).toEqual(['#1 [1/3] FROM node:20', '#1 CACHED']);
  });

  it('prints an error with the step tag', () => {
    const progress = new BuildkitProgress();
    const error = 'process "/bin/sh -c npm ci" did not complete successfully: exit code: 1';
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0 }] }))).toEqual(['#1 [2/3] RUN npm ci']);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0, completed: T0_4, error }] }))).toEqual([`#1 ERROR: ${error}`]);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0, completed: T0_4, error }] }))).toEqual([]);
  });

  it('numbers steps in the order they start, not the order they appear', () => {
    const progress = new BuildkitProgress();
    const a = { digest: 'sha256:a', name: 'step a' };
    const b = { digest: 'sha256:b', name: 'step b' };
    const c = { digest: 'sha256:c', name: 'step c' };
    expect(progress.lines(status({ vertexes: [a, b, c] }))).toEqual([]);
    expect(progress.lines(status({ vertexes: [a, { ...b, started: T0 }, c] }))).toEqual(['#1 step b']);
    expect(progress.lines(status({ vertexes: [{ ...c, started: T0 }, { ...a, started: T0 }] }))).toEqual(['#2 step c', '#3 step a']);
    expect(progress.lines(status({ vertexes: [{ ...a, started: T0, completed: T0_4 }, { ...b, started: T0, completed: T0_4 }] }))).toEqual(['#3 DONE 0.4s', '#1 DONE 0.4s']);
  });

  it('prints nothing for [internal] steps and does not number them', () => {
    const progress = new BuildkitProgress();
    const internal = { digest: 'sha256:int', name: '[internal] load build definition from Dockerfile' };
    expect(progress.lines(status({ vertexes: [{ ...internal, started: T0 }] }))).toEqual([]);
    expect(progress.lines(status({ vertexes: [{ ...internal, started: T0, completed: T0_4 }] }))).toEqual([]);
    expect(progress.lines(status({ logs: [{ vertex: internal.digest, msg: 'transferring dockerfile: 120B\n' }] }))).toEqual([]);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0 }] }))).toEqual(['#1 [2/3] RUN npm ci']);
  });

  it('prints an [internal] step that fails', () => {
    const progress = new BuildkitProgress();
    const meta = { digest: 'sha256:meta', name: '[internal] load metadata for docker.io/library/node:99' };
    expect(progress.lines(status({ vertexes: [{ ...meta, started: T0 }] }))).toEqual([]);
    expect(progress.lines(status({ vertexes: [{ ...meta, started: T0, completed: T0_4, error: 'docker.io/library/node:99: not found' }] }))).toEqual([
      '#1 [internal] load metadata for docker.io/library/node:99',
      '#1 ERROR: docker.io/library/node:99: not found',
    ]);
  });

  it('prints each non-empty log line with the step tag, without trailing whitespace', () => {
    const progress = new BuildkitProgress();
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0 }], logs: [{ vertex: RUN.digest, msg: 'added 120 packages  \r\n\n  \nfound 0 vulnerabilities\n' }] }))).toEqual([
      '#1 [2/3] RUN npm ci',
      '#1 added 120 packages',
      '#1 found 0 vulnerabilities',
    ]);
    expect(progress.lines(status({ logs: [{ vertex: RUN.digest, msg: '  indented stays indented\n', stream: 2 }] }))).toEqual(['#1   indented stays indented']);
  });

  it('joins a line, and a character, that BuildKit split across two updates; the rest comes out when the step ends', () => {
    const progress = new BuildkitProgress();
    progress.lines(status({ vertexes: [{ ...RUN, started: T0 }] }));
    const euro = Buffer.from('€');
    expect(progress.lines(status({ logs: [{ vertex: RUN.digest, msg: Buffer.concat([Buffer.from('half a li'), euro.subarray(0, 1)]) }] }))).toEqual([]);
    expect(progress.lines(status({ logs: [{ vertex: RUN.digest, msg: Buffer.concat([euro.subarray(1), Buffer.from('ne\nno newline yet')]) }] }))).toEqual(['#1 half a li€ne']);
    expect(progress.lines(status({ vertexes: [{ ...RUN, started: T0, completed: T0_4 }] }))).toEqual(['#1 no newline yet', '#1 DONE 0.4s']);
  });

  it('prints no logs for a step that was not announced', () => {
    const progress = new BuildkitProgress();
    const pending = { digest: 'sha256:pending', name: 'pending step' };
    expect(progress.lines(status({ vertexes: [pending], logs: [{ vertex: pending.digest, msg: 'early output\n' }, { vertex: 'sha256:unknown', msg: 'who?\n' }] }))).toEqual([]);
  });

  it('skips fields it does not know at every level', () => {
    const progress = new BuildkitProgress();
    const statusExtra = (w: Writer) => {
      // statuses (field 2), warnings (field 4) and a varint and a fixed64 it has never heard of.
      w.uint32((2 << 3) | 2).bytes(Writer.create().uint32((1 << 3) | 2).string('sha256:x').uint32((4 << 3) | 0).int64(100).finish());
      w.uint32((4 << 3) | 2).bytes(Writer.create().uint32((1 << 3) | 2).string(RUN.digest).finish());
      w.uint32((20 << 3) | 0).uint64(99);
      w.uint32((21 << 3) | 1).fixed64(7);
    };
    const vertexExtra = (w: Writer) => {
      // progressGroup (field 8) and an unknown fixed32.
      w.uint32((8 << 3) | 2).bytes(Writer.create().uint32((1 << 3) | 2).string('group').finish());
      w.uint32((30 << 3) | 5).fixed32(1);
    };
    const lines = progress.lines(
      status({
        vertexes: [{ ...RUN, inputs: ['sha256:base', 'sha256:ctx'], started: T0, extra: vertexExtra }],
        logs: [{ vertex: RUN.digest, msg: 'hello\n', stream: 1, timestamp: T0_4 }],
        extra: statusExtra,
      }),
    );
    expect(lines).toEqual(['#1 [2/3] RUN npm ci', '#1 hello']);
  });

  it('reads a timestamp with unknown fields and a seconds value past 2^32', () => {
    const progress = new BuildkitProgress();
    const ts = (seconds: number, nanos: number) =>
      Writer.create().uint32((1 << 3) | 0).int64(seconds).uint32((9 << 3) | 0).uint32(5).uint32((2 << 3) | 0).int32(nanos).finish();
    const w = Writer.create();
    const v = Writer.create()
      .uint32((1 << 3) | 2)
      .string('sha256:far')
      .uint32((3 << 3) | 2)
      .string('far future')
      .uint32((5 << 3) | 2)
      .bytes(ts(2 ** 33, 0))
      .uint32((6 << 3) | 2)
      .bytes(ts(2 ** 33 + 1, 500_000_000))
      .finish();
    w.uint32((1 << 3) | 2).bytes(v);
    expect(progress.lines(Buffer.from(w.finish()).toString('base64'))).toEqual(['#1 far future', '#1 DONE 1.5s']);
  });

  it('returns nothing for an empty update', () => {
    expect(new BuildkitProgress().lines('')).toEqual([]);
  });
});
