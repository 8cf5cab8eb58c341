import type { ApacheSites, SiteSnapshot } from '../apache/apache-sites';
import type { AppSettings } from '../app-settings';
import type { ContainerInfo, DockerEngine } from '../docker/docker-engine';
import type { DeployJobData } from '../queue/deploy-job';

/** The machinery a deploy talks to; real adapters in production, fakes in unit tests. */
export interface DeployDeps {
  docker: DockerEngine;
  apache: ApacheSites;
  isPortFree(port: number): Promise<boolean>;
  /** Reads a file of the pushed commit (undefined when absent). */
  readRepoFile(app: string, sha: string, file: string): Promise<string | undefined>;
  /** Checks the commit out into a fresh build directory and returns it. */
  checkout(app: string, sha: string): Promise<string>;
  /** Removes a build directory made by `checkout`. */
  discardCheckout(dir: string): Promise<void>;
  /** Names of every app that has a repo (to keep template ownership apart). */
  listApps(): Promise<string[]>;
}

/** Server settings a deploy needs. */
export interface DeployConfig {
  portRange: { first: number; last: number };
  stopGraceSeconds: number;
}

/** Everything one deploy knows; steps fill in the `state` part as they go. */
export interface DeployContext {
  job: DeployJobData;
  deps: DeployDeps;
  config: DeployConfig;
  /** Adds a line to the deploy's log (what the pusher sees). */
  say(line: string): void;
  state: {
    appSettings?: AppSettings;
    /** The container serving before this deploy, if one was running. */
    previous?: ContainerInfo;
    port?: number;
    siteSnapshot?: SiteSnapshot;
  };
}

/** Container names of an app. */
export function containerNames(app: string): { live: string; pending: string } {
  return { live: app, pending: `${app}-pending` };
}

/** Image tags of an app's commit. */
export function imageTags(app: string, sha: string): { commit: string; latest: string } {
  return { commit: `${app}:${sha}`, latest: `${app}:latest` };
}
