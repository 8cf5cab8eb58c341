import path from 'node:path';
import { fetchImage, formatBytes, loginToRegistry, removeFetchedImage, type EngineCli } from '../cluster/image-transport';
import type { ImageFetcher, RegistryImage } from '../deploy/host-phase-request';
import { DOCKER_CERTS_DIR, trustRegistryCa } from '../docker/registry-trust';
import { shortSha } from '../names';
import type { Settings } from '../settings';

/**
 * A host's way to the app images: `docker pull` from the server's registry (only the layers this
 * host lacks travel), with the registry's CA in this Engine's certs.d and a login kept in a
 * private DOCKER_CONFIG under the host's SLIPWAY_HOME.
 */
export function registryImageFetcher(settings: Settings): ImageFetcher {
  const engine: EngineCli = {
    cli: settings.dockerCli ?? 'docker',
    dockerHost: process.env.DOCKER_HOST,
    dockerConfigDir: path.join(settings.home, 'registry-client'),
    parentEnv: process.env,
  };
  let loggedIn: string | undefined;
  return {
    async fetch(image: RegistryImage, app: string, sha: string) {
      await trustRegistryCa(DOCKER_CERTS_DIR, image.endpoint, image.ca);
      const login = `${image.endpoint} ${image.user} ${image.password}`;
      if (loggedIn !== login) {
        await loginToRegistry(engine, image);
        loggedIn = login;
      }
      const fetched = await fetchImage(engine, image, app, sha);
      return fetched.skipped
        ? `Image ${shortSha(sha)} already on this host`
        : `Image ${shortSha(sha)} pulled from ${image.endpoint}: ${formatBytes(fetched.bytes)} in ${(fetched.ms / 1000).toFixed(1)} s`;
    },
    remove: (app: string, sha: string) => removeFetchedImage(engine, app, sha),
  };
}
