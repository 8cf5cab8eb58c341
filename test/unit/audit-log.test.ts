import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, parseAuditLines } from '../../src/audit/audit-log';

describe('audit log', () => {
  it('appends one versioned JSON line per event and lists them in order, per app', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-audit-'));
    const log = new AuditLog(path.join(dir, 'audit.log'));
    await log.append({ actor: 'alice', action: 'push', app: 'shop', outcome: 'ok', detail: 'aaaaaaa' });
    await Promise.all([1, 2, 3].map((n) => log.append({ actor: 'cli:root', action: 'run', app: n === 2 ? 'blog' : 'shop', outcome: `exit ${n}`, detail: `sh -c "exit ${n}"` })));
    const all = await log.list();
    expect(all).toHaveLength(4);
    expect(all[0]).toMatchObject({ v: 1, actor: 'alice', action: 'push', app: 'shop', outcome: 'ok' });
    expect((await log.list('blog')).map((e) => e.outcome)).toEqual(['exit 2']);
    expect((await fs.stat(path.join(dir, 'audit.log'))).mode & 0o777).toBe(0o600);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('skips a line cut by a crash and lines of an unknown format', () => {
    const whole = JSON.stringify({ v: 1, at: '2026-12-01T00:00:00Z', actor: 'a', action: 'stop', app: 'x', outcome: 'ok', detail: '' });
    expect(parseAuditLines(`${whole}\n{"v":2,"at":"x","action":"y"}\n${whole}\n{"v":1,"at":"20`)).toHaveLength(2);
  });
});
