import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import type http from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EarlyPushStart, type StartPush } from '../../src/server/early-push-start';
import { band, FLUSH, pkt } from '../support/pkt-line';

const Z = '0'.repeat(40);
const A = 'a'.repeat(40);

/** A push of `main` and tag `v1` (both to A), as git sends it, with the given capabilities. */
const request = (capabilities: string) => Buffer.concat([pkt(`${Z} ${A} refs/heads/main\0 ${capabilities}`), pkt(`${Z} ${A} refs/tags/v1\n`), FLUSH, Buffer.from('PACK…')]);
const REPORT = band(1, Buffer.concat([pkt('unpack ok\n'), pkt('ok refs/heads/main\n'), pkt('ng refs/tags/v1 rejected\n'), FLUSH]));

function fakePush() {
  const req = Object.assign(new EventEmitter(), { headers: {} }) as unknown as http.IncomingMessage;
  const ps = { stdout: new EventEmitter() } as unknown as ChildProcess;
  const calls: Parameters<StartPush>[0][] = [];
  const startPush: StartPush = async (push) => {
    calls.push(push);
    return { lines: ['-----> Deploying'], jobId: 'job-1' };
  };
  const early = new EarlyPushStart(req, 'shop', 'alice', startPush, pino({ enabled: false }));
  return { req, ps, calls, early };
}

describe('starting an HTTP push from the receive-pack report', () => {
  it('starts once, with the refs the report says were updated, however often node-git-server announces the push', async () => {
    const { req, ps, calls, early } = fakePush();
    req.emit('data', request('report-status side-band-64k'));
    // node-git-server emits one event per ref: the git process is announced twice.
    early.attach(ps);
    early.attach(ps);
    ps.stdout?.emit('data', REPORT);
    expect(await early.started).toEqual({ lines: ['-----> Deploying'], jobId: 'job-1' });
    expect(calls).toEqual([{ app: 'shop', refUpdates: `${Z} ${A} refs/heads/main\n`, pushedBy: 'alice' }]);
  });

  it('leaves pushes with push options, and pushes with no report, to the hook', async () => {
    const withOptions = fakePush();
    withOptions.req.emit('data', request('report-status side-band-64k push-options'));
    withOptions.early.attach(withOptions.ps);
    withOptions.ps.stdout?.emit('data', REPORT);
    expect(await withOptions.early.started).toBeUndefined();
    expect(withOptions.calls).toEqual([]);

    const noReport = fakePush();
    noReport.req.emit('data', request('side-band-64k'));
    noReport.early.attach(noReport.ps);
    expect(await noReport.early.started).toBeUndefined();

    const ended = fakePush();
    ended.req.emit('data', request('report-status'));
    ended.early.attach(ended.ps);
    ended.ps.stdout?.emit('end');
    expect(await ended.early.started).toBeUndefined();
    expect(ended.calls).toEqual([]);
  });
});
