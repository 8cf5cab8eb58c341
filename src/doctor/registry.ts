import { checkImageRegistry, imageRegistryFiles } from '../cluster/image-registry';
import type { Settings } from '../settings';
import { fail, ok, type CheckResult } from './check';

/**
 * The cluster's image registry, when slipway runs one under this home: reachable over TLS with the
 * CA the Engine trusts it by, refusing a request without credentials and taking slipway's user.
 * With `SLIPWAY_IMAGE_TRANSPORT=save-load` no registry is needed.
 */
export async function checkRegistry(settings: Settings): Promise<CheckResult[]> {
  if (settings.imageTransport === 'save-load') return [ok('registry', 'SLIPWAY_IMAGE_TRANSPORT=save-load: images reach other hosts by docker save | docker load; no registry')];
  const health = await checkImageRegistry(settings.home);
  const log = imageRegistryFiles(settings.home).logFile;
  switch (health.state) {
    case 'none':
      return [ok('registry', 'none under this home (a single host needs none; it starts with the cluster)')];
    case 'ok':
      return [ok('registry', `https://${health.endpoint}/v2/ answers 401 without credentials and 200 with slipway's, over TLS the Engine trusts`)];
    case 'untrusted':
      return [
        fail(
          'registry',
          `${health.endpoint}: the Engine has no CA for it (${health.caFile} is missing), so pushes and pulls fail`,
          `copy the cluster CA (${settings.home}/cluster/ca.crt) to ${health.caFile}`,
        ),
      ];
    case 'down':
      return [fail('registry', `${health.endpoint}: ${health.problem}`, `see the registry's log, ${log}`)];
  }
}
