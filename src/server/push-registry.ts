import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Tells the post-receive hook who pushed. node-git-server spawns git-receive-pack with the
 * server's environment, so the pusher cannot travel in env; instead, once the receive-pack
 * process exists, `<dir>/<pid>` holds the token name, and the hook (a child of that process)
 * reads `<dir>/<its parent pid>`. The file is removed when receive-pack exits.
 */
export class PushRegistry {
  constructor(private readonly dir: string) {}

  async register(receivePackPid: number, pusher: string): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.writeFile(this.file(receivePackPid), pusher, { mode: 0o600 });
  }

  async unregister(receivePackPid: number): Promise<void> {
    await fs.rm(this.file(receivePackPid), { force: true });
  }

  /** The pusher of the receive-pack process `pid`, from the hook's side. */
  async pusherOf(pid: number): Promise<string | undefined> {
    return fs.readFile(this.file(pid), 'utf8').catch(() => undefined);
  }

  private file(pid: number): string {
    return path.join(this.dir, String(pid));
  }
}
