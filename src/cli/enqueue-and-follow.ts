import { cliActor } from '../audit/audit-log';
import { colorizeDeployLine } from '../queue/deploy-line-colors';
import { enqueueDeploy, followJob } from '../queue/deploy-queue';
import type { DeployJobData } from '../queue/deploy-job';
import type { CliContext } from './cli-context';

/** Queues a deploy from the CLI and prints its log live, as a push would; returns the exit code. */
export async function enqueueAndFollow(ctx: CliContext, data: Omit<DeployJobData, 'pushedBy' | 'pushedAt'>): Promise<number> {
  return ctx.withQueue(async (queue) => {
    const job = await enqueueDeploy(queue, { ...data, pushedBy: cliActor(), pushedAt: new Date().toISOString() });
    ctx.print(`-----> ${data.note ?? 'Deploying'}: ${data.app} ${data.sha.slice(0, 7)}, job ${job.id}`);
    const print = process.stdout.isTTY ? (line: string) => ctx.print(colorizeDeployLine(line)) : ctx.print;
    const result = await followJob(queue, job.id as string, print, {
      onWaiting: (why) => ctx.print(why === 'app-busy' ? '       queued behind the running deploy of this app' : '       waiting for a worker…'),
    });
    return result.ok ? 0 : 1;
  });
}
