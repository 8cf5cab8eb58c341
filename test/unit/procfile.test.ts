import { describe, expect, it } from 'vitest';
import { parseProcfile, ProcfileError, shellCommand } from '../../src/deploy/procfile';

describe('parseProcfile', () => {
  it('reads release and web, skipping comments and blank lines', () => {
    const text = '# migrations first\n\nrelease: ./manage migrate --noinput\r\nweb:java -jar app.jar --port=$PORT\n';
    expect(parseProcfile(text)).toEqual({ release: './manage migrate --noinput', web: 'java -jar app.jar --port=$PORT', workers: {} });
  });

  it('no Procfile is an empty one', () => {
    expect(parseProcfile(undefined)).toEqual({ workers: {} });
    expect(parseProcfile('')).toEqual({ workers: {} });
  });

  it('names the line that is not "name: command"', () => {
    expect(() => parseProcfile('web: ok\nrelease ./migrate\n')).toThrow(/Procfile line 2 is not "name: command"/);
    expect(() => parseProcfile('we b: x')).toThrow(ProcfileError);
  });

  it('every other line is a worker process type, named per Heroku grammar', () => {
    expect(parseProcfile('web: a\nworker: sidekiq -q default\nclock_2: ./clock\nmail-out: ./mail\n')).toEqual({
      web: 'a',
      workers: { worker: 'sidekiq -q default', clock_2: './clock', 'mail-out': './mail' },
    });
    expect(parseProcfile('worker: ./work\n')).toEqual({ workers: { worker: './work' } });
    expect(() => parseProcfile('worker: a\nworker: b\n')).toThrow(/line 2: a second "worker" line/);
    expect(() => parseProcfile('worker.x: a\n')).toThrow(/line 1 is not "name: command"/);
    expect(() => parseProcfile(`${'w'.repeat(41)}: a\n`)).toThrow(/longer than 40 characters/);
    expect(() => parseProcfile('worker:\n')).toThrow(/line 1: the worker command is empty/);
  });

  it('refuses an empty command and a repeated type', () => {
    expect(() => parseProcfile('release:   \n')).toThrow(/line 1: the release command is empty/);
    expect(() => parseProcfile('web: a\nweb: b\n')).toThrow(/line 2: a second "web" line/);
  });

  it('refuses a file that is not text', () => {
    expect(() => parseProcfile('release: x\0y')).toThrow(/not a text file/);
    expect(() => parseProcfile('release: \uFFFD')).toThrow(/not a text file/);
  });

  it("runs a command string through the image's own shell, as one argv element", () => {
    expect(shellCommand('echo "$VERSION" && exit 3')).toEqual(['/bin/sh', '-c', 'echo "$VERSION" && exit 3']);
  });
});
