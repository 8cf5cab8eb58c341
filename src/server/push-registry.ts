/**
 * Who is pushing, by the pid of the git-receive-pack serving the push. node-git-server spawns
 * receive-pack with the server's environment, so the pusher cannot travel to the hook in env;
 * the hook (a child of receive-pack) sends its parent's pid over the hook socket instead, and the
 * same process that authenticated the push looks it up here.
 */
export class PushRegistry {
  private readonly pushers = new Map<number, string>();

  /** Called once receive-pack exists, before it can run the hook. */
  register(receivePackPid: number, pusher: string): void {
    this.pushers.set(receivePackPid, pusher);
  }

  /** Called when receive-pack exits: the kernel may give its pid to another process. */
  unregister(receivePackPid: number): void {
    this.pushers.delete(receivePackPid);
  }

  /** The pusher of the receive-pack process `pid`; undefined for a push that did not come over HTTP. */
  pusherOf(pid: number): string | undefined {
    return this.pushers.get(pid);
  }
}
