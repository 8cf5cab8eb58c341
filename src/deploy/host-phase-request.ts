import type { SiteSnapshot } from '../apache/apache-sites';
import type { AppSettings } from '../app-settings';
import type { AppConfig } from '../apps/app-config-store';
import type { DeployJobData } from '../queue/deploy-job';
import type { Procfile } from './procfile';
import type { ProbeReport } from './probe-stats';

/**
 * The part of a deploy one host runs for an app on several hosts (deploy/rollout-steps.ts), the
 * same steps a single-host deploy runs, on that host's Docker Engine and Apache:
 * - `prepare`: the image (pulled from the server's registry), the release phase (the app's first
 *   host only), the pending web containers, their health. Nothing serves them yet.
 * - `commit`: the Apache switch, the new workers (`scale.<type>` of each worker type, on this host),
 *   then the watch of web and of the workers (a failure there switches this host back itself and
 *   brings its previous workers back).
 * - `finish`: drain and stop the old web containers, stop the old workers, rename the new web
 *   containers and workers (every host committed), remove the app's images older than the last
 *   `SLIPWAY_KEEP_RELEASES` releases (as the server does).
 * - `revert`: traffic back on the old web containers (which still run), from the switch's snapshot
 *   when the server has it, else to whatever live containers run there; the new workers removed and
 *   the previous release's running again.
 * - `abort`: the pending web containers removed.
 * Each is safe to run twice: BullMQ may hand a host's job over again after its agent died. A host
 * needs nothing from the repo: the settings, the app's config and the Procfile come with the request.
 */
export type HostPhase = 'prepare' | 'commit' | 'finish' | 'revert' | 'abort';

/** The registry a host pulls the app image from, and the credentials it pulls with. */
export interface RegistryImage {
  endpoint: string;
  user: string;
  password: string;
  /** PEM of the CA the registry's certificate chains to (the cluster CA). */
  ca: string;
}

/** What the server sends a host for one phase (JSON in the host's queue). */
export interface HostPhaseRequest {
  phase: HostPhase;
  /** The server's deploy job id: pending containers of a re-run of the same deploy are adopted. */
  deployId: string;
  job: DeployJobData;
  appSettings: AppSettings;
  appConfig: AppConfig;
  procfile: Procfile;
  /** Every app of the server: which templates in the host's sites directory belong to which app. */
  apps: string[];
  /** Runs the Procfile's release command before the pending containers (the app's first host). */
  release?: boolean;
  /** Where the image comes from; absent on the server itself, which built it. */
  image?: RegistryImage;
  /** The pending containers' ports, from this host's prepare (commit, finish). */
  ports?: number[];
  /** The Apache site before this host's switch, from its commit (revert). */
  snapshot?: SiteSnapshot;
  /** The commits of the app's successful releases, newest first: the images a host keeps after a finish. */
  liveShas?: string[];
  /** Probe the app through the host's own Apache while the phase runs (commit, finish on another host). */
  probe?: boolean;
}

/** One web container of the app on a host (`slipway status`). */
export interface HostWebContainer {
  name: string;
  sha?: string;
  running: boolean;
  pending: boolean;
}

/** What a phase reports back. */
export interface HostPhaseResult {
  ports?: number[];
  /** When this host's Apache sent traffic to the new version (ms since the epoch). */
  switchedAt?: number;
  snapshot?: SiteSnapshot;
  /** What the probe through the host's Apache saw during the phase, when asked for. */
  probe?: ProbeReport;
}

/** How long a host's agent gets to take a phase. */
export interface HostBounds {
  /** The agent must take the job within this long, else the phase fails naming the host. */
  startWithinMs: number;
  /**
   * Leave a job the agent did not take queued (it runs when the agent is back: a `revert` or
   * `abort` must happen some time), instead of withdrawing it.
   */
  keepQueued?: boolean;
}

/** The server's way to the other hosts of an app on several hosts (cluster/host-access.ts). */
export interface HostsAccess {
  /** Runs a phase on host `host` (not `local`) through its agent; its lines reach `say` prefixed with the host. */
  run(host: string, request: HostPhaseRequest, say: (line: string) => void, bounds: HostBounds): Promise<HostPhaseResult>;
  /** Pushes the built `<app>:<sha>` to the server's registry: what the hosts pull with, and a line for the pusher. */
  publish(app: string, sha: string): Promise<{ image: RegistryImage; line: string }>;
}

/** Gets the image onto the host before anything starts; its undo takes the name off again. */
export interface ImageFetcher {
  /** Makes `<app>:<sha>` present on the host; returns a line for the pusher. */
  fetch(image: RegistryImage, app: string, sha: string): Promise<string>;
  remove(app: string, sha: string): Promise<void>;
}

/** A host whose agent did not take a phase in time, or stopped heartbeating while it ran one. */
export class HostUnreachableError extends Error {}
