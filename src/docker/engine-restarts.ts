import type Docker from 'dockerode';
import { engineUnreachable } from './engine-wait';

/** What a watch on the Engine reports. */
export interface EngineRestartEvents {
  /** The Engine stopped answering (its event stream broke). */
  lost(reason: string): void;
  /** It answers again after being lost; resolves when whatever follows a restart is done. */
  back(): Promise<void>;
}

/**
 * Watches the Docker Engine for restarts: holds its event stream open (filtered to daemon events,
 * which are rare), and when the stream breaks (dockerd stopped, crashed or restarted) pings it
 * every `intervalMs` until it answers, then calls `back`. Returns a function that stops watching.
 */
export function watchEngineRestarts(docker: Docker, events: EngineRestartEvents, intervalMs = 1000): () => void {
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

  const follow = async (): Promise<void> => {
    while (!stopped) {
      const broke = await new Promise<string>((resolve) => {
        docker.getEvents({ filters: { type: ['daemon'] } }).then(
          (stream) => {
            current = stream;
            stream.on('data', () => undefined);
            stream.once('end', () => resolve('its event stream ended'));
            stream.once('error', (err: Error) => resolve(err.message));
          },
          (err: NodeJS.ErrnoException) => resolve(engineUnreachable(err) ? `${err.code ?? 'unreachable'}` : err.message),
        );
      });
      current = undefined;
      if (stopped) return;
      events.lost(broke);
      while (
        !stopped &&
        !(await docker.ping().then(
          () => true,
          () => false,
        ))
      )
        await sleep(intervalMs);
      if (stopped) return;
      await events.back();
      // Never a busy loop, whatever the Engine does with its event stream.
      await sleep(intervalMs);
    }
  };
  void follow();
  return () => {
    stopped = true;
    (current as { destroy?: () => void } | undefined)?.destroy?.();
  };
}
