import type { AppHostStatus } from '../cluster/app-host-status';
import type { AppControlDeps } from '../apps/app-control';
import { listAppNames } from '../git/bare-repo';
import { createDockerEngine, type DockerEngine } from '../docker/docker-engine';
import type { DeployQueue } from '../queue/deploy-queue';
import { DeployLogFiles } from '../releases/deploy-log-files';
import { ReleaseStore } from '../releases/release-store';
import { homePaths } from '../settings';

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
  /** Stop and maintenance (restart and start are deploys, queued like a rollback). */
  control: AppControlDeps;
  /** For a `tls: auto` app, its certificate in one line (undefined for other apps). */
  certificate(app: string): Promise<string | undefined>;
  /** For an app on several hosts, what each host runs, asked now (undefined for other apps). */
  hosts?(app: string): Promise<AppHostStatus[] | undefined>;
}

/** The real dependencies of the dashboard for a slipway home and an open deploy queue. */
export function dashboardDeps(home: string, token: string, queue: DeployQueue, control: AppControlDeps, certificate: DashboardDeps['certificate'] = async () => undefined): DashboardDeps {
  const paths = homePaths(home);
  return {
    home,
    token,
    queue,
    releases: new ReleaseStore(paths.releases),
    docker: createDockerEngine(),
    deployLogs: new DeployLogFiles(paths.deployLogs),
    listApps: () => listAppNames(paths.repos),
    control,
    certificate,
  };
}
