/** The worker side of load-thread.ts: runs the load and reports its samples in batches. */
import { parentPort, workerData } from 'node:worker_threads';
import { startLoad, type LoadOptions } from './load-generator';
import { REPORT_INTERVAL_MS, type LoadThreadMessage } from './load-thread';

const port = parentPort;
if (!port) throw new Error('load-thread-worker.ts runs only as a worker thread');
const load = startLoad(workerData as LoadOptions);
let reported = 0;
const report = (stopped?: boolean): void => {
  const message: LoadThreadMessage = { samples: load.samples.slice(reported), inFlight: load.inFlight(), stopped };
  reported = load.samples.length;
  port.postMessage(message);
};
const timer = setInterval(() => report(), REPORT_INTERVAL_MS);
port.once('message', () => {
  clearInterval(timer);
  void load.stop().then(() => report(true));
});
