import type { ApacheSites, SiteSnapshot } from '../apache/apache-sites';
import type { AppSettings } from '../app-settings';
import type { AppConfig } from '../apps/app-config-store';
import type { DeployEvent } from '../notify/deploy-event';
import type { ReleaseRecord } from '../releases/release-store';
import type { DockerEngine } from '../docker/docker-engine';
import type { DeployJobData } from '../queue/deploy-job';
import type { AcmeSettings } from '../settings';
import type { RunningProbe } from './deploy-probe';
import type { DeployPlan } from './deploy-plan';
import type { Procfile } from './procfile';
import type { HostPhaseResult, HostsAccess, RegistryImage } from './host-phase-request';

/** The machinery a deploy talks to; real adapters in production, fakes in unit tests. */
export interface DeployDeps {
  docker: DockerEngine;
  apache: ApacheSites;
  isPortFree(port: number): Promise<boolean>;
  /** Reads a file of the pushed commit (undefined when absent). */
  readRepoFile(app: string, sha: string, file: string): Promise<string | undefined>;
  /** Brings the app's build work tree (kept between deploys) to the commit and returns its path. */
  checkout(app: string, sha: string): Promise<string>;
  /** Lets the next checkout of the app's work tree compare files by stat, not content; never fails. */
  settleCheckout(app: string): Promise<void>;
  /** Names of every app that has a repo (to keep template ownership apart). */
  listApps(): Promise<string[]>;
  /** How many connections the process listening on `port` is serving (to drain the old version). */
  connectionsOn(port: number): Promise<number>;
  /** Asks Apache for `path` with `host` (as a visitor would): undefined when it answers, else why not. */
  apacheAnswers(host: string, path: string): Promise<string | undefined>;
  /** Starts the built-in probe through Apache (over HTTPS for a `tls: auto` app). */
  startProbe(target: { host: string; path: string; https: boolean }): RunningProbe;
  /** One line on the certificate mod_md manages for `domain` (its state, or why it is unknown). */
  describeCertificate(domain: string): Promise<string>;
  /** The operator's server-side config of the app (env, domain override). */
  readAppConfig(app: string): Promise<AppConfig>;
  /** Records a successful release as an annotated git tag in the app's repo. */
  tagRelease(release: ReleaseRecord): Promise<void>;
  /** Tells the app's webhooks; returns at once (delivery and retries happen in the background). */
  notify(event: DeployEvent): void;
  /** The other hosts of apps on several hosts; undefined when this server has none set up. */
  hosts?: HostsAccess;
}

/** Server settings a deploy needs. */
export interface DeployConfig {
  portRange: { first: number; last: number };
  stopGraceSeconds: number;
  keepReleases: number;
  /** Public URLs are https:// (TLS configured for the default template). */
  https: boolean;
  /** mod_md's settings: a `tls: auto` app is refused at the settings step when they cannot work. */
  acme: AcmeSettings;
  /** How long Apache gets to answer after the switch; default APACHE_ANSWER_WAIT_MS (unit tests shorten it). */
  apacheAnswerWaitMs?: number;
}

/** Everything one deploy knows; steps fill in the `state` part as they go. */
export interface DeployContext {
  job: DeployJobData;
  /** This deploy's id (the job id): a re-run after a crash has the same one. */
  deployId: string;
  deps: DeployDeps;
  config: DeployConfig;
  /** Adds a line to the deploy's log (what the pusher sees). */
  say(line: string): void;
  /** The commits of the app's successful releases, newest first (image retention on other hosts). */
  liveShas(): Promise<string[]>;
  /** Writes this deploy's release record (created on the first call, updated after). */
  recordRelease(patch: Pick<ReleaseRecord, 'result'> & { reason?: string }): Promise<ReleaseRecord>;
  state: {
    appSettings?: AppSettings;
    appConfig?: AppConfig;
    /** The Procfile at the pushed commit (empty when there is none). */
    procfile?: Procfile;
    /** What this deploy does with web and with workers (deploy-plan.ts), decided after the Procfile is read. */
    plan?: DeployPlan;
    /** The new web containers' ports, replica 1 first (one per `scale.web`). */
    ports?: number[];
    /** The names mod_md certifies, for a `tls: auto` app. */
    tlsNames?: string[];
    siteSnapshot?: SiteSnapshot;
    /** When traffic went to the new version (ms since epoch). */
    switchedAt?: number;
    /** When this deploy's new worker containers were all up (ms since epoch); unset when it runs none. */
    workersStartedAt?: number;
    /** The image a rebuild took `<app>:<sha>` from; removed after a successful deploy if unused. */
    replacedImageId?: string;
    /** An app on several hosts: the registry its hosts pull the image from (the `publish` step). */
    image?: RegistryImage;
    /** An app on several hosts: what each host's phases reported, by host (rollout-steps.ts). */
    hosts?: Record<string, HostPhaseResult & { committed?: boolean }>;
    /** An app on several hosts: hosts left out because they did not answer (`rollout.skip_unreachable`). */
    skippedHosts?: string[];
  };
}

/** The public host name: the operator's override, else slipway.json's, else `<app>.localhost`. */
export function publicDomain(app: string, settings: AppSettings, config: AppConfig | undefined): string {
  return config?.domain ?? settings.domain ?? `${app}.localhost`;
}

/** Image tags of an app's commit. */
export function imageTags(app: string, sha: string): { commit: string; latest: string } {
  return { commit: `${app}:${sha}`, latest: `${app}:latest` };
}

/**
 * The app's environment in every container of it (web, release, `slipway run`): slipway.json's
 * env, overridden by the operator's (env:set). Values are never printed.
 */
export function appEnv(settings: AppSettings, config: AppConfig | undefined): Record<string, string> {
  return { ...settings.env, ...config?.env };
}
