import type { AppConfig } from '../apps/app-config-store';
import { LABEL, type ContainerInfo, type DockerEngine } from '../docker/docker-engine';

/**
 * Names of an app's web containers (its replicas behind Apache). Replica 1 keeps the name every
 * earlier slipway gave the one web container, `<app>` (`<app>-pending` while it deploys), so an
 * upgraded installation's live container needs no takeover; replica n ≥ 2 is `<app>-web-<n>`
 * (`<app>-pending-<n>`). `docker ps` then reads `shop`, `shop-web-2`, `shop-web-3`.
 */
export function webContainerName(app: string, replica: number): string {
  return replica === 1 ? app : `${app}-web-${replica}`;
}

/** The name of web replica `replica` while its deploy has not promoted it yet. */
export function pendingWebName(app: string, replica: number): string {
  return replica === 1 ? `${app}-pending` : `${app}-pending-${replica}`;
}

/** How many web containers the app runs: `scale.web` of its server-side config, one when unset. */
export function webReplicas(config: AppConfig | undefined): number {
  return config?.scale?.web ?? 1;
}

/** An app's web containers as Docker lists them now, each list in replica order. */
export interface WebContainers {
  /** Serving (or stopped) replicas: `<app>`, `<app>-web-<n>`. */
  live: ContainerInfo[];
  /** Replicas a deploy started and has not promoted: `<app>-pending`, `<app>-pending-<n>`. */
  pending: ContainerInfo[];
}

/**
 * Lists the app's web containers, whatever the scale is now (a scale-down leaves higher replicas
 * for the next deploy to retire). Only containers labelled as the app's count: another app whose
 * name happens to look like `<app>-web-2` is not this app's replica.
 */
export async function listWebContainers(docker: DockerEngine, app: string): Promise<WebContainers> {
  const mine = (await docker.listSlipwayContainers()).filter((c) => c.labels[LABEL.app] === app);
  const pick = (replicaOf: (name: string) => number | undefined) =>
    mine
      .map((c) => ({ c, replica: replicaOf(c.name) }))
      .filter((x): x is { c: ContainerInfo; replica: number } => x.replica !== undefined)
      .sort((a, b) => a.replica - b.replica)
      .map((x) => x.c);
  return { live: pick((name) => replicaNumber(app, name, 'web')), pending: pick((name) => replicaNumber(app, name, 'pending')) };
}

/** The replica number `name` has as one of `app`'s live (`web`) or pending web containers, else undefined. */
export function replicaNumber(app: string, name: string, kind: 'web' | 'pending'): number | undefined {
  const first = kind === 'web' ? app : `${app}-pending`;
  if (name === first) return 1;
  const prefix = kind === 'web' ? `${app}-web-` : `${app}-pending-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^[1-9][0-9]{0,3}$/.test(rest) && Number(rest) >= 2 ? Number(rest) : undefined;
}

/** The port a slipway container was started on (its label), or undefined. */
export function containerPort(container: ContainerInfo): number | undefined {
  const port = Number(container.labels[LABEL.port]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}
