/**
 * Simulated hosts on the CI machine: each is a network namespace with a veth into a private bridge
 * in the root namespace (the server has the bridge's address .1, hosts .2, .3 …), its own dockerd
 * (test/support/dockerd-instance.ts) and its own Apache (test/support/apache-instance.ts), both run
 * inside the namespace. Names are unique per run; `stop()` removes everything it made, and signals
 * only the processes it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startApache, type ApacheInstance } from './apache-instance';
import { run } from './daemon-process';
import { startDockerd, type DockerdInstance } from './dockerd-instance';

/** A private bridge and the hosts on it. */
export interface HostNetwork {
  /** The root namespace's address on the bridge: the server's cluster address. */
  serverAddress: string;
  /** Adds a host: a namespace with its own address, dockerd and Apache. */
  addHost(): Promise<SimulatedHost>;
  /** Stops every host and removes the namespaces and the bridge. */
  stop(): Promise<void>;
}

export interface SimulatedHost {
  netns: string;
  address: string;
  dockerd: DockerdInstance;
  apache: ApacheInstance;
  /** Spawns `argv` inside the namespace (nsenter --net: the filesystem and pids are shared). */
  spawn(argv: string[], env: NodeJS.ProcessEnv): ChildProcess;
  stop(): Promise<void>;
}

async function must(args: string[]): Promise<void> {
  const result = await run('ip', args);
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')}: ${result.output}`);
}

/** Creates a bridge `swcl<id>` with 10.78.<octet>.1/24 (a subnet no other run of this uses). */
export async function startHostNetwork(): Promise<HostNetwork> {
  const id = randomBytes(2).toString('hex');
  const bridge = `swcl${id}`;
  const octet = 1 + Math.floor(Math.random() * 254);
  const subnet = `10.78.${octet}`;
  await must(['link', 'add', bridge, 'type', 'bridge']);
  const hosts: SimulatedHost[] = [];
  try {
    await must(['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    await must(['link', 'set', bridge, 'up']);
  } catch (err) {
    await run('ip', ['link', 'del', bridge]);
    throw err;
  }
  return {
    serverAddress: `${subnet}.1`,
    async addHost() {
      const index = hosts.length + 2;
      const netns = `swcl${id}h${index}`;
      const outside = `swcl${id}v${index}`;
      const address = `${subnet}.${index}`;
      await must(['netns', 'add', netns]);
      const removeNetns = async () => {
        await run('ip', ['link', 'del', outside]);
        await run('ip', ['netns', 'del', netns]);
      };
      let dockerd: DockerdInstance | undefined;
      let apache: ApacheInstance | undefined;
      try {
        await must(['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
        await must(['link', 'set', outside, 'master', bridge]);
        await must(['link', 'set', outside, 'up']);
        await must(['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        await must(['-n', netns, 'link', 'set', 'eth0', 'up']);
        await must(['-n', netns, 'link', 'set', 'lo', 'up']);
        dockerd = await startDockerd({ netns });
        apache = await startApache({ netns: { name: netns, address } });
      } catch (err) {
        await apache?.stop();
        await dockerd?.stop();
        await removeNetns();
        throw err;
      }
      const started: ChildProcess[] = [];
      const host: SimulatedHost = {
        netns,
        address,
        dockerd,
        apache,
        spawn(argv, env) {
          const child = spawn('nsenter', [`--net=/var/run/netns/${netns}`, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
          started.push(child);
          return child;
        },
        async stop() {
          for (const child of started) {
            if (child.exitCode === null && child.signalCode === null) {
              const exited = new Promise((resolve) => child.once('exit', resolve));
              child.kill('SIGTERM');
              const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
              await exited;
              clearTimeout(timer);
            }
          }
          await host.apache.stop();
          await host.dockerd.stop();
          await removeNetns();
        },
      };
      hosts.push(host);
      return host;
    },
    async stop() {
      for (const host of hosts.splice(0)) await host.stop().catch(() => undefined);
      await run('ip', ['link', 'del', bridge]);
    },
  };
}
