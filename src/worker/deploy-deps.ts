import { promises as fs } from 'node:fs';
import { pathExists } from '../atomic-write';
import { explainDiskFullText } from '../disk-full';
import { AppConfigStore } from '../apps/app-config-store';
import type { Logger } from '../logger';
import { webhookBody } from '../notify/deploy-event';
import { sendWebhook } from '../notify/webhook-sender';
import { tagRelease } from '../releases/release-tags';
import { branchTips, listAppNames, readFileAtCommit } from '../git/bare-repo';
import { enqueueDeploy, type DeployQueue } from '../queue/deploy-queue';
import { ReleaseStore } from '../releases/release-store';
import { assertAppStateUsable } from '../state/state-files';
import type { ReconcileDeps } from './reconcile';
import type { HostConvergenceDeps } from './host-convergence';
import { hostState } from '../cluster/host-status';
import { readHeartbeat } from '../queue/host-queue';
import type { Redis } from 'ioredis';
import { tryLockApp } from '../queue/app-lock';
import type { CertificateWatcherDeps } from '../tls/certificate-watcher';
import { checkoutWorkTree, settleWorkTree } from '../git/checkout';
import type { DeployDeps } from '../deploy/deploy-context';
import { deployConfig, machineDeps } from '../deploy/machine-deps';
import { describeCertificate, fetchMdStatus } from '../apache/md-status';
import { homePaths, repoPath, workTreePath, type Settings } from '../settings';

/** Wires the real adapters (Docker Engine, Apache, git) for the worker. */
export function createDeployDeps(settings: Settings, log: Logger): DeployDeps {
  const paths = homePaths(settings.home);
  const appConfigs = new AppConfigStore(paths.apps);
  return {
    ...machineDeps(settings, log),
    readRepoFile: (app, sha, file) => readFileAtCommit(repoPath(settings.home, app), sha, file),
    async checkout(app, sha) {
      const dir = workTreePath(settings.home, app);
      try {
        await fs.mkdir(paths.workTrees, { recursive: true, mode: 0o700 });
        await checkoutWorkTree(repoPath(settings.home, app), sha, dir);
      } catch (err) {
        // git's own words ("unable to write file … No space left on device"), with what to do.
        throw new Error(explainDiskFullText((err as Error).message, paths.workTrees));
      }
      return dir;
    },
    async settleCheckout(app) {
      const dir = workTreePath(settings.home, app);
      // Only makes the next deploy's checkout faster; a failure costs that, nothing else.
      if (await pathExists(dir)) await settleWorkTree(dir).catch((err: Error) => log.warn({ err, dir }, 'could not refresh the build work tree index'));
    },
    readAppConfig: (app) => appConfigs.read(app),
    notify(event) {
      void appConfigs.read(event.app).then((config) => {
        for (const url of config.webhooks ?? []) {
          void sendWebhook(url, webhookBody(event)).then((result) => {
            if (!result.ok) log.warn({ app: event.app, event: event.event, url, result }, 'webhook delivery failed');
          });
        }
      });
    },
    tagRelease: (release) => tagRelease(repoPath(settings.home, release.app), release),
    async describeCertificate(domain) {
      try {
        const cert = (await fetchMdStatus(settings.apacheHttpPort, domain)).find((c) => c.domains.includes(domain));
        return cert ? describeCertificate(cert) : 'not known to mod_md yet';
      } catch (err) {
        return `state unknown (${(err as Error).message})`;
      }
    },
    listApps: () => listAppNames(paths.repos),
  };
}

/** What the certificate watcher needs: the deploys' Apache and the same per-app locks the deploys take. */
export function certificateWatcherDeps(settings: Settings, deps: DeployDeps, connection: Redis, log: Logger): CertificateWatcherDeps {
  return {
    apache: deps.apache,
    readStatus: (host) => fetchMdStatus(settings.apacheHttpPort, host),
    listApps: deps.listApps,
    tryLockApp: (app) => tryLockApp(connection, settings.queueName, app, settings.jobLockMs / 2),
    log,
  };
}

/** What reconcile needs, from the same adapters the deploys use. */
export function reconcileDeps(settings: Settings, deps: DeployDeps, queue: DeployQueue): ReconcileDeps {
  return {
    deploy: {
      ...deps,
      // Reconcile reads the app's config before it changes anything: an app with a damaged state
      // file is left exactly as it is (reconcile reports it and goes on with the others).
      async readAppConfig(app) {
        await assertAppStateUsable(settings.home, app);
        return deps.readAppConfig(app);
      },
    },
    config: deployConfig(settings),
    releases: new ReleaseStore(homePaths(settings.home).releases),
    branchTips: (app) => branchTips(repoPath(settings.home, app)),
    ...queueAccess(queue),
  };
}

/** What reconcile and host convergence ask of the deploy queue: which apps are busy, and adding a deploy. */
function queueAccess(queue: DeployQueue): Pick<ReconcileDeps, 'busyApps' | 'enqueue'> {
  return {
    async busyApps() {
      const jobs = await queue.getJobs(['active', 'waiting', 'delayed', 'prioritized']);
      return new Set(jobs.map((j) => j.data.app));
    },
    async enqueue(data) {
      await enqueueDeploy(queue, { ...data, pushedAt: new Date().toISOString() });
    },
  };
}

/** What bringing hosts back to an app's live release needs (worker/host-convergence.ts). */
export function hostConvergenceDeps(settings: Settings, deps: DeployDeps, queue: DeployQueue, redis: Redis, log: Logger): HostConvergenceDeps {
  return {
    listApps: deps.listApps,
    readAppConfig: deps.readAppConfig,
    releases: new ReleaseStore(homePaths(settings.home).releases),
    hostUp: async (host) => hostState(await readHeartbeat(redis, host), Date.now()) === 'up',
    ...queueAccess(queue),
    log,
  };
}
