import { promises as fs } from 'node:fs';
import { createDockerEngine, type DockerEngine } from '../docker/docker-engine';
import type { DeployQueue } from '../queue/deploy-queue';
import { DeployLogFiles } from '../releases/deploy-log-files';
import { ReleaseStore } from '../releases/release-store';
import { homePaths } from '../settings';
import { containerStartedAt } from './container-started';

/** What the dashboard reads and drives; real adapters from `dashboardDeps`, fakes in tests. */
export interface DashboardDeps {
  home: string;
  /** The admin token: what the login form accepts. */
  token: string;
  queue: DeployQueue;
  releases: ReleaseStore;
  docker: DockerEngine;
  deployLogs: DeployLogFiles;
  listApps(): Promise<string[]>;
  /** When a container last started (ISO time), for its uptime; undefined when it does not exist. */
  containerStartedAt?(name: string): Promise<string | undefined>;
}

/** The real dependencies of the dashboard for a slipway home and an open deploy queue. */
export function dashboardDeps(home: string, token: string, queue: DeployQueue): DashboardDeps {
  const paths = homePaths(home);
  return {
    home,
    token,
    queue,
    releases: new ReleaseStore(paths.releases),
    docker: createDockerEngine(),
    deployLogs: new DeployLogFiles(paths.deployLogs),
    async listApps() {
      const entries = await fs.readdir(paths.repos).catch(() => [] as string[]);
      return entries.filter((e) => e.endsWith('.git')).map((e) => e.slice(0, -4)).sort();
    },
    containerStartedAt: (name) => containerStartedAt(name),
  };
}
