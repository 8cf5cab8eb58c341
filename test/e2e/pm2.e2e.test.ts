/**
 * ecosystem.config.js under a real pm2: `pm2 start ecosystem.config.js` from the repo root runs
 * `slipway server` (which owns the embedded Redis) and `slipway worker` (which finds that Redis
 * through $SLIPWAY_HOME/runtime.json), a push deploys through them, and a worker started before
 * the server is restarted by pm2 until it converges. pm2 runs with a private PM2_HOME, so the
 * machine's own pm2 (if any) is never touched; everything started here is stopped by pid or by
 * that PM2_HOME.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheInstance } from '../support/apache-instance';
import { freePort } from '../support/free-port';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startRequestStream } from '../support/request-stream';
import { removeAppArtifacts } from '../support/slipway-instance';
import { commit, createAppWorktree, writeBusyboxApp, type AppWorktree } from '../support/test-app';

const ROOT = path.resolve(__dirname, '..', '..');
const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2');

interface Pm2Process {
  name: string;
  pid: number;
  status: string;
  restarts: number;
  outLog: string;
  errLog: string;
  cwd: string;
}

let apache: ApacheInstance;
let app: AppWorktree;
let home = '';
let pm2Home = '';
let port = 0;
let token = '';
let env: Record<string, string> = {};

/** Runs pm2 with argv (no shell) from the repo root with the test's env; never throws. */
function pm2(args: string[], timeoutMs = 120_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(PM2, args, { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

async function jlist(): Promise<Pm2Process[]> {
  const { output } = await pm2(['jlist']);
  const line = output.split('\n').find((l) => l.startsWith('[') && l.trimEnd().endsWith(']') && !l.startsWith('[PM2'));
  if (!line) throw new Error(`pm2 jlist printed no JSON:\n${output}`);
  return (JSON.parse(line) as { name: string; pid: number; pm2_env: { status: string; restart_time: number; pm_out_log_path: string; pm_err_log_path: string; pm_cwd: string } }[]).map((p) => ({
    name: p.name,
    pid: p.pid,
    status: p.pm2_env.status,
    restarts: p.pm2_env.restart_time,
    outLog: p.pm2_env.pm_out_log_path,
    errLog: p.pm2_env.pm_err_log_path,
    cwd: p.pm2_env.pm_cwd,
  }));
}

async function proc(name: string): Promise<Pm2Process | undefined> {
  return (await jlist()).find((p) => p.name === name);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${await pm2Logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function pm2Logs(): Promise<string> {
  const dir = path.join(pm2Home, 'logs');
  const files = await fs.readdir(dir).catch(() => [] as string[]);
  const parts = await Promise.all(files.map(async (f) => `--- ${f}\n${(await fs.readFile(path.join(dir, f), 'utf8')).split('\n').slice(-15).join('\n')}`));
  return parts.join('\n');
}

const readText = (file: string) => fs.readFile(file, 'utf8').catch(() => '');
const count = (text: string, needle: string) => text.split(needle).length - 1;

function answers(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(p, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Both processes online, the server answering, and the worker's log saying it took the queue `times` times. */
async function waitUntilConverged(workerStarts: number): Promise<Pm2Process[]> {
  await waitFor(`the git server on :${port}`, () => answers(port), 60_000);
  return waitFor(
    'slipway-server and slipway-worker online with the worker started',
    async () => {
      const list = await jlist();
      const server = list.find((p) => p.name === 'slipway-server');
      const worker = list.find((p) => p.name === 'slipway-worker');
      if (server?.status !== 'online' || worker?.status !== 'online') return undefined;
      return count(await readText(worker.outLog), 'deploy worker started') >= workerStarts ? list : undefined;
    },
    90_000,
  );
}

async function pushAndCheck(version: string): Promise<void> {
  await writeBusyboxApp(app.dir, { version, slipwayJson: { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 0 } });
  const sha = await commit(app.dir, version);
  const push = await gitPush(app.dir, `http://git:${token}@127.0.0.1:${port}/${app.name}.git`, ['main']);
  expect(push.output, `${push.output}\n${await pm2Logs()}`).toMatch(new RegExp(`remote: ✔ ${app.name} ${sha.slice(0, 7)} live on port \\d+`));
  const served = (await httpGet(apache.port, '/', `${app.name}.localhost`)).body.trim();
  expect(served, `push output:\n${push.output}\n${await diagnostics()}`).toBe(`version=${version}`);
}

/** Stops and removes both apps at once, as an operator would. */
async function deleteAll(): Promise<void> {
  const deleted = await pm2(['delete', 'all'], 60_000);
  expect(deleted.code, deleted.output).toBe(0);
}

async function diagnostics(): Promise<string> {
  const docker = await new Promise<string>((resolve) =>
    execFile('docker', ['ps', '-a', '--filter', `label=slipway.app=${app.name}`, '--format', '{{.Names}} {{.Status}} {{.Labels}}'], (_e, out) => resolve(out)),
  );
  const map = await readText(path.join(home, 'apache', `${app.name}.map`));
  const sites = (await fs.readdir(apache.sitesDir)).join(', ');
  return `containers:\n${docker}\nport map: ${map}\nsites: ${sites}\n${await pm2Logs()}`;
}

/** The embedded Redis is a daemon (not a pm2 child): stop it by its own pid file, only if it is redis-server. */
async function stopEmbeddedRedis(): Promise<void> {
  const pid = Number.parseInt(await readText(path.join(home, 'redis', 'redis.pid')), 10);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const isRedis = async () => (await readText(`/proc/${pid}/cmdline`)).startsWith('redis-server') && !(await readText(`/proc/${pid}/stat`)).match(/\) [ZX] /);
  if (!(await isRedis())) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await isRedis())) await new Promise((r) => setTimeout(r, 100));
  if (await isRedis()) process.kill(pid, 'SIGKILL');
}

beforeAll(async () => {
  apache = await startApache();
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-pm2-home-'));
  pm2Home = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-pm2-'));
  port = await freePort();
  token = randomBytes(12).toString('hex');
  const portBase = 20_000 + 50 * Math.floor(Math.random() * 200);
  // A clean environment, as an operator's shell would have: no REDIS_URL (the server owns the
  // embedded Redis), nothing of vitest's.
  env = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    PM2_HOME: pm2Home,
    SLIPWAY_HOME: home,
    SLIPWAY_PORT: String(port),
    SLIPWAY_HOST: '127.0.0.1',
    SLIPWAY_TOKEN: token,
    SLIPWAY_QUEUE: `test-pm2-${randomBytes(4).toString('hex')}`,
    SLIPWAY_APACHECTL: apache.apachectl.join(' '),
    SLIPWAY_APACHE_SITES: apache.sitesDir,
    SLIPWAY_APACHE_HTTP_PORT: String(apache.port),
    SLIPWAY_STOP_GRACE: '2',
    // A private block of app ports: other slipway test instances on this Docker engine use the
    // default 8080-8999, and two instances choosing ports at the same moment could pick the same one.
    SLIPWAY_PORT_RANGE: `${portBase}-${portBase + 49}`,
  };
  app = await createAppWorktree({ name: `pm2-${randomBytes(3).toString('hex')}` });
});

afterAll(async () => {
  if (pm2Home) {
    const list = await jlist().catch(() => [] as Pm2Process[]);
    await pm2(['stop', 'slipway-worker'], 60_000);
    await pm2(['delete', 'all'], 60_000);
    // Whatever this pm2 still runs after that (a stop stuck on a lost Redis) is ended by its pid.
    for (const p of list) {
      if (p.pid > 0 && (await readText(`/proc/${p.pid}/environ`)).split('\0').includes(`SLIPWAY_HOME=${home}`)) process.kill(p.pid, 'SIGKILL');
    }
    await pm2(['kill'], 60_000);
  }
  if (home) await stopEmbeddedRedis();
  if (app) {
    await removeAppArtifacts(app.name);
    await app.remove();
  }
  await apache?.stop();
  for (const dir of [home, pm2Home]) if (dir) await fs.rm(dir, { recursive: true, force: true });
}, 300_000);

describe('pm2 start ecosystem.config.js', () => {
  it('runs the server and the worker from the repo root; the worker finds the embedded Redis through runtime.json', async () => {
    const started = await pm2(['start', 'ecosystem.config.js']);
    expect(started.code, started.output).toBe(0);
    const list = await waitUntilConverged(1);
    expect(list.map((p) => p.name).sort()).toEqual(['slipway-server', 'slipway-worker']);
    for (const p of list) expect(p.cwd).toBe(ROOT);
    const runtime = JSON.parse(await fs.readFile(path.join(home, 'runtime.json'), 'utf8')) as { redis: string; queueName: string };
    expect(runtime).toEqual({ version: 2, redis: path.join(home, 'redis', 'redis.sock'), queueName: env.SLIPWAY_QUEUE });
  }, 150_000);

  it('a push deploys through the pm2-run server and worker', async () => {
    await pushAndCheck('v1');
  }, 150_000);

  // An upgrade restarts slipway this way: the apps are containers behind Apache and must not notice.
  it('pm2 reload ecosystem.config.js restarts both processes while a request stream through Apache sees 0 failures; the next push deploys', async () => {
    const before = await jlist();
    const workerLog = before.find((p) => p.name === 'slipway-worker')?.outLog ?? '';
    const startsBefore = count(await readText(workerLog), 'deploy worker started');
    const stream = startRequestStream(apache.port, `${app.name}.localhost`, '/', 20);
    const reloaded = await pm2(['reload', 'ecosystem.config.js']);
    expect(reloaded.code, reloaded.output).toBe(0);
    const after = await waitUntilConverged(startsBefore + 1);
    for (const name of ['slipway-server', 'slipway-worker']) {
      expect(after.find((p) => p.name === name)?.pid).not.toBe(before.find((p) => p.name === name)?.pid);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const result = await stream.stop();
    console.log(`[pm2] request stream across pm2 reload: ${result.total} requests, ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    expect(result.total).toBeGreaterThan(40);
    await pushAndCheck('v1-reloaded');
  }, 240_000);

  it('slipway doctor, run with the same environment, sees the running slipway and finds nothing to fix', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'doctor', '--json'], { env, encoding: 'utf8', timeout: 90_000 }, (err, stdout) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout });
      });
    });
    const report = JSON.parse(out.stdout) as { version: string; ok: boolean; checks: { name: string; status: string; detail: string }[] };
    expect(report.version).toBe((JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const check = (name: string) => report.checks.find((c) => c.name === name);
    expect(
      report.checks.filter((c) => c.status === 'fail'),
      out.stdout,
    ).toEqual([]);
    expect(out.code).toBe(0);
    expect(check('git port')).toMatchObject({ status: 'ok', detail: `SLIPWAY_PORT ${port} is held by slipway itself` });
    expect(check('redis')?.detail).toContain('(from runtime.json) answers PING');
    expect(check(`template ${app.name}`)).toMatchObject({ status: 'ok' });
    // The test Apache's wrapper refuses -M (exit 2): unknown, not a failure.
    expect(check('apache modules')).toMatchObject({ status: 'warn' });
    expect(check('home')).toMatchObject({ status: 'ok' });
    expect(check('builder')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^builds run \/\S+ [\d.]+\S* \(BuildKit /) });
  }, 120_000);

  it('a worker started before the server (no runtime.json) is restarted by pm2 until the server is up, then deploys', async () => {
    await deleteAll();
    // The server's clean stop shut its embedded Redis down; make this a first start.
    await fs.rm(path.join(home, 'runtime.json'), { force: true });
    const workerLog = await readText(path.join(pm2Home, 'logs', 'slipway-worker-out.log'));
    const startsBefore = count(workerLog, 'deploy worker started');

    expect((await pm2(['start', 'ecosystem.config.js', '--only', 'slipway-worker'])).code).toBe(0);
    const failing = await waitFor(
      'the lone worker to be restarted twice',
      async () => {
        const worker = await proc('slipway-worker');
        return worker && worker.restarts >= 2 ? worker : undefined;
      },
      60_000,
    );
    expect(await readText(failing.errLog)).toContain('start the server first');

    expect((await pm2(['start', 'ecosystem.config.js', '--only', 'slipway-server'])).code).toBe(0);
    await waitUntilConverged(startsBefore + 1);
    // Converged for good: no more restarts once the server is up.
    const settled = (await proc('slipway-worker'))?.restarts;
    await new Promise((r) => setTimeout(r, 4000));
    expect((await proc('slipway-worker'))?.restarts).toBe(settled);
    await pushAndCheck('v2');
  }, 240_000);

  it('a worker started on a stale runtime.json (as after a reboot) waits for the Redis it names, then deploys', async () => {
    await deleteAll();
    await fs.access(path.join(home, 'runtime.json'));
    const startsBefore = count(await readText(path.join(pm2Home, 'logs', 'slipway-worker-out.log')), 'deploy worker started');

    expect((await pm2(['start', 'ecosystem.config.js', '--only', 'slipway-worker'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await proc('slipway-worker')).toMatchObject({ status: 'online' });

    expect((await pm2(['start', 'ecosystem.config.js', '--only', 'slipway-server'])).code).toBe(0);
    await waitUntilConverged(startsBefore + 1);
    await pushAndCheck('v3');
  }, 240_000);

  // `pm2 stop|restart|delete all` signals both processes at once. This once hung for pm2's whole
  // kill_timeout (the server shut its embedded Redis down under the closing worker); `slipway
  // server` now leaves that Redis running on stop, and the next start reuses it.
  it('pm2 delete all stops both processes promptly, whatever order pm2 signals them in', async () => {
    if ((await jlist()).length > 0) await deleteAll();
    for (let attempt = 0; attempt < 5; attempt++) {
      const startsBefore = count(await readText(path.join(pm2Home, 'logs', 'slipway-worker-out.log')), 'deploy worker started');
      expect((await pm2(['start', 'ecosystem.config.js'])).code).toBe(0);
      await waitUntilConverged(startsBefore + 1);
      await new Promise((r) => setTimeout(r, 3000)); // the worker idles, blocked on Redis for the next job
      const started = Date.now();
      const deleted = await pm2(['delete', 'all'], 60_000);
      expect(deleted.code, `${deleted.output}\n${await pm2Logs()}`).toBe(0);
      expect(Date.now() - started).toBeLessThan(30_000);
    }
  }, 600_000);
});
