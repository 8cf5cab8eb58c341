import { describe, expect, it } from 'vitest';
import { appIsRunning, formatProcessStatus, formatTypeCounts, formatUptime, processStatus } from '../../src/apps/process-status';
import { planDeploy } from '../../src/deploy/deploy-plan';
import { hasWebProcess, parseProcfile, processTypes } from '../../src/deploy/procfile';
import { workerChanges } from '../../src/deploy/worker-scale';
import { parseScaleArgs } from '../../src/apps/scale-input';
import { table } from '../../src/cli/cli-context';
import { DEFAULT_APP_SETTINGS } from '../../src/app-settings';
import type { ContainerInfo } from '../../src/docker/docker-engine';
import { isNextWorker, nextWorkerName, plannedWorkers, promotedName, workerContainers, workerName, workerSpec } from '../../src/deploy/worker-plan';

const SHA = 'c'.repeat(40);

const container = (name: string, labels: Record<string, string>, extra: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: name,
  name,
  running: true,
  restarted: false,
  exitCode: 0,
  imageId: 'img',
  labels: { 'slipway.app': 'shop', 'slipway.sha': SHA, ...labels },
  ...extra,
});

describe('worker containers', () => {
  it('are named <app>-<type>-<n>, -next while a deploy runs', () => {
    expect(workerName('shop', 'worker', 1)).toBe('shop-worker-1');
    expect(nextWorkerName('shop', 'mail_out', 2)).toBe('shop-mail_out-2-next');
    const next = container('shop-worker-2-next', { 'slipway.process': 'worker' });
    expect(isNextWorker(next)).toBe(true);
    expect(promotedName(next)).toBe('shop-worker-2');
  });

  it('one per Procfile worker type times its scale (absent = 1, 0 = none)', () => {
    const procfile = { web: 'x', workers: { worker: './work', clock: './tick', mail: './mail' } };
    expect(plannedWorkers(procfile, { worker: 2, mail: 0, web: 3 })).toEqual([
      { type: 'clock', index: 1, command: './tick' },
      { type: 'worker', index: 1, command: './work' },
      { type: 'worker', index: 2, command: './work' },
    ]);
    expect(plannedWorkers({ workers: {} }, undefined)).toEqual([]);
  });

  it('the spec: the release image, the app env without PORT, volumes, labels, the command through /bin/sh -c', () => {
    const settings = { ...DEFAULT_APP_SETTINGS, env: { A: '1', B: 'repo' }, volumes: ['/srv:/data'] };
    expect(workerSpec({ type: 'worker', index: 2, command: 'exec ./work --queue "a b"' }, { app: 'shop', sha: SHA, deployId: 'd1' }, settings, { env: { B: 'server' } })).toEqual({
      name: 'shop-worker-2-next',
      image: `shop:${SHA}`,
      env: { A: '1', B: 'server' },
      labels: { 'slipway.app': 'shop', 'slipway.sha': SHA, 'slipway.deploy': 'd1', 'slipway.process': 'worker', 'slipway.index': '2' },
      volumes: ['/srv:/data'],
      cmd: ['/bin/sh', '-c', 'exec ./work --queue "a b"'],
    });
  });

  it("are told apart from web, one-off and other apps' containers", () => {
    const all = [
      container('shop', { 'slipway.port': '8080' }),
      container('shop-worker-1', { 'slipway.process': 'worker' }),
      container('shop-release', { 'slipway.one-off': 'release' }),
      container('shopx-worker-1', { 'slipway.app': 'shopx', 'slipway.process': 'worker' }),
    ];
    expect(workerContainers(all, 'shop').map((c) => c.name)).toEqual(['shop-worker-1']);
  });
});

describe('ps:scale input', () => {
  it('reads type=count pairs of known types', () => {
    expect(parseScaleArgs(['web=3', 'worker=0'], ['web', 'worker'], 16)).toEqual({ web: 3, worker: 0 });
    expect(parseScaleArgs(['worker=16'], ['web', 'worker'], 16)).toEqual({ worker: 16 });
  });
  it('refuses web for a workers-only app (its live release has no web process)', () => {
    expect(() => parseScaleArgs(['web=2'], ['worker'], 16)).toThrow(/the live release's Procfile has no "web" process type \(it has: worker\)/);
  });
  it.each([
    [[], /say which types to scale/],
    [['worker'], /"worker" is not type=count/],
    [['=2'], /is not type=count/],
    [['nope=1'], /the live release's Procfile has no "nope" process type \(it has: web, worker\)/],
    [['release=1'], /has no "release" process type/],
    [['a.b=1'], /"a.b" is not a process type name/],
    [['worker=-1'], /the count must be a whole number from 0 to 16/],
    [['worker=1.5'], /the count must be a whole number from 0 to 16/],
    [['worker=two'], /the count must be a whole number/],
    [['worker=17'], /at most 16 containers of a type \(SLIPWAY_MAX_SCALE\)/],
    [['worker=1', 'worker=2'], /"worker" is named twice/],
  ])('%j is refused', (args, message) => {
    expect(() => parseScaleArgs(args, ['web', 'worker'], 16)).toThrow(message);
  });
});

describe('ps output', () => {
  const now = Date.parse('2026-12-04T00:10:00Z');
  const status = processStatus('shop', {
    containers: [
      container('shop-worker-2', { 'slipway.process': 'worker' }, { startedAt: '2026-12-04T00:09:18Z' }),
      container('shop-worker-10', { 'slipway.process': 'worker' }, { running: false, exitCode: 137 }),
      container('shop', { 'slipway.port': '8080' }, { startedAt: '2026-12-03T22:05:00Z' }),
      container('shop-run-abc123', { 'slipway.one-off': 'run' }),
      container('shop-clock-1', { 'slipway.process': 'clock' }, { restarted: true, startedAt: '2026-12-04T00:09:59Z' }),
    ],
    types: ['web', 'clock', 'worker'],
    scale: { worker: 2 },
    releaseOfSha: (sha) => (sha === SHA ? 7 : undefined),
    now,
  });

  it('types with their scale and running count; containers web first, then by type and number', () => {
    expect(status.types).toEqual([
      { type: 'web', scale: 1, running: 1 },
      { type: 'clock', scale: 1, running: 0 },
      { type: 'worker', scale: 2, running: 1 },
    ]);
    expect(status.containers.map((c) => [c.type, c.name, c.state, c.uptimeSeconds, c.release])).toEqual([
      ['web', 'shop', 'running', 7500, 7],
      ['clock', 'shop-clock-1', 'restarting', 1, 7],
      ['worker', 'shop-worker-2', 'running', 42, 7],
      ['worker', 'shop-worker-10', 'exited (137)', undefined, 7],
    ]);
  });

  it('as text', () => {
    expect(formatProcessStatus(status, table)).toBe(
      [
        'shop: web=1 (1 running)  clock=1 (0 running)  worker=2 (1 running)',
        'type    container       state         uptime  release  sha',
        'web     shop            running       2h05m   v7       ccccccc',
        'clock   shop-clock-1    restarting    1s      v7       ccccccc',
        'worker  shop-worker-2   running       42s     v7       ccccccc',
        'worker  shop-worker-10  exited (137)  -       v7       ccccccc',
      ].join('\n'),
    );
    expect(formatTypeCounts(status.types)).toBe('web 1/1, clock 0/1, worker 1/2');
    expect(formatUptime(59)).toBe('59s');
    expect(formatUptime(312)).toBe('5m12s');
    expect(formatUptime(2 * 86_400 + 5 * 3600)).toBe('2d05h');
  });
});

describe('workers-only apps', () => {
  it('a Procfile with process types but no web: line has no web process; no Procfile, or only release:, keeps the image CMD as web', () => {
    expect(hasWebProcess(parseProcfile('worker: ./work\nclock: ./tick'))).toBe(false);
    expect(processTypes(parseProcfile('worker: ./work\nclock: ./tick'))).toEqual(['clock', 'worker']);
    expect(processTypes(parseProcfile('web: ./serve\nworker: ./work'))).toEqual(['web', 'worker']);
    expect(processTypes(parseProcfile(undefined))).toEqual(['web']);
    expect(processTypes(parseProcfile('release: ./migrate'))).toEqual(['web']);
  });

  it('an app runs while any of its long-running containers does (a workers-only app has no web one)', () => {
    expect(appIsRunning([container('shop-worker-1', { 'slipway.process': 'worker' })], 'shop')).toBe(true);
    expect(appIsRunning([container('shop-worker-1', { 'slipway.process': 'worker' }, { running: false }), container('shop-run-1', { 'slipway.one-off': 'run' })], 'shop')).toBe(false);
    expect(appIsRunning([container('shopx', { 'slipway.app': 'shopx' })], 'shop')).toBe(false);
  });
});

describe('deploy plan', () => {
  const web = (name: string, extra: Partial<ContainerInfo> = {}) => container(name, { 'slipway.port': '8080' }, extra);
  const both = parseProcfile('web: ./serve\nworker: ./work');
  const workersOnly = parseProcfile('worker: ./work');

  it('a push deploys web and replaces the workers; a workers-only release runs no web', () => {
    expect(planDeploy({ kind: 'push', procfile: both, webScale: 1, liveWeb: [web('shop')], sha: SHA })).toEqual({ web: 'deploy', workers: 'replace' });
    expect(planDeploy({ kind: 'push', procfile: workersOnly, webScale: 1, liveWeb: [], sha: SHA })).toEqual({ web: 'none', workers: 'replace' });
    expect(planDeploy({ kind: 'restart', procfile: workersOnly, webScale: 1, liveWeb: [], sha: SHA })).toEqual({ web: 'none', workers: 'replace' });
  });

  it('a scale job keeps web when its count and containers are right, and converges the workers', () => {
    expect(planDeploy({ kind: 'scale', procfile: both, webScale: 2, liveWeb: [web('shop'), web('shop-web-2')], sha: SHA })).toEqual({ web: 'keep', workers: 'converge' });
    expect(planDeploy({ kind: 'scale', procfile: workersOnly, webScale: 1, liveWeb: [], sha: SHA })).toEqual({ web: 'none', workers: 'converge' });
  });

  it('a scale job deploys web when the web count changes, or a web container is down or of another commit', () => {
    expect(planDeploy({ kind: 'scale', procfile: both, webScale: 3, liveWeb: [web('shop'), web('shop-web-2')], sha: SHA })).toEqual({ web: 'deploy', workers: 'replace' });
    expect(planDeploy({ kind: 'scale', procfile: both, webScale: 1, liveWeb: [web('shop', { running: false })], sha: SHA })).toEqual({ web: 'deploy', workers: 'replace' });
    expect(planDeploy({ kind: 'scale', procfile: both, webScale: 1, liveWeb: [web('shop', { labels: { 'slipway.app': 'shop', 'slipway.sha': 'd'.repeat(40) } })], sha: SHA })).toEqual({
      web: 'deploy',
      workers: 'replace',
    });
  });
});

describe('worker counts (scale job, reconcile)', () => {
  const worker = (type: string, index: number, extra: Partial<ContainerInfo> = {}) => container(`shop-${type}-${index}`, { 'slipway.process': type, 'slipway.index': String(index) }, extra);
  const procfile = parseProcfile('worker: ./work\nclock: ./tick');

  it('starts the missing ones under the lowest free numbers and keeps the rest', () => {
    const changes = workerChanges([worker('worker', 1), worker('worker', 3)], plannedWorkers(procfile, { worker: 3, clock: 1 }));
    expect(changes.start).toEqual([
      { type: 'clock', index: 1, command: './tick' },
      { type: 'worker', index: 2, command: './work' },
    ]);
    expect(changes.remove).toEqual([]);
  });

  it('stops the highest-numbered surplus ones, and every worker of a type the release no longer has', () => {
    const changes = workerChanges([worker('worker', 2), worker('worker', 1), worker('worker', 3), worker('mailer', 1), worker('clock', 1)], plannedWorkers(procfile, { worker: 1 }));
    expect(changes.start).toEqual([]);
    expect(changes.remove.map((c) => c.name)).toEqual(['shop-mailer-1', 'shop-worker-2', 'shop-worker-3']);
  });

  it('leaves -next workers (a deploy under way) out, and changes nothing when the counts match', () => {
    const changes = workerChanges(
      [worker('worker', 1), container('shop-worker-2-next', { 'slipway.process': 'worker', 'slipway.index': '2' }), worker('clock', 1)],
      plannedWorkers(procfile, undefined),
    );
    expect(changes).toEqual({ start: [], remove: [] });
  });
});
