/**
 * Three hosts on the CI machine for the multi-host e2e test (issue 19): one slipway server, which is
 * the host `local` (the machine's Docker Engine, a private Apache on 127.0.0.1), and two simulated
 * hosts `h2` and `h3` (test/support/netns-host.ts: a network namespace each, with its own dockerd and
 * Apache), each running `slipway agent` joined with the line `slipway hosts:add` prints for it.
 * The server runs with SLIPWAY_CLUSTER_ADDRESS (the bridge's address) and private ports for its
 * Redis TLS listener and its image registry.
 *
 * `stop()` removes everything it started, by pid: the agents, the processes `spawnOn` started, the
 * server (and its registry), the hosts, the server's Apache, the homes, the registry's
 * `/etc/docker/certs.d/<address:port>/` entry and the apps' containers and images on the machine's
 * Engine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopImageRegistry } from '../../src/cluster/image-registry';
import { DOCKER_CERTS_DIR, untrustRegistryCa } from '../../src/docker/registry-trust';
import { startApache, type ApacheInstance } from './apache-instance';
import { run, safeKill, sleep } from './daemon-process';
import { freePort } from './free-port';
import { httpGet, type HttpResult } from './http-get';
import { startHostNetwork, type HostNetwork, type SimulatedHost } from './netns-host';
import { startRequestStream, type RequestStream } from './request-stream';
import { removeAppArtifacts, startSlipway, type SlipwayInstance } from './slipway-instance';
import { waitUntil } from './wait-until';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

export const HOST_NAMES = ['local', 'h2', 'h3'] as const;
export type HostName = (typeof HOST_NAMES)[number];
/** The hosts that run an agent (all but the server). */
export type AgentHost = Exclude<HostName, 'local'>;

/** One of an app's containers on one host's Engine. */
export interface HostContainer {
  name: string;
  /** The `slipway.sha` label: the commit the container runs. */
  sha: string;
  running: boolean;
}

export interface ClusterStack {
  slipway: SlipwayInstance;
  network: HostNetwork;
  /** The server's Apache (the host `local`'s). */
  apache: ApacheInstance;
  /** `h2`, `h3`: the simulated hosts. */
  simulated: Record<AgentHost, SimulatedHost>;
  /** `address:port` of the server's image registry. */
  registryEndpoint: string;
  /** slipway's output, then each agent's (lines prefixed `[hN] `), for failure messages. */
  log(): string;
  /** Where `host`'s Apache answers. */
  apacheOf(host: HostName): { address: string; port: number };
  /** A request stream through `host`'s Apache with the Host header `<app>.localhost`. */
  stream(host: HostName, app: string, ratePerSecond: number, urlPath?: string): RequestStream;
  /** One GET through `host`'s Apache with the Host header `<app>.localhost`. */
  get(host: HostName, app: string, urlPath?: string): Promise<HttpResult>;
  /** The docker CLI against `host`'s Engine. */
  docker(host: HostName, args: string[]): Promise<{ code: number; output: string }>;
  /** `app`'s containers (running or not) on `host`'s Engine, sorted by name. */
  containers(host: HostName, app: string): Promise<HostContainer[]>;
  /** SIGKILLs `host`'s agent (by pid, as a crash would) and waits until it is gone. */
  killAgent(host: AgentHost): Promise<void>;
  /** Starts `host`'s agent again with the same join line and environment. */
  startAgent(host: AgentHost): void;
  /** Starts `argv` on `host` (in its network namespace); `stop()` ends it. */
  spawnOn(host: HostName, argv: string[]): ChildProcess;
  /** Runs `argv` on `host` (in its network namespace) to its end. */
  runOn(host: HostName, argv: string[]): Promise<{ code: number; output: string }>;
  /** Has `stop()` remove `app`'s containers and images on the machine's Engine (the hosts' Engines go whole). */
  track(app: string): void;
  stop(): Promise<void>;
}

/** Starts the server, the two hosts and their agents; resolves once `slipway hosts --json` lists all three `up` with their probe. */
export async function startClusterStack(): Promise<ClusterStack> {
  const undo: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const apache = await startApache();
    undo.push(() => apache.stop());
    const network = await startHostNetwork();
    undo.push(() => network.stop());
    const simulated = { h2: await network.addHost(), h3: await network.addHost() };
    const redisPort = await freePort();
    const registryPort = await freePort();
    const registryEndpoint = `${network.serverAddress}:${registryPort}`;
    const slipway = await startSlipway({
      apache,
      env: { SLIPWAY_CLUSTER_ADDRESS: network.serverAddress, SLIPWAY_CLUSTER_REDIS_PORT: String(redisPort), SLIPWAY_CLUSTER_REGISTRY_PORT: String(registryPort) },
    });
    // Undone in reverse: the server (home removed last), its registry, the Engines' trust in it.
    undo.push(() => untrustRegistryCa(DOCKER_CERTS_DIR, registryEndpoint));
    undo.push(() => slipway.stop());
    undo.push(() => stopImageRegistry(slipway.home));
    undo.push(() => slipway.shutdown());

    const apps: string[] = [];
    undo.push(async () => {
      for (const app of apps) await removeLocalApp(app);
    });
    const agentHomes: string[] = [];
    undo.push(() => Promise.all(agentHomes.map((home) => fs.rm(home, { recursive: true, force: true }))));
    const started: ChildProcess[] = [];
    undo.push(() => Promise.all(started.map((child) => end(child))));

    let agentOutput = '';
    const agents: Partial<Record<AgentHost, { args: string[]; env: NodeJS.ProcessEnv; child?: ChildProcess }>> = {};
    const startAgent = (name: AgentHost) => {
      const agent = agents[name];
      if (!agent) throw new Error(`no agent for ${name}`);
      const child = simulated[name].spawn([process.execPath, CLI, ...agent.args], agent.env);
      const collect = (d: Buffer) => (agentOutput += d.toString().replace(/^(?=.)/gm, `[${name}] `));
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      agent.child = child;
      started.push(child);
    };
    const log = () => `${slipway.output()}\n--- agents ---\n${agentOutput}`;

    for (const name of ['h2', 'h3'] as const) {
      const host = simulated[name];
      const added = await slipway.cli(['hosts:add', name]);
      const line = added.output.split('\n').find((l) => l.trim().startsWith('slipway agent'));
      if (added.code !== 0 || line === undefined) throw new Error(`hosts:add ${name} printed no join line:\n${added.output}`);
      const home = await fs.mkdtemp(path.join(os.tmpdir(), `slipway-agent-${name}-`));
      agentHomes.push(home);
      agents[name] = {
        args: line.trim().split(' ').slice(1),
        env: {
          PATH: process.env.PATH,
          SLIPWAY_HOME: home,
          DOCKER_HOST: host.dockerd.host,
          SLIPWAY_APACHECTL: host.apache.apachectl.join(' '),
          SLIPWAY_APACHE_SITES: host.apache.sitesDir,
          SLIPWAY_APACHE_HTTP_PORT: String(host.apache.port),
          SLIPWAY_STOP_GRACE: '2',
          SLIPWAY_LOG_LEVEL: 'debug',
        },
      };
      startAgent(name);
    }
    await waitUntil(
      'h2 and h3 up with their probe',
      async () => {
        const listed = await slipway.cli(['hosts', '--json']);
        if (listed.code !== 0) return undefined;
        const rows = JSON.parse(listed.output) as { name: string; state: string; docker?: string }[];
        return ['h2', 'h3'].every((n) => rows.some((r) => r.name === n && r.state === 'up' && r.docker !== undefined)) ? true : undefined;
      },
      90_000,
      log,
    );

    const apacheOf = (host: HostName) => (host === 'local' ? { address: '127.0.0.1', port: apache.port } : { address: simulated[host].address, port: simulated[host].apache.port });
    const docker = (host: HostName, args: string[]) => (host === 'local' ? run('docker', args) : simulated[host].dockerd.docker(args));
    const spawnOn = (host: HostName, argv: string[]) => {
      const child = host === 'local' ? spawn(argv[0], argv.slice(1), { stdio: 'ignore' }) : simulated[host].spawn(argv, { PATH: process.env.PATH });
      child.on('error', () => undefined);
      started.push(child);
      return child;
    };
    return {
      slipway,
      network,
      apache,
      simulated,
      registryEndpoint,
      log,
      apacheOf,
      stream(host, app, ratePerSecond, urlPath = '/') {
        const { address, port } = apacheOf(host);
        return startRequestStream(port, `${app}.localhost`, urlPath, ratePerSecond, { address });
      },
      get(host, app, urlPath = '/') {
        const { address, port } = apacheOf(host);
        return httpGet(port, urlPath, `${app}.localhost`, 10_000, {}, address);
      },
      docker,
      async containers(host, app) {
        const listed = await docker(host, ['ps', '-a', '--filter', `label=slipway.app=${app}`, '--format', '{{.Names}} {{.Label "slipway.sha"}} {{.State}}']);
        if (listed.code !== 0) throw new Error(`docker ps on ${host}: ${listed.output}`);
        return listed.output
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [name, sha, state] = line.split(' ');
            return { name, sha, running: state === 'running' };
          })
          .sort((a, b) => a.name.localeCompare(b.name));
      },
      async killAgent(host) {
        const child = agents[host]?.child;
        if (!child?.pid) throw new Error(`${host}'s agent was not started`);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        safeKill(child.pid, 'SIGKILL');
        await exited;
      },
      startAgent,
      spawnOn,
      runOn(host, argv) {
        const [file, args] = host === 'local' ? [argv[0], argv.slice(1)] : ['nsenter', [`--net=/var/run/netns/${simulated[host].netns}`, ...argv]];
        return new Promise((resolve) => {
          execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` }),
          );
        });
      },
      track: (app) => void apps.push(app),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** SIGTERM, then SIGKILL after 10 s, by pid; resolves once the child has exited. */
async function end(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  safeKill(child.pid, 'SIGTERM');
  const pid = child.pid;
  await Promise.race([exited, sleep(10_000).then(() => safeKill(pid, 'SIGKILL'))]);
  await exited;
}

/** The app's containers and images on the machine's Engine, the registry-tagged images (`<registry>/<app>:<sha>`) too. */
async function removeLocalApp(app: string): Promise<void> {
  await removeAppArtifacts(app);
  const images = (await run('docker', ['images', '--format', '{{.Repository}} {{.ID}}'])).output
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([repository]) => repository?.endsWith(`/${app}`))
    .map(([, id]) => id);
  if (images.length > 0) await run('docker', ['rmi', '-f', ...new Set(images)]);
}
