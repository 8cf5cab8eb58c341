import { describe, expect, it } from 'vitest';
import { PushCommandsReader, ReportStatusReader, type ReadResult } from '../../src/server/receive-pack-stream';
import { band, FLUSH, pkt } from '../support/pkt-line';

const Z = '0'.repeat(40);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

/** Feeds `bytes` to a reader in pieces of `size` bytes; returns the first result that is not 'more'. */
function feed<T>(reader: { write(chunk: Buffer): ReadResult<T> }, bytes: Buffer, size: number): ReadResult<T> {
  let result: ReadResult<T> = 'more';
  for (let at = 0; at < bytes.length && result === 'more'; at += size) result = reader.write(bytes.subarray(at, at + size));
  return result;
}

const REQUEST = Buffer.concat([
  pkt(`${Z} ${A} refs/heads/main\0 report-status-v2 side-band-64k quiet object-format=sha1 agent=git/2.39.5`),
  pkt(`${B} ${C} refs/tags/v1\n`),
  FLUSH,
  Buffer.from('PACK\0\0\0\x02 the pack follows'),
]);

describe('reading a push request', () => {
  it('reads the commands and the capabilities, however the bytes are split', () => {
    for (const size of [1, 3, 7, 64, REQUEST.length]) {
      const result = feed(new PushCommandsReader(), REQUEST, size);
      expect(result).not.toBe('more');
      if (result === 'more' || result === 'unreadable') throw new Error(`size ${size}: ${result}`);
      expect(result.done.updates).toEqual([
        { oldSha: Z, newSha: A, ref: 'refs/heads/main' },
        { oldSha: B, newSha: C, ref: 'refs/tags/v1' },
      ]);
      expect([...result.done.capabilities]).toContain('side-band-64k');
      expect(result.done.capabilities.has('push-options')).toBe(false);
    }
  });

  it('gives up on anything that is not a command list', () => {
    expect(feed(new PushCommandsReader(), Buffer.from('PACK this is no pkt-line'), 100)).toBe('unreadable');
    expect(feed(new PushCommandsReader(), Buffer.concat([pkt(`${A} nonsense refs/heads/main`), FLUSH]), 100)).toBe('unreadable');
    expect(feed(new PushCommandsReader(), Buffer.concat([pkt(`${Z} ${A} refs/heads/a..b`), FLUSH]), 100)).toBe('unreadable');
    expect(feed(new PushCommandsReader(), FLUSH, 100)).toBe('unreadable');
  });
});

describe('reading the report-status in the response', () => {
  const report = Buffer.concat([pkt('unpack ok\n'), pkt('ok refs/heads/main\n'), pkt(`option new-oid ${A}\n`), pkt('ng refs/tags/v1 rejected by a hook\n'), FLUSH]);

  it('finds it inside band 1, split over packets and chunks, between progress lines', () => {
    const response = Buffer.concat([
      band(2, Buffer.from('Resolving deltas: 100%\n')),
      band(1, report.subarray(0, 9)),
      band(2, Buffer.from('more progress\n')),
      band(1, report.subarray(9)),
      band(2, Buffer.from('remote: hook output\n')),
      FLUSH,
    ]);
    for (const size of [1, 5, 33, response.length]) {
      const result = feed(new ReportStatusReader(true), response, size);
      if (result === 'more' || result === 'unreadable') throw new Error(`size ${size}: ${result}`);
      expect(result.done.unpackOk).toBe(true);
      expect([...result.done.updated]).toEqual(['refs/heads/main']);
    }
  });

  it('reads it without side-band too, and sees a failed unpack', () => {
    const plain = feed(new ReportStatusReader(false), report, 4);
    expect(plain).toEqual({ done: { unpackOk: true, updated: new Set(['refs/heads/main']) } });
    const failed = feed(new ReportStatusReader(false), Buffer.concat([pkt('unpack index-pack abnormal exit\n'), pkt('ng refs/heads/main unpacker error\n'), FLUSH]), 100);
    expect(failed).toEqual({ done: { unpackOk: false, updated: new Set() } });
  });

  it('gives up when there is no report or it makes no sense', () => {
    expect(feed(new ReportStatusReader(true), Buffer.concat([band(2, Buffer.from('progress\n')), FLUSH]), 100)).toBe('unreadable');
    expect(feed(new ReportStatusReader(false), Buffer.concat([pkt('ok refs/heads/main\n'), FLUSH]), 100)).toBe('unreadable');
    expect(feed(new ReportStatusReader(false), Buffer.from('HTTP/1.1 500 oops'), 100)).toBe('unreadable');
  });
});
