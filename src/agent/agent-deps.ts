import type { DeployDeps } from '../deploy/deploy-context';
import type { HostPhaseRequest } from '../deploy/host-phase-request';
import type { MachineDeps } from '../deploy/machine-deps';

/**
 * The deploy steps' machinery on a host: its own Docker Engine and Apache; the app's config and
 * the list of apps as the server sent them with the request. What only the server does (git,
 * release tags, webhooks) is not there: a step that asked for it on a host would be a bug.
 */
export function agentDeployDeps(machine: MachineDeps, request: HostPhaseRequest): DeployDeps {
  const serverOnly = (what: string) => () => Promise.reject(new Error(`internal: ${what} happens on the server, not on a host`));
  return {
    ...machine,
    readAppConfig: () => Promise.resolve(request.appConfig),
    listApps: () => Promise.resolve(request.apps),
    readRepoFile: serverOnly('reading the repo'),
    checkout: serverOnly('the checkout'),
    settleCheckout: () => Promise.resolve(),
    tagRelease: serverOnly('tagging a release'),
    notify: () => undefined,
    describeCertificate: () => Promise.resolve('managed on the server'),
  };
}
