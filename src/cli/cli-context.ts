import { listAppNames } from '../git/bare-repo';
import { AppConfigStore } from '../apps/app-config-store';
import { appNameProblem } from '../names';
import { connectRedis } from '../queue/redis-connection';
import { openDeployQueue, type DeployQueue } from '../queue/deploy-queue';
import { ReleaseStore } from '../releases/release-store';
import { readRuntimeInfo } from '../runtime-file';
import { homePaths, readSettings, repoPath, type Settings } from '../settings';
import { promises as fs } from 'node:fs';
import type { Redis } from 'ioredis';
import type { AppControlDeps } from '../apps/app-control';
import { createAppControlDeps } from '../apps/app-control-deps';
import { AuditLog } from '../audit/audit-log';

/** What the operator commands share: settings, stores, and the queue of the running slipway. */
export interface CliContext {
  settings: Settings;
  releases: ReleaseStore;
  appConfigs: AppConfigStore;
  /** Runs `fn` with the running slipway's deploy queue (found through runtime.json). */
  withQueue<T>(fn: (queue: DeployQueue) => Promise<T>): Promise<T>;
  /** Runs `fn` with what stop and maintenance need (they lock the app through the running slipway's Redis). */
  withAppControl<T>(fn: (deps: AppControlDeps) => Promise<T>): Promise<T>;
  audit: AuditLog;
  /** Throws a plain-words error unless `app` is a valid name with a repo. */
  requireApp(app: string): Promise<void>;
  listApps(): Promise<string[]>;
  print(line: string): void;
}

export function openCliContext(): CliContext {
  const settings = readSettings();
  const paths = homePaths(settings.home);
  const withConnection = async <T>(fn: (queue: DeployQueue, connection: Redis, queueName: string) => Promise<T>): Promise<T> => {
    const runtime = await readRuntimeInfo(paths.runtimeFile);
    const target = settings.redisUrl ?? runtime?.redis;
    if (!target) throw new Error(`no running slipway found (no ${paths.runtimeFile}); start it with \`slipway up\``);
    const connection = connectRedis(target, { maxRetriesPerRequest: 3 });
    const queueName = runtime?.queueName ?? settings.queueName;
    const queue = openDeployQueue(queueName, connection);
    try {
      return await fn(queue, connection, queueName);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  };
  return {
    settings,
    releases: new ReleaseStore(paths.releases),
    appConfigs: new AppConfigStore(paths.apps),
    withQueue: (fn) => withConnection((queue) => fn(queue)),
    withAppControl: (fn) => withConnection((_queue, connection, queueName) => fn(createAppControlDeps(settings, connection, queueName))),
    audit: new AuditLog(paths.auditLog),
    async requireApp(app) {
      const problem = appNameProblem(app);
      if (problem) throw new Error(problem);
      try {
        await fs.access(repoPath(settings.home, app));
      } catch {
        throw new Error(`no app named "${app}" (push to http://…/${app}.git to create it)`);
      }
    },
    listApps: () => listAppNames(paths.repos),
    print: (line) => process.stdout.write(`${line}\n`),
  };
}

/** Formats rows as an aligned text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
