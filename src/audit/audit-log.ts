import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists } from '../atomic-write';
import type { DeployKind } from '../queue/deploy-job';

/** The format version every audit line carries, so a later slipway can read older lines. */
export const AUDIT_FORMAT = 1;

/** What an operator or a pusher did: a deploy of some kind (push, rollback, restart, …), or another change. */
export type AuditAction = DeployKind | 'env:set' | 'env:unset' | 'run' | 'stop' | 'domain' | 'tls' | 'maintenance' | 'token:add' | 'token:revoke' | 'hosts:add' | 'hosts:remove' | 'hosts:set';

/** One audit event: who did what to which app, when, and how it ended. */
export interface AuditEvent {
  v: typeof AUDIT_FORMAT;
  /** ISO time. */
  at: string;
  /** Token name, `cli:<user>`, `dashboard`, `ssh:<user>`. */
  actor: string;
  action: AuditAction;
  app?: string;
  /** `ok`, `failed`, or a command's exit code. */
  outcome: string;
  /**
   * Plain words: the deploy's kind and final line, the env names (never values), the command line.
   * Never a secret.
   */
  detail: string;
}

/**
 * The audit log: `$SLIPWAY_HOME/audit.log`, one JSON object per line, append-only. Each event is
 * one write() of one line to a file opened with O_APPEND, then fsync: concurrent writers (the
 * worker, the CLI, the dashboard) never interleave inside a line, and a crash can at worst cut the
 * last line, which the reader skips.
 */
export class AuditLog {
  constructor(private readonly file: string) {}

  async append(event: Omit<AuditEvent, 'v' | 'at'> & { at?: string }): Promise<void> {
    const line = `${JSON.stringify({ v: AUDIT_FORMAT, at: event.at ?? new Date().toISOString(), actor: event.actor, action: event.action, app: event.app, outcome: event.outcome, detail: event.detail })}\n`;
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const handle = await fs.open(this.file, 'a', 0o600);
    try {
      await handle.write(line);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Every event (of `app`, if given), oldest first; lines this version cannot read are skipped. */
  async list(app?: string): Promise<AuditEvent[]> {
    const text = (await readFileIfExists(this.file)) ?? '';
    return parseAuditLines(text).filter((e) => app === undefined || e.app === app);
  }
}

/** Parses audit lines, skipping a torn last line and anything not in a known format. */
export function parseAuditLines(text: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const event = JSON.parse(line) as AuditEvent;
      if (event.v === AUDIT_FORMAT && typeof event.at === 'string' && typeof event.action === 'string') events.push(event);
    } catch {
      // A line cut by a crash mid-write: the events before and after it are whole.
    }
  }
  return events;
}

/** Who runs a CLI command, as the audit log and release records name them. */
export function cliActor(): string {
  return `cli:${process.env.SUDO_USER ?? process.env.USER ?? 'root'}`;
}
