import type { AppSettings } from '../app-settings';
import type { AppConfig } from '../apps/app-config-store';
import { LABEL, type ContainerInfo, type ContainerSpec } from '../docker/docker-engine';
import { appEnv, imageTags } from './deploy-context';
import { shellCommand, type Procfile } from './procfile';

/*
 * Worker containers (every Procfile process type other than release and web), as pure functions:
 * their names, how many of each a release runs, and the spec each one starts from. The steps that
 * run them are in worker-steps.ts.
 *
 * Naming: a live worker is `<app>-<type>-<n>` (shop-worker-1), so `docker ps` reads well. A deploy
 * starts the new ones as `<app>-<type>-<n>-next` beside the old ones and renames them once the old
 * ones are gone (the same dance as the web container's `<app>-pending`).
 */

/** Suffix of a worker container started by a deploy that has not finished yet. */
const NEXT = '-next';

/** The live name of worker `n` (from 1) of `type`. */
export function workerName(app: string, type: string, n: number): string {
  return `${app}-${type}-${n}`;
}

/** The name worker `n` of `type` starts under during a deploy. */
export function nextWorkerName(app: string, type: string, n: number): string {
  return `${workerName(app, type, n)}${NEXT}`;
}

/** One worker container a release runs. */
export interface PlannedWorker {
  type: string;
  index: number;
  command: string;
}

/**
 * How many containers of each worker type the release runs: one per Procfile worker line, times
 * the app's scale (`slipway ps:scale`; a type not named runs one, 0 runs none). Sorted by type.
 */
export function plannedWorkers(procfile: Procfile, scale: AppConfig['scale']): PlannedWorker[] {
  return Object.keys(procfile.workers)
    .sort()
    .flatMap((type) => Array.from({ length: scale?.[type] ?? 1 }, (_, i) => ({ type, index: i + 1, command: procfile.workers[type] })));
}

/**
 * The container spec of a worker: the release's image and the app's env and volumes like web, no
 * port (no `PORT` in its env, no port label), its Procfile command run by the image's `/bin/sh -c`.
 * The engine runs it with `--net=host` and restart `unless-stopped`, as it does web.
 */
export function workerSpec(worker: PlannedWorker, release: { app: string; sha: string; deployId: string }, settings: AppSettings, config: AppConfig | undefined): ContainerSpec {
  return {
    name: nextWorkerName(release.app, worker.type, worker.index),
    image: imageTags(release.app, release.sha).commit,
    env: appEnv(settings, config),
    labels: {
      [LABEL.app]: release.app,
      [LABEL.sha]: release.sha,
      [LABEL.deploy]: release.deployId,
      [LABEL.process]: worker.type,
      [LABEL.index]: String(worker.index),
    },
    volumes: settings.volumes,
    cmd: shellCommand(worker.command),
  };
}

/** The argv `docker exec` runs for a type's `processes.<type>.healthcheck` command. */
export function healthcheckCommand(command: string): string[] {
  return shellCommand(command);
}

/** Worker containers of `app` among `containers` (web, one-off and other apps' containers left out). */
export function workerContainers(containers: ContainerInfo[], app: string): ContainerInfo[] {
  return containers.filter((c) => c.labels[LABEL.app] === app && c.labels[LABEL.process] !== undefined && c.labels[LABEL.process] !== 'web' && c.labels[LABEL.oneOff] === undefined);
}

/** A worker started by a deploy that has not been promoted yet. */
export function isNextWorker(container: ContainerInfo): boolean {
  return container.name.endsWith(NEXT);
}

/** The live name a `-next` worker is renamed to. */
export function promotedName(container: ContainerInfo): string {
  return container.name.slice(0, -NEXT.length);
}
