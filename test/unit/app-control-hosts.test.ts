/**
 * `slipway stop` and `slipway maintenance` of an app on several hosts (apps/app-control.ts): the
 * server's own machine through the real machine-control functions on a fake Engine, the other hosts
 * through a fake HostControl that runs the same functions on their own fake Engines (as their agents do).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeFromHosts, setMaintenance, stopApp, type AppControlDeps, type HostControl } from '../../src/apps/app-control';
import { AppConfigStore } from '../../src/apps/app-config-store';
import { runHostControl, type MachineControlDeps } from '../../src/apps/machine-control';
import { AuditLog } from '../../src/audit/audit-log';
import { LABEL } from '../../src/docker/docker-engine';
import type { SiteRoute } from '../../src/apache/apache-sites';
import { FakeDocker } from '../support/fake-docker';

const APP = 'shop';

/** One machine: a fake Engine running the app's web container on `port` and one worker, and the routes its Apache got. */
function machine(port: number): MachineControlDeps & { docker: FakeDocker; routes: SiteRoute[]; removed: string[] } {
  const docker = new FakeDocker();
  docker.containers.set(APP, {
    id: `${APP}@${port}`,
    name: APP,
    running: true,
    restarted: false,
    exitCode: 0,
    imageId: 'img',
    labels: { [LABEL.app]: APP, [LABEL.port]: String(port), [LABEL.sha]: 'a'.repeat(40) },
  });
  docker.containers.set(`${APP}-worker-1`, {
    id: `${APP}-worker-1@${port}`,
    name: `${APP}-worker-1`,
    running: true,
    restarted: false,
    exitCode: 0,
    imageId: 'img',
    labels: { [LABEL.app]: APP, [LABEL.process]: 'worker', [LABEL.index]: '1', [LABEL.sha]: 'a'.repeat(40) },
  });
  const routes: SiteRoute[] = [];
  const removed: string[] = [];
  return {
    docker,
    routes,
    removed,
    apache: { route: async (_app, route) => void routes.push(route), removeApp: async (app) => void removed.push(app) },
    connectionsOn: async () => 0,
    stopGraceSeconds: 1,
  };
}

let dir: string;
let local: ReturnType<typeof machine>;
let others: Record<string, ReturnType<typeof machine>>;
let down: Set<string>;
let failing: Set<string>;
let deps: AppControlDeps;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-app-control-hosts-'));
  local = machine(8001);
  others = { h2: machine(8002), h3: machine(8003) };
  down = new Set();
  failing = new Set();
  const onHost = (host: string) => {
    if (failing.has(host)) throw new Error('its Apache answered nothing');
    return others[host];
  };
  const hosts: HostControl = {
    notAnswering: async (host) => (down.has(host) ? 'is not answering (last contact 40 s ago)' : undefined),
    maintenance: async (host, app, on) => runHostControl(onHost(host), { app, action: 'maintenance', on }) as never,
    stop: async (host, app, settings) => runHostControl(onHost(host), { app, action: 'stop', settings }) as never,
    remove: async (host, app, otherApps) => runHostControl(onHost(host), { app, action: 'remove', otherApps }) as never,
  };
  const appConfigs = new AppConfigStore(path.join(dir, 'apps'));
  await appConfigs.update(APP, (c) => ({ ...c, hosts: ['local', 'h2', 'h3'] }));
  deps = {
    ...local,
    appConfigs,
    audit: new AuditLog(path.join(dir, 'audit.log')),
    readRepoFile: async () => undefined,
    liveSha: async () => 'a'.repeat(40),
    withAppLock: (_app, fn) => fn(),
    hosts,
  };
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const running = (m: ReturnType<typeof machine>) => [...m.docker.containers.values()].filter((c) => c.running).map((c) => c.name);

describe('maintenance and stop of an app on several hosts', () => {
  it('maintenance on reaches every host, and off brings every host back to its containers', async () => {
    expect(await setMaintenance(deps, APP, true, 'test')).toBe(
      "shop: maintenance on on 3 hosts (local, h2, h3): each host's Apache answers 503 with the maintenance page; its 3 web containers keep running",
    );
    for (const m of [local, others.h2, others.h3]) expect(m.routes.at(-1)?.maintenance).toBe(true);
    expect((await deps.appConfigs.read(APP)).maintenance).toBe(true);
    expect(await setMaintenance(deps, APP, false, 'test')).toContain('maintenance off on 3 hosts');
    expect([local, others.h2, others.h3].map((m) => m.routes.at(-1))).toEqual([
      { port: [8001], maintenance: false },
      { port: [8002], maintenance: false },
      { port: [8003], maintenance: false },
    ]);
  });

  it('a host known down: refused naming it, nothing changed on any host', async () => {
    down.add('h3');
    await expect(setMaintenance(deps, APP, true, 'test')).rejects.toThrow('h3 is not answering (last contact 40 s ago): `slipway maintenance` changed nothing on any host of shop');
    await expect(stopApp(deps, APP, 'test')).rejects.toThrow('h3 is not answering');
    expect([local, others.h2, others.h3].map((m) => m.routes.length)).toEqual([0, 0, 0]);
    expect(running(local)).toEqual(['shop', 'shop-worker-1']);
    expect((await deps.appConfigs.read(APP)).maintenance).toBeUndefined();
  });

  it('stop stops web and workers on every host, behind the maintenance page, and records every stopped container', async () => {
    const said = await stopApp(deps, APP, 'test');
    expect(said).toContain('shop stopped on 3 hosts (local, h2, h3) (with shop-worker-1 on local, shop-worker-1 on h2, shop-worker-1 on h3)');
    for (const m of [local, others.h2, others.h3]) {
      expect(running(m)).toEqual([]);
      expect(m.routes.at(-1)?.maintenance).toBe(true);
    }
    expect((await deps.appConfigs.read(APP)).stoppedContainers?.sort()).toEqual(['shop-worker-1@8001', 'shop-worker-1@8002', 'shop-worker-1@8003', 'shop@8001', 'shop@8002', 'shop@8003']);
    await expect(stopApp(deps, APP, 'test')).rejects.toThrow('shop is already stopped');
    await expect(setMaintenance(deps, APP, false, 'test')).rejects.toThrow('shop is stopped');
  });

  it('a host that fails mid-way is named, with the hosts where it was done', async () => {
    failing.add('h2');
    await expect(setMaintenance(deps, APP, true, 'test')).rejects.toThrow('maintenance on failed on h2: its Apache answered nothing (done on local, h3); run it again');
    expect((await deps.appConfigs.read(APP)).maintenance).toBeUndefined();
  });

  it('removing the app from hosts takes its containers and Apache site off each; a host down is left as it is and named', async () => {
    down.add('h3');
    const removals = await removeFromHosts(local, deps.hosts, APP, ['local', 'h2', 'h3'], ['blog']);
    expect(removals.map((r) => [r.host, r.done])).toEqual([
      ['local', true],
      ['h2', true],
      ['h3', false],
    ]);
    expect(removals[1].line).toBe('h2: shop removed (2 containers, 0 images, its Apache site)');
    expect(removals[2].line).toContain('h3 is not answering (last contact 40 s ago): shop');
    for (const m of [local, others.h2]) {
      expect(m.docker.containers.size).toBe(0);
      expect(m.removed).toEqual([APP]);
    }
    expect(others.h3.docker.containers.size).toBe(2);
    expect(others.h3.removed).toEqual([]);
  });
});
