/**
 * The load generator in a worker thread of its own. Requests are timed from their slot, so any
 * pause of the thread that sends them counts as latency; on the benchmark's main thread every
 * `git push`, `docker build` and `docker run` it spawns (a fork holds the event loop for several
 * ms on a small VM) and every sampling of the machine would show up as the server being slow.
 * The worker shares the clock (clock.ts reads the same monotonic source in every thread).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadOptions, RunningLoad, Sample } from './load-generator';

/** What the worker posts: finished samples, and once stopped, `stopped`. */
export interface LoadThreadMessage {
  samples: Sample[];
  inFlight: number;
  stopped?: boolean;
}

/** How often the worker hands over the samples finished since its last message. */
export const REPORT_INTERVAL_MS = 200;

const WORKER_FILE = path.join(__dirname, 'load-thread-worker.ts');

/** Like startLoad (load-generator.ts), with the requests sent from a worker thread. */
export function startLoadInThread(options: LoadOptions): RunningLoad {
  // The bench runs under tsx; a worker thread needs its TypeScript loader registered again.
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER_FILE)});`, { eval: true, workerData: options });
  const samples: Sample[] = [];
  let inFlight = 0;
  let failure: Error | undefined;
  const stopped = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: LoadThreadMessage) => {
      samples.push(...message.samples);
      inFlight = message.inFlight;
      if (message.stopped) resolve();
    });
    worker.once('error', (err) => {
      failure = err;
      reject(err);
    });
    worker.once('exit', (code) => reject(failure ?? new Error(`load thread exited with code ${code} before it was stopped`)));
  });
  stopped.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    samples,
    inFlight: () => inFlight,
    stop() {
      stopping ??= (async () => {
        if (failure) throw failure;
        worker.postMessage('stop');
        await stopped;
        await worker.terminate();
      })();
      return stopping;
    },
  };
}
