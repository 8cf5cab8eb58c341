import { describe, expect, it } from 'vitest';
import { followJob, type DeployQueue } from '../../src/queue/deploy-queue';

/** A queue whose one job runs forever, logging one line, and counts how often it is asked. */
function endlessJobQueue() {
  const counter = { calls: 0 };
  const queue = {
    async getJobLogs(_id: string, start: number) {
      counter.calls++;
      return { logs: start === 0 ? ['-----> Building'] : [], count: 1 };
    },
    async getJobState() {
      counter.calls++;
      return 'active';
    },
  } as unknown as DeployQueue;
  return { queue, counter };
}

describe('following a deploy job', () => {
  it('stops polling at once when its signal aborts; the job is left alone', async () => {
    const { queue, counter } = endlessJobQueue();
    const lines: string[] = [];
    const stop = new AbortController();
    const following = followJob(queue, 'job-1', (line) => lines.push(line), { pollMs: 20, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    await expect(following).rejects.toMatchObject({ name: 'AbortError' });
    const callsAtAbort = counter.calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(counter.calls).toBe(callsAtAbort);
    expect(lines).toEqual(['-----> Building']);
  });
});
