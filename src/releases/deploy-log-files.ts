import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';

/**
 * One log file per deploy, `<dir>/<app>/<deploy id>.log`: what the pusher saw, kept after the
 * job leaves Redis, for `slipway deploys <app> <id>`.
 */
export class DeployLogFiles {
  constructor(private readonly dir: string) {}

  async open(app: string, deployId: string): Promise<{ write(line: string): void; close(): Promise<void> }> {
    await fs.mkdir(path.join(this.dir, app), { recursive: true, mode: 0o700 });
    const stream: WriteStream = createWriteStream(this.file(app, deployId), { flags: 'a', mode: 0o600 });
    return {
      write: (line) => {
        stream.write(`${line}\n`);
      },
      close: () => new Promise((resolve) => stream.end(() => resolve())),
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
