import { promises as fs } from 'node:fs';
import path from 'node:path';
import { imageTags } from '../deploy/deploy-context';
import { runDockerCli, type CliResult } from '../docker/docker-cli';
import {
  imageIdCommand,
  loadCommand,
  loginCommand,
  pullCommand,
  pulledLayerIds,
  pushCommand,
  registryReference,
  saveCommand,
  tagCommand,
  untagCommand,
  type CliTarget,
  type DockerCommand,
} from '../docker/image-commands';
import { readManifest, type ImageManifest, type RegistryAccess } from '../docker/registry-api';
import { streamImageBetweenEngines } from '../docker/image-stream';
import type { ImageTransport } from '../settings';
import type { ImageRegistry } from './image-registry';

/**
 * Getting an app image built on the server's Docker Engine onto another host's Engine, under the
 * name the deploy steps run (`<app>:<sha>`, deploy/deploy-context.ts `imageTags`).
 *
 * - `registry` (the default of SLIPWAY_IMAGE_TRANSPORT): {@link publishImage} once on the server
 *   after the build (`docker push <registry>/<app>:<sha>`: the Engine uploads only the layers the
 *   registry lacks), then {@link fetchImage} on each host (`docker pull`: only the layers that host
 *   lacks travel), after {@link loginToRegistry} on that host.
 * - `save-load`: {@link streamImage}, `docker save` on the server streamed into `docker load` on
 *   the host: the whole image every time, but no registry to run.
 *
 * Every operation is safe to run twice (an image already there is not moved again) and reports
 * the bytes it moved and the time it took. {@link removeFetchedImage} is the undo of a fetch.
 */

/** One Engine and the docker CLI that talks to it, with slipway's private DOCKER_CONFIG. */
export type EngineCli = CliTarget;

/** What moving an image did. */
export interface TransportResult {
  /** The image was there already: nothing moved. */
  skipped: boolean;
  /**
   * Bytes that travelled: for a push, the blobs the registry did not have (compressed layers and
   * the image config); for a pull, the layers the Engine downloaded plus the config; for
   * save-load, the tar streamed.
   */
  bytes: number;
  /** Wall time in ms. */
  ms: number;
}

/** Thrown when moving an image fails; the message names the registry or Engine and what it said. */
export class ImageTransportError extends Error {}

/** A push or pull can move hundreds of MB: generous, but never forever. */
const TRANSFER_TIMEOUT_MS = 30 * 60_000;
const QUICK_TIMEOUT_MS = 60_000;

/**
 * Logs the docker CLI of `engine` in to the registry (`docker login --password-stdin` into its
 * private DOCKER_CONFIG). The Engine itself checks the credentials against the registry, over TLS
 * verified by its certs.d: a refusal names the registry and what it said.
 */
export async function loginToRegistry(engine: EngineCli, registry: Pick<ImageRegistry, 'endpoint' | 'user' | 'password'>): Promise<void> {
  await fs.mkdir(engine.dockerConfigDir, { recursive: true, mode: 0o700 });
  const result = await runDockerCli(loginCommand(engine, registry.endpoint, registry.user), { stdin: registry.password, timeoutMs: QUICK_TIMEOUT_MS });
  if (result.code !== 0) throw new ImageTransportError(`logging in to the image registry at ${registry.endpoint} as ${registry.user} failed: ${cliWords(result)}`);
}

/**
 * Pushes `<app>:<sha>` from the server's Engine to the registry as `<registry>/<app>:<sha>`. Skipped
 * when the registry already holds that tag for this very image (same config digest = same image
 * id). The registry name is only a moment's tag on the server: it is removed after the push.
 */
export async function publishImage(server: EngineCli, registry: ImageRegistry, app: string, sha: string): Promise<TransportResult> {
  const started = performance.now();
  const local = imageTags(app, sha).commit;
  const imageId = await imageIdOn(server, local);
  if (imageId === undefined) throw new ImageTransportError(`cannot publish ${local}: the server's Engine has no such image`);
  const access = registryAccess(registry);
  if ((await readManifest(access, app, sha))?.config.digest === imageId) return { skipped: true, bytes: 0, ms: performance.now() - started };

  const before = await blobDigests(registry.storageDir);
  const reference = registryReference(registry.endpoint, app, sha);
  await mustRun(tagCommand(server, local, reference), QUICK_TIMEOUT_MS, `docker tag ${local} ${reference}`);
  try {
    await mustRun(pushCommand(server, reference), TRANSFER_TIMEOUT_MS, `pushing ${local} to the image registry at ${registry.endpoint}`);
  } finally {
    await runDockerCli(untagCommand(server, reference), { timeoutMs: QUICK_TIMEOUT_MS });
  }
  const manifest = await readManifest(access, app, sha);
  if (manifest === undefined) throw new ImageTransportError(`the image registry at ${registry.endpoint} has no ${app}:${sha} right after the push`);
  const uploaded = manifestBlobs(manifest).filter((blob) => !before.has(blob.digest));
  return { skipped: false, bytes: sum(uploaded.map((blob) => blob.size)), ms: performance.now() - started };
}

/**
 * Pulls `<registry>/<app>:<sha>` on a host's Engine and names it `<app>:<sha>` there (the registry
 * name is removed again; the layers stay, so the next pull fetches only what changed). Skipped when
 * the host already has `<app>:<sha>` (and, given `imageId`, it is that image). The host's CLI must
 * be logged in ({@link loginToRegistry}).
 */
export async function fetchImage(host: EngineCli, registry: Pick<ImageRegistry, 'endpoint' | 'ca' | 'user' | 'password'>, app: string, sha: string, imageId?: string): Promise<TransportResult> {
  const started = performance.now();
  const local = imageTags(app, sha).commit;
  if (await alreadyThere(host, local, imageId)) return { skipped: true, bytes: 0, ms: performance.now() - started };
  const reference = registryReference(registry.endpoint, app, sha);
  const pulled = await mustRun(pullCommand(host, reference), TRANSFER_TIMEOUT_MS, `pulling ${reference} from the image registry at ${registry.endpoint}`);
  await mustRun(tagCommand(host, reference, local), QUICK_TIMEOUT_MS, `docker tag ${reference} ${local}`);
  await runDockerCli(untagCommand(host, reference), { timeoutMs: QUICK_TIMEOUT_MS });
  const manifest = await readManifest(registryAccess(registry), app, sha);
  const downloaded = pulledLayerIds(pulled.stdout);
  const layers = (manifest?.layers ?? []).filter((layer) => downloaded.has(shortId(layer.digest)));
  return { skipped: false, bytes: sum(layers.map((layer) => layer.size)) + (manifest?.config.size ?? 0), ms: performance.now() - started };
}

/**
 * Streams `<app>:<sha>` from the server's Engine into a host's Engine: `docker save` piped into
 * `docker load` (no temp file, no shell). Skipped when the host already has that very image.
 */
export async function streamImage(server: EngineCli, host: EngineCli, app: string, sha: string): Promise<TransportResult> {
  const started = performance.now();
  const local = imageTags(app, sha).commit;
  const imageId = await imageIdOn(server, local);
  if (imageId === undefined) throw new ImageTransportError(`cannot send ${local}: the server's Engine has no such image`);
  if (await alreadyThere(host, local, imageId)) return { skipped: true, bytes: 0, ms: performance.now() - started };
  try {
    const { bytes } = await streamImageBetweenEngines(saveCommand(server, local), loadCommand(host), TRANSFER_TIMEOUT_MS);
    return { skipped: false, bytes, ms: performance.now() - started };
  } catch (err) {
    throw new ImageTransportError(`sending ${local} by docker save | docker load failed: ${(err as Error).message}`);
  }
}

/**
 * Moves `<app>:<sha>` from the server's Engine to a host's with `transport`: for `registry` a
 * publish then a fetch (the result adds both), for `save-load` a stream.
 */
export async function moveImage(
  transport: ImageTransport,
  server: EngineCli,
  host: EngineCli,
  registry: ImageRegistry,
  app: string,
  sha: string,
): Promise<{ publish?: TransportResult; fetch: TransportResult }> {
  if (transport === 'save-load') return { fetch: await streamImage(server, host, app, sha) };
  const publish = await publishImage(server, registry, app, sha);
  const fetch = await fetchImage(host, registry, app, sha, await imageIdOn(server, imageTags(app, sha).commit));
  return { publish, fetch };
}

/**
 * The undo of {@link fetchImage} and {@link streamImage}: removes the name `<app>:<sha>` from the
 * host's Engine (not forced: an image a container uses stays). A missing image is fine.
 */
export async function removeFetchedImage(host: EngineCli, app: string, sha: string): Promise<void> {
  const local = imageTags(app, sha).commit;
  if ((await imageIdOn(host, local)) === undefined) return;
  const result = await runDockerCli(untagCommand(host, local), { timeoutMs: QUICK_TIMEOUT_MS });
  if (result.code !== 0) throw new ImageTransportError(`could not remove ${local} from the Engine at ${host.dockerHost ?? 'the local socket'}: ${cliWords(result)}`);
}

/** The id of the image `name` on `engine`, undefined when there is none. */
export async function imageIdOn(engine: EngineCli, name: string): Promise<string | undefined> {
  const result = await runDockerCli(imageIdCommand(engine, name), { timeoutMs: QUICK_TIMEOUT_MS });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

async function alreadyThere(engine: EngineCli, name: string, imageId: string | undefined): Promise<boolean> {
  const present = await imageIdOn(engine, name);
  return present !== undefined && (imageId === undefined || present === imageId);
}

async function mustRun(command: DockerCommand, timeoutMs: number, what: string): Promise<CliResult> {
  const result = await runDockerCli(command, { timeoutMs });
  if (result.code !== 0) throw new ImageTransportError(`${what} failed: ${cliWords(result)}`);
  return result;
}

/** The CLI's own last words (docker prints the reason last), or its exit code. */
function cliWords(result: CliResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '');
  return lines.slice(-3).join(' / ') || `exit ${result.code}`;
}

function registryAccess(registry: Pick<ImageRegistry, 'endpoint' | 'ca' | 'user' | 'password'>): RegistryAccess {
  return { endpoint: registry.endpoint, ca: registry.ca, credentials: { user: registry.user, password: registry.password } };
}

function manifestBlobs(manifest: ImageManifest) {
  return [manifest.config, ...manifest.layers];
}

/** The digests of every blob the registry stores (`docker/registry/v2/blobs/sha256/<2>/<hex>/`). */
async function blobDigests(storageDir: string): Promise<Set<string>> {
  const root = path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  const digests = new Set<string>();
  for (const prefix of await fs.readdir(root).catch(() => [])) {
    for (const hex of await fs.readdir(path.join(root, prefix)).catch(() => [])) digests.add(`sha256:${hex}`);
  }
  return digests;
}

/** `sha256:abcdef…` → its first 12 hex digits, as `docker pull` names a layer. */
function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** `39.4 MB`, `1.9 kB`: bytes moved, as the push shows them. */
export function formatBytes(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${(bytes / 1000).toFixed(1)} kB`;
}
