import type { StartedPush } from './push-handler';

/** What the server knows of a push it serves (HTTP) or an ssh entry announced, by its receive-pack. */
interface KnownPush {
  pusher: string;
  /** The deploy started from receive-pack's report; undefined when it was not tried. */
  earlyStart?: Promise<StartedPush | undefined>;
  /** Refs to report as rejected, with the reason; the report is held until the deploy ends. */
  rejected: Map<string, string>;
}

/**
 * Pushes by the pid of the git-receive-pack serving them. node-git-server spawns receive-pack
 * with the server's environment, so nothing about the push can travel to the hook in env; the
 * hook (a child of receive-pack) sends its parent's pid over the hook socket instead, and the
 * server looks the push up here. Every push registered here has its report-status held back by
 * whoever registered it (the HTTP server, or the ssh entry over the hook socket), so a failed
 * deploy can be reported as a rejected ref (see git/held-report.ts).
 */
export class PushRegistry {
  private readonly pushes = new Map<number, KnownPush>();

  /** Called once receive-pack exists, before it can run the hook. */
  register(receivePackPid: number, pusher: string, earlyStart?: Promise<StartedPush | undefined>): void {
    this.pushes.set(receivePackPid, { pusher, earlyStart, rejected: new Map() });
  }

  /** Called when receive-pack exits: the kernel may give its pid to another process. */
  unregister(receivePackPid: number): void {
    this.pushes.delete(receivePackPid);
  }

  /** The pusher of the receive-pack process `pid`; undefined for a push nobody registered (git's file transport, ssh without slipway's entry). */
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

  /** True when the push's report is held, so a ref can still be reported as rejected. */
  holdsReport(pid: number): boolean {
    return this.pushes.has(pid);
  }

  /** Reports `ref` of the push as rejected with `reason` when its report is released. */
  reject(pid: number, ref: string, reason: string): void {
    this.pushes.get(pid)?.rejected.set(ref, reason);
  }

  /** The refs of the push to report as rejected (none for an unknown push). */
  rejectionsOf(pid: number): Map<string, string> {
    return new Map(this.pushes.get(pid)?.rejected);
  }
}
