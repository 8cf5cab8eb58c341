import type { ChildProcess } from 'node:child_process';
import type http from 'node:http';
import type { StartedPush } from '../push/push-handler';
import type { Logger } from '../logger';
import { PushCommandsReader, ReportStatusReader, type PushCommands } from './receive-pack-stream';

/** Starts a push's deploy from the `old new ref` lines a post-receive hook would get. */
export type StartPush = (push: { app: string; refUpdates: string; pushedBy: string }) => Promise<StartedPush>;

/**
 * Starts an HTTP push's deploy the moment receive-pack reports its refs updated, instead of when
 * the post-receive hook hands the push over: git starts the hook only after that report, and the
 * hook is a Node process (~0.1 s on a small VM before it connects). The hook still connects, and
 * shows and follows the deploy started here. Reads the request and the response as they pass
 * (see receive-pack-stream.ts) and changes neither. Resolves `started` with undefined, and
 * leaves the push to the hook as before, when the push carries push options (sent after the
 * commands; the hook gets them from git already parsed), when there is no report to read, or when
 * anything is not as expected.
 */
export class EarlyPushStart {
  /** The started deploy, or undefined when the hook hands the push over as before. */
  readonly started: Promise<StartedPush | undefined>;
  private resolve!: (started: StartedPush | undefined) => void;
  private commands: PushCommands | undefined;
  private attached = false;
  private settled = false;

  /** Must be created before node-git-server reads `req`, so the first chunk is seen here too. */
  constructor(
    req: http.IncomingMessage,
    private readonly app: string,
    private readonly pushedBy: string,
    private readonly startPush: StartPush,
    private readonly log: Logger,
  ) {
    this.started = new Promise((resolve) => (this.resolve = resolve));
    // git does not compress push requests; a compressed one is left to the hook.
    if (req.headers['content-encoding'] !== undefined) {
      this.giveUp();
      return;
    }
    const reader = new PushCommandsReader();
    const onData = (chunk: Buffer) => {
      const result = reader.write(chunk);
      if (result === 'more') return;
      req.off('data', onData);
      if (result === 'unreadable') return this.giveUp();
      const { capabilities } = result.done;
      if (capabilities.has('push-options') || !(capabilities.has('report-status') || capabilities.has('report-status-v2'))) return this.giveUp();
      this.commands = result.done;
    };
    req.on('data', onData);
  }

  /**
   * Follows receive-pack's output; called as soon as it is spawned. node-git-server announces a
   * push once per ref it names (a branch and a tag: twice), so only the first call counts.
   */
  attach(ps: ChildProcess): void {
    if (this.attached) return;
    this.attached = true;
    const stdout = ps.stdout;
    if (this.settled || !stdout) return this.giveUp();
    let reader: ReportStatusReader | undefined;
    const detach = () => {
      stdout.off('data', onData);
      stdout.off('end', onEnd);
    };
    const onEnd = () => {
      detach();
      this.giveUp();
    };
    const onData = (chunk: Buffer) => {
      // The commands precede the pack, which receive-pack reads in full before it reports.
      if (!this.commands) return onEnd();
      reader ??= new ReportStatusReader(this.commands.capabilities.has('side-band-64k') || this.commands.capabilities.has('side-band'));
      const result = reader.write(chunk);
      if (result === 'more') return;
      detach();
      if (result === 'unreadable' || !result.done.unpackOk) return this.giveUp();
      this.start(this.commands, result.done.updated);
    };
    stdout.on('data', onData);
    stdout.once('end', onEnd);
  }

  private start(commands: PushCommands, updated: Set<string>): void {
    if (this.settled) return;
    const refUpdates = commands.updates
      .filter((u) => updated.has(u.ref))
      .map((u) => `${u.oldSha} ${u.newSha} ${u.ref}\n`)
      .join('');
    if (refUpdates === '') return this.giveUp();
    this.settled = true;
    this.log.debug({ app: this.app }, 'deploy started from the receive-pack report');
    this.startPush({ app: this.app, refUpdates, pushedBy: this.pushedBy }).then(this.resolve, (err: Error) => {
      this.log.warn({ err, app: this.app }, 'could not start the deploy from the receive-pack report; the hook hands the push over');
      this.resolve(undefined);
    });
  }

  private giveUp(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(undefined);
  }
}
