/**
 * Riding out a restart of the Docker Engine. While dockerd restarts (an upgrade of docker.io, a
 * crash, the OOM killer) its socket refuses connections or is gone; with `live-restore` the
 * containers keep running meanwhile. A deploy or reconcile that meets that waits for the Engine to
 * answer again instead of failing, and so never leaves a half-done step behind for want of Docker.
 */

/** The request never reached an Engine: the socket is missing or nobody listens on it. */
export function engineUnreachable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

/** The Engine went away while answering: the request may or may not have been carried out. */
export function engineDropped(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** How long to wait for the Engine, and whom to tell. */
export interface EngineWait {
  /** Longest wait for the Engine to answer again; 0: fail at once. */
  waitMs: number;
  /** Called once per outage, when the wait begins. */
  onWait?(reason: string): void;
  /** Between tries. */
  intervalMs?: number;
}

/**
 * Runs `op`, and while the Engine is unreachable runs it again (every `intervalMs`) until it
 * answers or `waitMs` passes. A request the Engine dropped half-way is tried again only when
 * `idempotent` (a read, a stop, a remove): creating a container twice is not the same as once.
 */
export async function untilEngineAnswers<T>(op: () => Promise<T>, wait: EngineWait, idempotent: boolean): Promise<T> {
  const deadline = Date.now() + wait.waitMs;
  let told = false;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      const retry = engineUnreachable(err) || (idempotent && engineDropped(err));
      if (!retry || Date.now() >= deadline) throw err;
      if (!told) {
        told = true;
        wait.onWait?.((err as NodeJS.ErrnoException).code ?? 'unreachable');
      }
      await new Promise((r) => setTimeout(r, wait.intervalMs ?? 500));
    }
  }
}
