import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import { explainWriteError } from '../disk-full';

/**
 * One log file per deploy, `<dir>/<app>/<deploy id>.log`: what the pusher saw, kept after the
 * job leaves Redis, for `slipway deploys <app> <id>`.
 */
export class DeployLogFiles {
  constructor(private readonly dir: string) {}

  /**
   * Opens the deploy's log for appending. A write that fails (a full disk) never fails the deploy:
   * the pusher still gets every line (they travel through Redis); `onError` hears of it once and
   * the file gets nothing more.
   */
  async open(app: string, deployId: string, onError: (err: Error) => void = () => undefined): Promise<{ write(line: string): void; close(): Promise<void> }> {
    const file = this.file(app, deployId);
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      onError(explainWriteError(file, err) as Error);
    };
    try {
      await fs.mkdir(path.join(this.dir, app), { recursive: true, mode: 0o700 });
    } catch (err) {
      fail(err);
    }
    const stream: WriteStream | undefined = failed ? undefined : createWriteStream(file, { flags: 'a', mode: 0o600 });
    stream?.on('error', fail);
    return {
      write: (line) => {
        if (!failed) stream?.write(`${line}\n`);
      },
      // 'close' follows both a finished and a failed stream (autoClose), so this never hangs.
      close: () =>
        new Promise((resolve) => {
          if (!stream || stream.destroyed) return resolve();
          stream.once('close', () => resolve());
          stream.end();
        }),
    };
  }

  /** Deploy ids of an app, oldest first (ids carry their enqueue time). */
  async list(app: string): Promise<string[]> {
    const files = await fs.readdir(path.join(this.dir, app)).catch(() => [] as string[]);
    const ids = files.filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4));
    return ids.sort((a, b) => Number(a.split('-').at(-1)) - Number(b.split('-').at(-1)));
  }

  async read(app: string, deployId: string): Promise<string | undefined> {
    if (!/^[A-Za-z0-9-]+$/.test(deployId)) return undefined;
    return fs.readFile(this.file(app, deployId), 'utf8').catch(() => undefined);
  }

  private file(app: string, deployId: string): string {
    return path.join(this.dir, app, `${deployId}.log`);
  }
}
