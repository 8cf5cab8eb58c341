/**
 * A private Docker Engine for tests that kill and restart dockerd: its own data root, exec root
 * (where it runs its own managed containerd), pid file and unix socket under one temp directory,
 * its own bridge and no iptables rules (containers run `--net=host`), so it never touches the
 * system dockerd, its containers or its images. Only the processes this instance started are
 * signalled.
 *
 * Not `--bridge=none`: a dockerd started that way deletes the interface `docker0` on start (Docker
 * removes "its" default bridge when bridging is off), and in the host's network namespace that is
 * the system dockerd's bridge: every later build with a `RUN` step on the system Engine then fails
 * with "could not find bridge docker0". So each instance gets a bridge of its own, made here and
 * deleted in `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAlive, run, safeKill, sleep, tailFile } from './daemon-process';

const START_TIMEOUT_MS = 60_000;

/** A running (or killed, to be started again) private dockerd. */
export interface DockerdInstance {
  /** `unix:///tmp/…/docker.sock`: give it to slipway and to the docker CLI as DOCKER_HOST. */
  host: string;
  dir: string;
  /** Pid of the current dockerd (changes after `start()`). */
  pid: number;
  /** Runs the docker CLI against this Engine. */
  docker(args: string[]): Promise<{ code: number; output: string }>;
  /**
   * SIGKILLs dockerd and its containerd, as a crash or the OOM killer would; with `containers`, also
   * every container's processes and shims, as a power cut would. Removes the stale pid files (its
   * own and containerd's), as a reboot's fresh /run does.
   */
  kill(options?: { containers?: boolean }): Promise<void>;
  /** Starts dockerd again on the same data root (with or without live-restore); resolves once it answers. */
  start(options?: { liveRestore?: boolean }): Promise<void>;
  /** Removes every container, stops dockerd, unmounts what it mounted and removes `dir`. */
  stop(): Promise<void>;
}

/**
 * Starts a private dockerd (`liveRestore`: `--live-restore`) and resolves once `docker info` answers.
 * With `netns` (a simulated host, test/support/netns-host.ts) it runs in that network namespace with
 * `--bridge=none`: there the default bridge it removes is the namespace's own, and its `--net=host`
 * containers live on the namespace's address.
 */
export async function startDockerd(options: { liveRestore?: boolean; netns?: string } = {}): Promise<DockerdInstance> {
  // A short path: unix socket paths are limited to 108 bytes.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'swdk-'));
  const socket = path.join(dir, 'docker.sock');
  const pidFile = path.join(dir, 'docker.pid');
  const logFile = path.join(dir, 'dockerd.log');
  const host = `unix://${socket}`;
  const bridge = options.netns === undefined ? await createBridge() : 'none';
  let child: ChildProcess | undefined;
  const docker = (args: string[]) => run('/usr/bin/docker', ['-H', host, ...args]);

  const launch = async (liveRestore: boolean): Promise<void> => {
    const log = await fs.open(logFile, 'a');
    const args = [
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      pidFile,
      '-H',
      host,
      '--bridge',
      bridge,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      ...(liveRestore ? ['--live-restore'] : []),
    ];
    // Our child (not a detached daemon): Node reaps it, so a killed dockerd leaves no zombie
    // whose pid would make the next start refuse ("pid file found").
    // nsenter (not `ip netns exec`, which remounts /sys and loses the cgroup mounts) execs dockerd: the pid is dockerd's.
    child =
      options.netns === undefined
        ? spawn('/usr/sbin/dockerd', args, { stdio: ['ignore', log.fd, log.fd] })
        : spawn('nsenter', [`--net=/var/run/netns/${options.netns}`, '/usr/sbin/dockerd', ...args], { stdio: ['ignore', log.fd, log.fd] });
    await log.close();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while ((await docker(['info', '--format', '{{.ID}}'])).code !== 0) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`private dockerd did not answer on ${host}\n--- dockerd.log ---\n${await tailFile(logFile, 20)}`);
      await sleep(200);
    }
  };

  /** containerd and shims this dockerd started: their argv names our exec root. */
  const family = async (): Promise<{ containerd: number[]; shims: number[] }> => {
    const found = { containerd: [] as number[], shims: [] as number[] };
    for (const entry of await fs.readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const argv = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (!argv.some((arg) => arg.startsWith(path.join(dir, 'exec')))) continue;
      if (argv[0]?.endsWith('containerd')) found.containerd.push(Number(entry));
      else if (argv[0]?.includes('containerd-shim')) found.shims.push(Number(entry));
    }
    return found;
  };

  const instance: DockerdInstance = {
    host,
    dir,
    pid: 0,
    docker,
    async kill(opts = {}) {
      const victims: number[] = [];
      if (opts.containers) {
        const ids = (await docker(['ps', '-q'])).output.split('\n').filter(Boolean);
        for (const id of ids) {
          const pid = Number((await docker(['inspect', '--format', '{{.State.Pid}}', id])).output);
          if (pid > 1) victims.push(pid);
        }
      }
      const { containerd, shims } = await family();
      victims.push(instance.pid, ...containerd, ...(opts.containers ? shims : []));
      for (const pid of victims) safeKill(pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await Promise.all(victims.map(isAlive))).some(Boolean)) await sleep(50);
      // Killed daemons are reparented to PID 1, which here may never reap them: a zombie's pid in
      // containerd's pid file makes the next dockerd wait for that "running" containerd until it
      // gives up. A boot (or systemd) starts from a fresh /run: so do we.
      await fs.rm(pidFile, { force: true });
      await fs.rm(path.join(dir, 'exec', 'containerd', 'containerd.pid'), { force: true });
    },
    async start(opts = {}) {
      try {
        await launch(opts.liveRestore === true);
      } catch (err) {
        // On a loaded machine dockerd can give up on its own containerd's start ("timeout waiting
        // for containerd to start") and exit: once more, as systemd's Restart= would.
        if (child?.exitCode === null) throw err;
        await launch(opts.liveRestore === true);
      }
      instance.pid = child?.pid ?? 0;
    },
    async stop() {
      if ((await docker(['info'])).code === 0) {
        const ids = (await docker(['ps', '-aq'])).output.split('\n').filter(Boolean);
        if (ids.length) await docker(['rm', '-f', ...ids]);
      }
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        safeKill(instance.pid, 'SIGTERM');
        await Promise.race([exited, sleep(20_000)]);
      }
      await instance.kill({ containers: true });
      await unmountUnder(dir);
      await fs.rm(dir, { recursive: true, force: true });
      if (bridge !== 'none') await run('ip', ['link', 'del', bridge]);
    },
  };
  try {
    await instance.start(options);
  } catch (err) {
    // stop() deletes the bridge too.
    await instance.stop().catch(() => undefined);
    throw err;
  }
  return instance;
}

/**
 * A bridge for one private dockerd: a unique name (at most 15 characters) and a /24 of 10.213.x.0
 * that no other instance of this run uses. dockerd takes the address from the bridge (`--bridge`).
 */
async function createBridge(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const octet = 1 + Math.floor(Math.random() * 254);
    const name = `swdk${octet}x${process.pid % 10000}`;
    if ((await run('ip', ['link', 'add', name, 'type', 'bridge'])).code !== 0) continue;
    if ((await run('ip', ['addr', 'add', `10.213.${octet}.1/24`, 'dev', name])).code === 0 && (await run('ip', ['link', 'set', name, 'up'])).code === 0) return name;
    await run('ip', ['link', 'del', name]);
  }
  throw new Error('could not create a bridge for the private dockerd');
}

/** dockerd leaves mounts under its roots (the data root, the default netns): unmount them, deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await fs.readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await run('umount', ['-l', point]);
}
