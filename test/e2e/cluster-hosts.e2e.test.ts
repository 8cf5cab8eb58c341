/**
 * Hosts (issue 19, the control plane): a real slipway server with its embedded Redis, and a
 * simulated host (a network namespace with its own dockerd and Apache, test/support/netns-host.ts)
 * that joins with the line `slipway hosts:add` prints. Checks: the TLS listener exists only once a
 * host does; the joined agent reports its Docker Engine and Apache versions through a probe job and
 * shows `up`; Redis refuses a wrong password and a plain (non-TLS) connection; a removed host's
 * agent is refused and the host is no longer listed.
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheInstance } from '../support/apache-instance';
import { freePort } from '../support/free-port';
import { startHostNetwork, type HostNetwork, type SimulatedHost } from '../support/netns-host';
import { gitPush } from '../support/git-client';
import { removeAppArtifacts, startSlipway, type SlipwayInstance } from '../support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree } from '../support/test-app';
import { waitUntil } from '../support/wait-until';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

interface HostRow {
  name: string;
  state: string;
  version: string;
  lastContact: string;
  docker?: string;
  apache?: string;
}

/** What a plain TCP client gets from a port: the bytes it answered to `PING`, and whether it connected. */
function plainPing(host: string, port: number): Promise<{ connected: boolean; answer: string }> {
  return new Promise((resolve) => {
    let connected = false;
    let answer = '';
    const socket = connect({ host, port }, () => {
      connected = true;
      socket.write('PING\r\n');
    });
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ connected, answer }));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('hosts: join, probe, refuse, remove', () => {
  let apache: ApacheInstance;
  let network: HostNetwork;
  let host: SimulatedHost;
  let slipway: SlipwayInstance;
  let redisPort: number;
  let agentHome: string;
  let output = '';
  let app: AppWorktree | undefined;

  const hosts = async (): Promise<HostRow[]> => {
    const listed = await slipway.cli(['hosts', '--json']);
    expect(listed.code, listed.output).toBe(0);
    return JSON.parse(listed.output) as HostRow[];
  };
  // Two agents run side by side in the host here (the removal case): each answers its maintenance
  // pages on a port of its own, in the host's own network namespace.
  let agents = 0;
  const agent = (args: string[]) => {
    const child = host.spawn([process.execPath, CLI, ...args], {
      PATH: process.env.PATH,
      SLIPWAY_PORT: String(7005 + agents++),
      SLIPWAY_HOME: agentHome,
      DOCKER_HOST: host.dockerd.host,
      SLIPWAY_APACHECTL: host.apache.apachectl.join(' '),
      SLIPWAY_APACHE_SITES: host.apache.sitesDir,
      SLIPWAY_APACHE_HTTP_PORT: String(host.apache.port),
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    return child;
  };
  const log = () => `${slipway.output()}\n--- agents ---\n${output}`;

  beforeAll(async () => {
    apache = await startApache();
    network = await startHostNetwork();
    host = await network.addHost();
    redisPort = await freePort();
    agentHome = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-agent-'));
    slipway = await startSlipway({ apache, env: { SLIPWAY_CLUSTER_ADDRESS: network.serverAddress, SLIPWAY_CLUSTER_REDIS_PORT: String(redisPort) } });
  });

  afterAll(async () => {
    await slipway?.stop();
    if (app) {
      await removeAppArtifacts(app.name);
      await app.remove();
    }
    await network?.stop();
    await apache?.stop();
    if (agentHome) await fs.rm(agentHome, { recursive: true, force: true });
  });

  it('a single host has no network listener; hosts lists only local', async () => {
    expect((await plainPing(network.serverAddress, redisPort)).connected).toBe(false);
    expect((await hosts()).map((h) => [h.name, h.state])).toEqual([['local', 'up']]);
  });

  let joinArgs: string[] = [];
  it('hosts:add prints one join line; run inside the host, it brings the host up with its Docker and Apache versions', async () => {
    const added = await slipway.cli(['hosts:add', 'h2']);
    expect(added.code, added.output).toBe(0);
    const lines = added.output.split('\n').filter((l) => l.trim().startsWith('slipway agent'));
    expect(lines).toHaveLength(1);
    joinArgs = lines[0].trim().split(' ').slice(1);
    expect(joinArgs).toEqual([
      'agent',
      '--server',
      `${network.serverAddress}:${redisPort}`,
      '--token',
      expect.stringMatching(/^h2\./),
      '--ca-sha256',
      expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
    ]);
    expect((await hosts()).find((h) => h.name === 'h2')?.state).toBe('new');

    agent(joinArgs);
    const h2 = await waitUntil('h2 up with its probe', async () => (await hosts()).find((h) => h.name === 'h2' && h.state === 'up' && h.docker !== undefined && h.apache !== undefined), 60_000, log);
    const engine = await host.dockerd.docker(['version', '--format', '{{.Server.Version}}']);
    expect(h2.docker).toContain(`Engine ${engine.output}`);
    expect(h2.apache).toMatch(/^Apache\/2\.4\.\d+/);
    expect(h2.version).toMatch(/^\d+\.\d+\.\d+/);
    // slipway's own CLI still reaches its Redis (as its own user now that `default` is off).
    expect((await slipway.cli(['status'])).code).toBe(0);
  });

  it('a restart of slipway (and of its Redis) gives the hosts their users and listener back: the agent reconnects', async () => {
    await slipway.shutdown();
    const restarted = Date.now();
    await slipway.restart();
    await waitUntil(
      'h2 heard from after the restart',
      async () => {
        const h2 = (await hosts()).find((h) => h.name === 'h2');
        return h2?.state === 'up' && Date.parse(h2.lastContact) > restarted ? true : undefined;
      },
      60_000,
      log,
    );
  });

  it("slipway's own server and worker deploy as before, as Redis user `slipway`; hosts:set checks the names", async () => {
    app = await createAppWorktree();
    await writeBusyboxApp(app.dir, { version: 'v1' });
    await commit(app.dir, 'v1');
    const pushed = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.output).toMatch(/live/);

    const unknown = await slipway.cli(['hosts:set', app.name, 'local,h9']);
    expect(unknown.code).toBe(1);
    expect(unknown.output).toMatch(/no host named "h9"/);
    const config = path.join(slipway.home, 'apps', `${app.name}.json`);
    const before = await fs.readFile(config, 'utf8').catch(() => undefined);
    expect(before === undefined || !before.includes('"hosts"')).toBe(true);
    const set = await slipway.cli(['hosts:set', app.name, 'local,h2']);
    expect(set.code, set.output).toBe(0);
    expect(JSON.parse(await fs.readFile(config, 'utf8'))).toMatchObject({ hosts: ['local', 'h2'] });
    // An app on h2 keeps h2 from being removed; back to the server alone for the removal below.
    expect((await slipway.cli(['hosts:remove', 'h2'])).output).toMatch(/runs on h2/);
    expect((await slipway.cli(['hosts:set', app.name, 'local'])).code).toBe(0);
  });

  it('Redis refuses an agent with a wrong password, and a plain connection to its TLS port', async () => {
    const wrong = joinArgs.map((a) => (a.startsWith('h2.') ? `h2.${'A'.repeat(43)}` : a));
    const refused = agent(wrong);
    expect(await exitOf(refused)).toBe(1);
    expect(output).toMatch(/the server refused host "h2"'s token/);

    const plain = await plainPing(network.serverAddress, redisPort);
    expect(plain.connected).toBe(true);
    expect(plain.answer).not.toContain('PONG');
  });

  it("hosts:remove: the host's agent is refused and the host is no longer listed", async () => {
    // A second host keeps the TLS listener open, so the removed agent meets a refusal, not a closed port.
    expect((await slipway.cli(['hosts:add', 'h3'])).code).toBe(0);
    const running = agent(joinArgs);
    await waitUntil('the second agent connected', async () => (/agent connected[\s\S]*agent connected/.test(output) ? true : undefined), 30_000, log);
    const removed = await slipway.cli(['hosts:remove', 'h2']);
    expect(removed.code, removed.output).toBe(0);
    expect(await exitOf(running)).toBe(1);
    expect(output).toMatch(/it was removed/);
    expect((await hosts()).map((h) => h.name)).toEqual(['local', 'h3']);
    const again = agent(joinArgs);
    expect(await exitOf(again)).toBe(1);
  });
});
