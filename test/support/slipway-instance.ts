/**
 * A real slipway (`node dist/cli.js up`) as a child process for e2e tests, wired to a private
 * Apache and Redis, with its own SLIPWAY_HOME, port, token and queue. Stops only its own pid and
 * removes the containers of the apps it deployed.
 */
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApacheInstance } from './apache-instance';
import { freePort } from './free-port';
import { waitForPort } from './wait-for-port';

export interface SlipwayInstance {
  home: string;
  port: number;
  token: string;
  queueName: string;
  pid: number;
  /** `http://git:TOKEN@127.0.0.1:PORT/<app>.git` */
  remoteUrl(app: string): string;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERMs the process (a clean stop that lets a deploy finish), keeping home for a restart. */
  shutdown(): Promise<void>;
  /** SIGKILLs the process (a crash) and waits for it to be gone. */
  crash(): Promise<void>;
  /** Waits until the process has exited on its own (e.g. an injected crash). */
  exited(): Promise<void>;
  /**
   * Starts the process again on the same home, port, token, queue and Redis; with `cli`, from that
   * build of slipway from now on (an upgrade), for the CLI too.
   */
  restart(env?: Record<string, string>, cli?: string): Promise<void>;
  /** Runs `slipway <args>` (the real CLI of the build that runs) against this instance. */
  cli(args: string[]): Promise<{ code: number; output: string }>;
  stop(): Promise<void>;
}

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

/**
 * Starts `node <cli> up` (`cli`: another build's dist/cli.js, e.g. an old release's; default this
 * tree's) on a fresh home (or `home`). Without `redis` it runs slipway's embedded Redis under the home.
 */
export async function startSlipway(options: {
  apache: ApacheInstance;
  redis?: string;
  env?: Record<string, string>;
  launchEnv?: Record<string, string>;
  cli?: string;
  /** An empty directory to use as SLIPWAY_HOME (e.g. on a small filesystem) instead of a fresh temp one; removed by `stop()` all the same. */
  home?: string;
}): Promise<SlipwayInstance> {
  let cliPath = options.cli ?? CLI;
  const home = options.home ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-home-')));
  const port = await freePort();
  const token = randomBytes(12).toString('hex');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    SLIPWAY_HOME: home,
    SLIPWAY_PORT: String(port),
    SLIPWAY_HOST: '127.0.0.1',
    SLIPWAY_TOKEN: token,
    SLIPWAY_QUEUE: `test-${randomBytes(4).toString('hex')}`,
    SLIPWAY_APACHECTL: options.apache.apachectl.join(' '),
    SLIPWAY_APACHE_SITES: options.apache.sitesDir,
    SLIPWAY_APACHE_HTTP_PORT: String(options.apache.port),
    SLIPWAY_STOP_GRACE: '2',
    SLIPWAY_LOG_LEVEL: 'debug',
    NODE_ENV: 'production',
    ...options.env,
  };
  delete env.REDIS_URL;
  if (options.redis) env.REDIS_URL = options.redis;
  let output = '';
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = async (extraEnv: Record<string, string> = {}) => {
    child = spawn(process.execPath, [cliPath, 'up'], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitForPort(port, 20_000, () => output);
  };
  await launch(options.launchEnv);
  const shutdown = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    home,
    port,
    token,
    queueName: env.SLIPWAY_QUEUE,
    get pid() {
      return child.pid as number;
    },
    remoteUrl: (app) => `http://git:${token}@127.0.0.1:${port}/${app}.git`,
    output: () => output,
    cli: (args) =>
      new Promise((resolve) => {
        execFile(process.execPath, [cliPath, ...args], { env, encoding: 'utf8', timeout: 300_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
        });
      }),
    async crash() {
      child.kill('SIGKILL');
      await exited;
    },
    exited: () => exited,
    restart: (extraEnv, cli) => {
      if (cli !== undefined) cliPath = cli;
      return launch(extraEnv);
    },
    shutdown,
    async stop() {
      await shutdown();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/** Removes every container and image slipway made for `app` (tests use unique app names). */
export async function removeAppArtifacts(app: string): Promise<void> {
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=slipway.app=${app}`])).split('\n').filter(Boolean);
  if (ids.length) await run('docker', ['rm', '-f', ...ids]).catch(() => '');
  const images = (await run('docker', ['images', '-q', '--filter', `reference=${app}`])).split('\n').filter(Boolean);
  if (images.length) await run('docker', ['rmi', '-f', ...new Set(images)]).catch(() => '');
}

/** Names of the containers of `app`, sorted. */
export async function appContainers(app: string): Promise<string[]> {
  return (await run('docker', ['ps', '-a', '--format', '{{.Names}}', '--filter', `label=slipway.app=${app}`])).split('\n').filter(Boolean).sort();
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
}
