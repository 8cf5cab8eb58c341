import { apacheAnswers } from '../apache/apache-answers';
import { apacheSitesFromSettings } from '../apache/apache-sites';
import { createDockerEngine } from '../docker/docker-engine';
import type { Logger } from '../logger';
import type { Settings } from '../settings';
import type { DeployConfig, DeployDeps } from './deploy-context';
import { startProbe } from './deploy-probe';
import { isPortFree } from './port-choice';
import { establishedConnections } from './tcp-connections';

/** What a deploy step needs from the machine it runs on: its Docker Engine, its Apache, its ports. */
export type MachineDeps = Pick<DeployDeps, 'docker' | 'apache' | 'isPortFree' | 'connectionsOn' | 'apacheAnswers' | 'startProbe'>;

/**
 * The machine's adapters, from its settings (DOCKER_HOST, SLIPWAY_APACHE_*): the server's worker
 * and a host's agent (agent/agent-deps.ts) run the same steps through these.
 */
export function machineDeps(settings: Settings, log: Logger): MachineDeps {
  return {
    docker: createDockerEngine(
      undefined,
      { builder: settings.builder, dockerCli: settings.dockerCli, timeoutSeconds: settings.buildTimeoutSeconds },
      { waitMs: settings.dockerWaitMs, onWait: (reason) => log.warn({ reason }, `the Docker Engine does not answer (${reason}): waiting up to ${settings.dockerWaitMs / 1000} s for it`) },
    ),
    apache: apacheSitesFromSettings(settings),
    isPortFree,
    connectionsOn: establishedConnections,
    startProbe: ({ https, ...target }) => startProbe({ ...target, port: https ? settings.acme.httpsPort : settings.apacheHttpPort, tls: https }),
    apacheAnswers: (host, path) => apacheAnswers(settings.apacheHttpPort, host, path),
  };
}

/** The settings every deploy step gets, from the machine's settings (its port range, its stop grace). */
export function deployConfig(settings: Settings): DeployConfig {
  return { portRange: settings.portRange, stopGraceSeconds: settings.stopGraceSeconds, keepReleases: settings.keepReleases, https: settings.ssl !== undefined, acme: settings.acme };
}
