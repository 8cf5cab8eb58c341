import type { ApacheSites } from '../apache/apache-sites';
import { containerPort, listWebContainers } from '../deploy/web-containers';
import { workerContainers } from '../deploy/worker-plan';
import { LABEL, type ContainerInfo, type DockerEngine } from '../docker/docker-engine';
import { processSettings, type AppSettings } from '../app-settings';

/**
 * What stopping an app and toggling its maintenance page touch on one machine: the server's own
 * Docker Engine and Apache, or a host's (its agent runs the same functions for an app on several
 * hosts).
 */
export interface MachineControlDeps {
  docker: DockerEngine;
  apache: Pick<ApacheSites, 'route' | 'removeApp'>;
  /** Open connections to `port` (to let requests in flight finish before a stop). */
  connectionsOn(port: number): Promise<number>;
  /** SIGTERM → SIGKILL grace of a web container. */
  stopGraceSeconds: number;
}

/** What a maintenance toggle found and did on one machine. */
export interface MaintenanceOutcome {
  /** Ports of the app's running web containers (the route now points at the page, or at them again). */
  ports: number[];
  /** The app has web containers here, none of them running (stopped): nothing was routed. */
  stopped: boolean;
}

/** What a stop did on one machine. */
export interface StopOutcome {
  /** The app had containers here at all (web or worker). */
  hasContainers: boolean;
  /** Containers stopped, web first, with their ids (a stop by hand, for reconcile). */
  web: { name: string; id: string }[];
  workers: { name: string; id: string }[];
}

/** What removing an app took off one machine. */
export interface RemoveOutcome {
  containers: number;
  images: number;
}

/** Longest wait for the requests in flight when an app stops. */
const STOP_DRAIN_MS = 30_000;

/**
 * Points the app's route at its maintenance page (`on`) or back at its running web containers.
 * Only the port map changes (no reload). Turning it off where the app is stopped changes nothing:
 * the page stays until `slipway start`.
 */
export async function routeMaintenance(deps: MachineControlDeps, app: string, on: boolean): Promise<MaintenanceOutcome> {
  const { live } = await listWebContainers(deps.docker, app);
  const ports = live.filter((c) => c.running).flatMap((c) => containerPort(c) ?? []);
  const stopped = live.length > 0 && ports.length === 0;
  if (ports.length > 0) await deps.apache.route(app, { port: ports, maintenance: on });
  return { ports, stopped };
}

/**
 * Stops the app on this machine: Apache answers the maintenance page first, the requests in flight
 * finish, then its web containers and workers stop (stopped, not removed: `slipway start` brings
 * the release back). `beforeStop` gets the ids about to stop before any does.
 */
export async function stopOnMachine(
  deps: MachineControlDeps,
  app: string,
  options: { workerGraceSeconds(worker: ContainerInfo): Promise<number>; beforeStop(ids: string[]): Promise<void> },
): Promise<StopOutcome> {
  const { live } = await listWebContainers(deps.docker, app);
  const workers = workerContainers(await deps.docker.listSlipwayContainers(), app);
  const running = live.filter((c) => c.running);
  const runningWorkers = workers.filter((c) => c.running);
  const outcome: StopOutcome = { hasContainers: live.length + workers.length > 0, web: [], workers: [] };
  if (running.length + runningWorkers.length === 0) return outcome;
  const ports = running.flatMap((c) => containerPort(c) ?? []);
  if (ports.length > 0) {
    await deps.apache.route(app, { port: ports, maintenance: true });
    const inFlight = async () => (await Promise.all(ports.map((port) => deps.connectionsOn(port)))).reduce((a, b) => a + b, 0);
    const deadline = Date.now() + STOP_DRAIN_MS;
    while ((await inFlight()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
  await options.beforeStop([...running, ...runningWorkers].map((c) => c.id));
  await Promise.all(running.map((c) => deps.docker.stopContainer(c.name, deps.stopGraceSeconds)));
  await Promise.all(runningWorkers.map(async (c) => deps.docker.stopContainer(c.name, await options.workerGraceSeconds(c))));
  const named = (c: ContainerInfo) => ({ name: c.name, id: c.id });
  return { ...outcome, web: running.map(named), workers: runningWorkers.map(named).sort((a, b) => a.name.localeCompare(b.name)) };
}

/**
 * Takes the app off this machine: its containers (running or not), its images, and what slipway
 * rendered for it in Apache (a reload only when one of its own vhosts goes). `otherApps` tells
 * which templates in the sites directory belong to other apps. Safe to run twice.
 */
export async function removeFromMachine(deps: MachineControlDeps, app: string, otherApps: string[]): Promise<RemoveOutcome> {
  const containers = (await deps.docker.listSlipwayContainers()).filter((c) => c.labels[LABEL.app] === app);
  for (const c of containers) await deps.docker.removeContainer(c.name);
  const images = await deps.docker.listAppImages(app);
  for (const image of images) await deps.docker.removeImage(image.id);
  await deps.apache.removeApp(app, otherApps);
  return { containers: containers.length, images: images.length };
}

/** A worker type's stop_grace in `settings` (slipway.json at its release); `fallback` when that could not be read. */
export function graceOf(settings: AppSettings | undefined, type: string, fallback: number): number {
  return settings ? processSettings(settings, type).stopGraceSeconds : fallback;
}

/** What the server asks another host's agent to do of a stop or a maintenance toggle. */
export type HostControlRequest = { app: string; action: 'maintenance'; on: boolean } | { app: string; action: 'stop'; settings?: AppSettings } | { app: string; action: 'remove'; otherApps: string[] };

/** Runs a host control request on this host's machine (the agent). Nothing here restarts a stopped container, so there is nothing to record before the stop. */
export function runHostControl(deps: MachineControlDeps, request: HostControlRequest): Promise<MaintenanceOutcome | StopOutcome | RemoveOutcome> {
  if (request.action === 'maintenance') return routeMaintenance(deps, request.app, request.on);
  if (request.action === 'remove') return removeFromMachine(deps, request.app, request.otherApps);
  return stopOnMachine(deps, request.app, {
    workerGraceSeconds: (worker) => Promise.resolve(graceOf(request.settings, worker.labels[LABEL.process] ?? '', deps.stopGraceSeconds)),
    beforeStop: () => Promise.resolve(),
  });
}
