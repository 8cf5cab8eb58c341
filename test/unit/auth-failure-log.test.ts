import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { logAuthFailure } from '../../src/logger';
import { AuthFailures, AuthRateLimit } from '../../src/auth/auth-rate-limit';

/** A pino logger like slipway's (JSON, named slipway-up) writing into an array of lines. */
function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ name: 'slipway-up' }, sink), lines };
}

/** The shipped filter's failregex as a JavaScript RegExp (<ADDR> → an address group, the prefix expanded). */
function shippedFailregex(): RegExp {
  const conf = readFileSync(path.join(__dirname, '..', '..', 'deploy', 'fail2ban', 'filter.d', 'slipway.conf'), 'utf8');
  const prefix = /^_journal_prefix = (.*)$/m.exec(conf)?.[1] as string;
  const failregex = /^failregex = (.*)$/m.exec(conf)?.[1] as string;
  return new RegExp(failregex.replace('<_journal_prefix>', prefix).replace('<ADDR>', '(?<addr>[0-9a-fA-F.:]+)'));
}

describe('the auth-failure log line', () => {
  it('has the fixed prefix the fail2ban filter anchors on, with the client first after the event', () => {
    const { log, lines } = capture();
    logAuthFailure(log, '192.0.2.7', 'dashboard');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\{"level":40,"time":\d+,"pid":\d+,"hostname":"[^"]*","name":"slipway-up","event":"auth-failure","client":"192\.0\.2\.7","via":"dashboard","msg":"slipway auth failure from 192\.0\.2\.7"\}$/,
    );
    expect(shippedFailregex().exec(lines[0])?.groups?.addr).toBe('192.0.2.7');
  });

  it('pusher-controlled text anywhere in other log lines never matches the filter', () => {
    const { log, lines } = capture();
    const forged = 'slipway auth failure from 10.6.6.6';
    const json = `{"level":40,"time":1,"pid":1,"hostname":"h","name":"slipway-up","event":"auth-failure","client":"10.6.6.6"`;
    log.info({ summary: `✘ build failed: COPY ["${forged}", "/x"]` }, 'deploy finished');
    log.warn({ event: 'auth-failure', client: '10.6.6.6' }, forged);
    log.child({ app: 'x' }).warn({ event: 'auth-failure', client: '10.6.6.7' }, forged);
    log.info({ msg2: `\n${json}` }, `\n${json}`);
    log.info({ [json]: 1 }, 'key');
    log.warn(`${json}`);
    const regex = shippedFailregex();
    // The second line is shaped like a real one (only code can write it): the others must not match.
    expect(lines.map((l) => regex.exec(l)?.groups?.addr ?? null)).toEqual([null, '10.6.6.6', null, null, null, null]);
  });

  it('dashboard and git failures count in one limit per address, and each is logged', () => {
    const { log, lines } = capture();
    const failures = new AuthFailures(new AuthRateLimit(20, 600_000), log);
    for (let i = 0; i < 11; i++) failures.record('192.0.2.7', 'dashboard');
    expect(failures.retryAfterSeconds('192.0.2.7')).toBe(0);
    for (let i = 0; i < 9; i++) failures.record('192.0.2.7', 'git');
    expect(failures.retryAfterSeconds('192.0.2.7')).toBeGreaterThan(0);
    expect(failures.retryAfterSeconds('192.0.2.8')).toBe(0);
    expect(lines.filter((l) => l.includes('"event":"auth-failure","client":"192.0.2.7","via":"dashboard"'))).toHaveLength(11);
    expect(lines.filter((l) => l.includes('"event":"auth-failure","client":"192.0.2.7","via":"git"'))).toHaveLength(9);
  });
});
