import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReportHolder, ReportHoldingStream, reportReason, type Rejections } from '../../src/git/held-report';
import { PktLineSplitter } from '../../src/git/pkt-line';
import { band, FLUSH, pkt } from '../support/pkt-line';

const A = 'a'.repeat(40);
const REASON = 'health check failed: GET /health → 500 after 3 s; 1c0ffee still serving';
const rejectMain: Rejections = new Map([['refs/heads/main', REASON]]);

const REPORT = Buffer.concat([pkt('unpack ok\n'), pkt('ok refs/heads/main\n'), pkt(`option new-oid ${A}\n`), pkt('ok refs/heads/other\n'), FLUSH]);
const HOOK_LINES = [band(2, Buffer.from('-----> Deploying app abc1234 (main)\n')), band(2, Buffer.from('✘ health check failed\n'))];
/** What receive-pack --stateless-rpc answers a push with side-band-64k: progress, the report in band 1, the hook's lines, the final flush. */
const RESPONSE = Buffer.concat([band(2, Buffer.from('Resolving deltas: 100%\n')), band(1, REPORT.subarray(0, 11)), band(1, REPORT.subarray(11)), ...HOOK_LINES, FLUSH]);

/** Feeds `bytes` in pieces of `size`; returns what passed at once and whether the holder then waits. */
function feed(holder: ReportHolder, bytes: Buffer, size: number): Buffer {
  const passed: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) passed.push(holder.write(bytes.subarray(at, at + size)));
  return Buffer.concat(passed);
}

/** The report lines a client would read out of a side-band response. */
function reportIn(response: Buffer): string[] {
  const outer = new PktLineSplitter().take(response) ?? [];
  const band1 = Buffer.concat(outer.flatMap((p) => (p.kind === 'data' && p.payload[0] === 1 ? [p.payload.subarray(1)] : [])));
  return (new PktLineSplitter().take(band1) ?? []).map((p) => (p.kind === 'flush' ? '0000' : p.payload.toString('utf8').trimEnd()));
}

describe('holding the report-status of a side-band response', () => {
  it('passes progress and the hook lines at once and holds the report until the final flush, however the bytes are split', () => {
    for (const size of [1, 3, 17, RESPONSE.length]) {
      const holder = new ReportHolder({ advertisement: false });
      const passed = feed(holder, RESPONSE, size);
      expect(passed.toString('latin1')).toBe(Buffer.concat([band(2, Buffer.from('Resolving deltas: 100%\n')), ...HOOK_LINES]).toString('latin1'));
      expect(holder.waiting).toBe(true);
      expect([...holder.updatedRefs()]).toEqual(['refs/heads/main', 'refs/heads/other']);
      const released = holder.release(new Map());
      // Nothing rejected: the report goes on byte for byte, then the flush.
      expect(Buffer.concat([passed, released]).length).toBe(RESPONSE.length);
      expect(reportIn(Buffer.concat([passed, released]))).toEqual(reportIn(RESPONSE));
      expect(released.subarray(-4).toString()).toBe('0000');
    }
  });

  it('rewrites ok to ng with the reason for a rejected ref, drops its v2 options, keeps the other refs', () => {
    const holder = new ReportHolder({ advertisement: false });
    feed(holder, RESPONSE, 5);
    const released = holder.release(rejectMain);
    expect(reportIn(released)).toEqual(['unpack ok', `ng refs/heads/main ${REASON}`, 'ok refs/heads/other', '0000']);
    expect(released.subarray(-4).toString()).toBe('0000');
  });

  it('over ssh, passes the ref advertisement first', () => {
    const advertisement = Buffer.concat([pkt(`${A} refs/heads/main\0report-status side-band-64k\n`), FLUSH]);
    const holder = new ReportHolder({ advertisement: true });
    const passed = feed(holder, Buffer.concat([advertisement, RESPONSE]), 7);
    expect(passed.subarray(0, advertisement.length).equals(advertisement)).toBe(true);
    expect(holder.waiting).toBe(true);
    expect(reportIn(holder.release(rejectMain))).toContain(`ng refs/heads/main ${REASON}`);
  });

  it('a push of nothing over ssh (advertisement, then the end) passes as it is and waits for nothing', () => {
    const advertisement = Buffer.concat([pkt(`${A} refs/heads/main\0report-status\n`), FLUSH]);
    const holder = new ReportHolder({ advertisement: true });
    expect(feed(holder, advertisement, 3).equals(advertisement)).toBe(true);
    holder.end();
    expect(holder.waiting).toBe(false);
  });

  it('without side-band, holds the whole report until the stream ends', () => {
    const holder = new ReportHolder({ advertisement: false });
    expect(feed(holder, REPORT, 4).length).toBe(0);
    expect(holder.waiting).toBe(false);
    holder.end();
    expect(holder.waiting).toBe(true);
    const released = holder.release(rejectMain);
    const lines = (new PktLineSplitter().take(released) ?? []).map((p) => (p.kind === 'flush' ? '0000' : p.payload.toString('utf8').trimEnd()));
    expect(lines).toEqual(['unpack ok', `ng refs/heads/main ${REASON}`, 'ok refs/heads/other', '0000']);
  });

  it('leaves a report alone when the rejected ref was not updated (unpack failed, or refused by git)', () => {
    const refused = Buffer.concat([band(1, Buffer.concat([pkt('unpack ok\n'), pkt('ng refs/heads/main non-fast-forward\n'), FLUSH])), FLUSH]);
    const holder = new ReportHolder({ advertisement: false });
    const passed = feed(holder, refused, 100);
    expect(Buffer.concat([passed, holder.release(rejectMain)]).equals(refused)).toBe(true);
  });

  it('gives up and passes everything unchanged on bytes that are no pkt-lines', () => {
    const junk = Buffer.concat([band(1, REPORT.subarray(0, 11)), Buffer.from('HTTP/1.1 500 oops, not a pkt-line')]);
    const holder = new ReportHolder({ advertisement: false });
    expect(feed(holder, junk, 6).equals(junk)).toBe(true);
    expect(holder.waiting).toBe(false);
  });

  it('reasons are one printable line of bounded length', () => {
    expect(reportReason('a\nb\tc\x1b[31m')).toBe('a b c [31m');
    expect(reportReason('x'.repeat(1000)).length).toBe(300);
    expect(reportReason('\n')).toBe('the deploy failed');
  });
});

describe('the holding stream', () => {
  it('asks for the outcome once the response is complete, with the updated refs, and passes the rewritten report', async () => {
    const asked: string[][] = [];
    const stream = Readable.from([RESPONSE.subarray(0, 30), RESPONSE.subarray(30)]).pipe(
      new ReportHoldingStream({ advertisement: false }, async (updated) => {
        asked.push([...updated]);
        return rejectMain;
      }),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(asked).toEqual([['refs/heads/main', 'refs/heads/other']]);
    expect(reportIn(Buffer.concat(chunks))).toEqual(['unpack ok', `ng refs/heads/main ${REASON}`, 'ok refs/heads/other', '0000']);
  });

  it('an outcome that fails rejects nothing', async () => {
    const stream = Readable.from([RESPONSE]).pipe(new ReportHoldingStream({ advertisement: false }, () => Promise.reject(new Error('server gone'))));
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(reportIn(Buffer.concat(chunks))).toEqual(reportIn(RESPONSE));
  });
});
