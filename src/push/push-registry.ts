import type { StartedPush } from './push-handler';

/** What the git server knows of an HTTP push, by its receive-pack. */
interface HttpPush {
  pusher: string;
  /** The deploy started from receive-pack's report; undefined when it was not tried. */
  earlyStart?: Promise<StartedPush | undefined>;
}

/**
 * HTTP pushes by the pid of the git-receive-pack serving them. node-git-server spawns
 * receive-pack with the server's environment, so nothing about the push can travel to the hook in
 * env; the hook (a child of receive-pack) sends its parent's pid over the hook socket instead, and
 * the same process that authenticated the push looks it up here.
 */
export class PushRegistry {
  private readonly pushes = new Map<number, HttpPush>();

  /** Called once receive-pack exists, before it can run the hook. */
  register(receivePackPid: number, pusher: string, earlyStart?: Promise<StartedPush | undefined>): void {
    this.pushes.set(receivePackPid, { pusher, earlyStart });
  }

  /** Called when receive-pack exits: the kernel may give its pid to another process. */
  unregister(receivePackPid: number): void {
    this.pushes.delete(receivePackPid);
  }

  /** The pusher of the receive-pack process `pid`; undefined for a push that did not come over HTTP. */
  pusherOf(pid: number): string | undefined {
    return this.pushes.get(pid)?.pusher;
  }

  /**
   * The deploy the git server started for this push before its hook connected; it resolves to
   * undefined when it could not, and the hook's request is handled as usual.
   */
  earlyStartOf(pid: number): Promise<StartedPush | undefined> | undefined {
    return this.pushes.get(pid)?.earlyStart;
  }
}
