import type { Redis } from 'ioredis';
import { apacheSitesFromSettings } from '../apache/apache-sites';
import { AuditLog } from '../audit/audit-log';
import { establishedConnections } from '../deploy/tcp-connections';
import { createDockerEngine } from '../docker/docker-engine';
import { tryLockApp } from '../queue/app-lock';
import { readFileAtCommit } from '../git/bare-repo';
import { homePaths, repoPath, type Settings } from '../settings';
import { AppConfigStore } from './app-config-store';
import type { AppControlDeps } from './app-control';
import type { MachineControlDeps } from './machine-control';
import { ReleaseStore } from '../releases/release-store';
import { createHostControl } from '../cluster/host-access';

/** This server's own Docker Engine and Apache, for what stop, maintenance and removal do on it. */
export function machineControlDeps(settings: Settings): MachineControlDeps {
  return { docker: createDockerEngine(), apache: apacheSitesFromSettings(settings), connectionsOn: establishedConnections, stopGraceSeconds: settings.stopGraceSeconds };
}

/** The real adapters for stop and maintenance, locking apps and reaching other hosts through the deploy queue's Redis. */
export function createAppControlDeps(settings: Settings, redis: Redis, queueName: string): AppControlDeps {
  const paths = homePaths(settings.home);
  const releases = new ReleaseStore(paths.releases);
  return {
    ...machineControlDeps(settings),
    appConfigs: new AppConfigStore(paths.apps),
    audit: new AuditLog(paths.auditLog),
    readRepoFile: (app, sha, file) => readFileAtCommit(repoPath(settings.home, app), sha, file),
    liveSha: async (app) => (await releases.live(app))?.sha,
    // Another host's agent is reached through its queue on this same Redis (slipway's own user).
    hosts: createHostControl(redis),
    async withAppLock(app, fn) {
      // The deploys' own lock: a stop or a maintenance toggle never interleaves with a deploy's switch.
      const lock = await tryLockApp(redis, queueName, app);
      if (!lock) throw new Error(`a deploy of ${app} is running; try again when it has finished (slipway deploys ${app})`);
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    },
  };
}
