/**
 * A full disk under SLIPWAY_HOME (issue 18 item 5), on the real stack: SLIPWAY_HOME lives on a
 * 64 MiB tmpfs of its own, which the test fills to the last byte at exact points of a deploy
 * (slipway's pause seam, SLIPWAY_TEST_PAUSE_AFTER_STEPS). Every write that hits the full disk fails
 * in plain words naming the file, changes nothing, and leaves no state file truncated and no temp
 * file behind; the live version keeps serving. Builds write to Docker's disk, which this test does
 * not fill (the system's): the build's disk-full wording is unit-tested on the docker CLI's text.
 */
import { execFile } from 'node:child_process';
import { promises as fs, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apacheMapsDir } from '../../src/apache/apache-sites';
import { pushThroughPauses } from '../support/deploy-pauses';
import { gitPush } from '../support/git-client';
import { httpGet } from '../support/http-get';
import { startRequestStream } from '../support/request-stream';
import { appContainers } from '../support/slipway-instance';
import { mountSmallFilesystem, type SmallFilesystem } from '../support/small-filesystem';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';
import { startTestStack, type TestStack } from '../support/test-stack';

const PAUSES = ['health', 'record', 'watch'];
const SETTINGS = { healthcheck: { path: '/cgi-bin/health', timeout: 20 }, watch: 1, drain_timeout: 5 };
const STREAM_MS = 2000;

let disk: SmallFilesystem;
let stack: TestStack;
let app: AppWorktree;
let home: string;

const short = (sha: string) => sha.slice(0, 7);
const host = () => `${app.name}.localhost`;
const served = async () => (await httpGet(stack.apache.port, '/', host()).catch(() => ({ body: 'unreachable' }))).body.trim();
const releasesFile = () => path.join(home, 'releases', `${app.name}.json`);
const releases = async () => (JSON.parse(await fs.readFile(releasesFile(), 'utf8')) as { releases: { sha: string; result: string; reason?: string }[] }).releases;
const liveSha = async () => (await releases()).filter((r) => r.result === 'live').at(-1)?.sha;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const git = (args: string[]) => new Promise<string>((resolve) => execFile('git', args, (_e, out) => resolve(out.trim())));

async function version(name: string): Promise<string> {
  await writeBusyboxApp(app.dir, { version: name, slipwayJson: SETTINGS });
  return commit(app.dir, name);
}

function push(actions: Record<string, () => Promise<void>> = {}) {
  return pushThroughPauses(home, PAUSES, gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main']), actions);
}

/** Every state file slipway keeps for the app and the server, as bytes (undefined: absent). */
async function stateFiles(): Promise<Record<string, string | undefined>> {
  const files = [releasesFile(), path.join(home, 'apps', `${app.name}.json`), path.join(home, 'apache', `${app.name}.map`), path.join(home, 'tokens.json'), path.join(home, 'runtime.json')];
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await fs.readFile(f, 'utf8').catch(() => undefined)] as const)));
}

/** Temp files (`.<name>.<hex>.tmp`) anywhere on the small filesystem (home and port maps): a failed atomic write must remove its own. */
async function tempFiles(dir = disk.dir): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'repos' && entry.name !== 'worktrees') found.push(...(await tempFiles(full)));
    else if (/^\..*\.[0-9a-f]{12}\.tmp$/.test(entry.name)) found.push(full);
  }
  return found;
}

/** What must hold after every refused write: the old version serves, state files intact and parseable, no temp file. */
async function expectNothingChanged(before: Record<string, string | undefined>, live: string | undefined): Promise<void> {
  expect(await stateFiles()).toEqual(before);
  expect(await tempFiles()).toEqual([]);
  expect(await liveSha()).toBe(live);
  expect(await appContainers(app.name)).toEqual([app.name]);
}

/** A request stream through Apache; `stop()` lets it run STREAM_MS at least. */
function startStream(): { stop(): Promise<{ failures: string[]; bodies: string[] }> } {
  const stream = startRequestStream(stack.apache.port, host(), '/', 20);
  const started = Date.now();
  return {
    async stop() {
      await sleep(Math.max(0, STREAM_MS - (Date.now() - started)));
      const result = await stream.stop();
      return { failures: result.failures, bodies: [...result.bodies.keys()] };
    },
  };
}

/** A request stream through Apache for at least STREAM_MS around `during`. */
async function streamWhile<T>(during: () => Promise<T>): Promise<{ value: T; failures: string[]; bodies: string[] }> {
  const stream = startStream();
  const value = await during();
  return { value, ...(await stream.stop()) };
}

/**
 * Pushes with the disk filled when the deploy pauses after `step`, and a request stream through
 * Apache from that moment (the fault) until the push has ended (STREAM_MS at least); the disk is
 * emptied again at the end. The stream starts at the fault, not with the push: what is asserted is
 * that the old version serves while the disk is full, not how a busy machine runs a build.
 */
async function pushFillingAfter(step: string) {
  let stream: ReturnType<typeof startStream> | undefined;
  try {
    const result = await push({
      [step]: async () => {
        stream = startStream();
        await disk.fill();
      },
    });
    const seen = await stream?.stop();
    return { result, failures: seen?.failures, bodies: seen?.bodies };
  } finally {
    await disk.unfill();
  }
}

/** Runs `body` with the disk full, emptying it again whatever happens. */
async function whileFull<T>(body: () => Promise<T>): Promise<T> {
  await disk.fill();
  try {
    return await body();
  } finally {
    await disk.unfill();
  }
}

beforeAll(async () => {
  disk = await mountSmallFilesystem(64);
  home = path.join(disk.dir, 'home');
  await fs.mkdir(home, { mode: 0o755 });
  // Port maps live beside Apache's sites directory, not under the home: that directory goes on
  // the small filesystem too, so a map write meets the same full disk as the state files.
  const maps = path.join(disk.dir, 'maps');
  await fs.mkdir(maps, { mode: 0o755 });
  stack = await startTestStack(
    (apache) => {
      symlinkSync(maps, apacheMapsDir(apache.sitesDir));
      return { SLIPWAY_TEST_PAUSE_AFTER_STEPS: PAUSES.join(',') };
    },
    { home },
  );
  app = await stack.newApp();
  await version('v1');
  expect((await push()).output).toContain('✔');
  // State to keep intact: an app config and a named token, written while there is room.
  expect((await stack.slipway.cli(['webhooks:add', app.name, 'http://127.0.0.1:9/hook'])).code).toBe(0);
  expect((await stack.slipway.cli(['tokens', 'add', 'alice'])).code).toBe(0);
});

// A test cut off by its timeout must not leave the next one a full disk.
beforeEach(async () => {
  await disk.unfill();
});

afterAll(async () => {
  await disk?.unfill();
  await stack?.stop();
  await disk?.unmount();
});

describe('SLIPWAY_HOME on a full disk', () => {
  it('a push is refused in plain words before git writes anything; the ref, the records and the live version stay', async () => {
    const live = await liveSha();
    const v2 = await version('v2');
    const before = await stateFiles();
    const { value: result, failures, bodies } = await streamWhile(() => whileFull(() => gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main'])));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`no space left on device at ${home}`);
    expect(result.output).toContain('free some space on that filesystem and push again; nothing was stored');
    expect(failures).toEqual([]);
    expect(bodies).toEqual(['version=v1']);
    expect(await git(['--git-dir', path.join(home, 'repos', `${app.name}.git`), 'rev-parse', 'refs/heads/main'])).toBe(live);
    expect(await git(['--git-dir', path.join(home, 'repos', `${app.name}.git`), 'cat-file', '-t', v2])).toBe('');
    await expectNothingChanged(before, live);
  });

  it('env:set and tokens add fail naming the file; the app config and the token list are unchanged', async () => {
    const live = await liveSha();
    const before = await stateFiles();
    const [envSet, tokenAdd] = await whileFull(async () => [await stack.slipway.cli(['env:set', app.name, 'FOO=bar']), await stack.slipway.cli(['tokens', 'add', 'bob'])]);
    expect(envSet.code).toBe(1);
    expect(envSet.output).toContain(`slipway: no space left on device at ${path.join(home, 'apps', `${app.name}.json`)}: free some space on that filesystem and try again (nothing was changed)`);
    expect(tokenAdd.code).toBe(1);
    expect(tokenAdd.output).toContain(`slipway: no space left on device at ${path.join(home, 'tokens.json')}: free some space`);
    await expectNothingChanged(before, live);
    expect((await stack.slipway.cli(['tokens', 'list'])).output).not.toContain('bob');
  });

  it('the release record write hits the full disk: the deploy fails before the switch, in plain words; the old version serves', async () => {
    const live = await liveSha();
    const v3 = await version('v3');
    const before = await stateFiles();
    const { result, failures, bodies } = await pushFillingAfter('health');
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`✘ could not write the release record (nothing was switched): no space left on device at ${releasesFile()}: free some space`);
    expect(result.output).toContain(`${short(live ?? '')} still serving`);
    expect(failures).toEqual([]);
    expect(bodies).toEqual(['version=v1']);
    expect(await served()).toBe('version=v1');
    await expectNothingChanged(before, live);
    // receive-pack moved the ref before the deploy began, and putting it back needs a lock file the
    // full disk cannot take: the pusher is told where the branch stands and what to do.
    expect(result.output).toContain(`no space left on device at ${path.join(home, 'repos', `${app.name}.git`)}: main stays at ${short(v3)} on the server, not deployed;`);
    expect(result.output).toContain('once there is room, push a new commit to deploy');
  });

  it('the port map write hits the full disk: the switch fails in plain words, the map stays on the old version', async () => {
    const live = await liveSha();
    const v4 = await version('v4');
    const before = await stateFiles();
    const { result, failures, bodies } = await pushFillingAfter('record');
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`✘ Apache switch failed: no space left on device at ${path.join(apacheMapsDir(stack.apache.sitesDir), `${app.name}.map`)}: free some space`);
    expect(failures).toEqual([]);
    expect(bodies).toEqual(['version=v1']);
    const after = await stateFiles();
    expect(after[path.join(home, 'apache', `${app.name}.map`)]).toBe(before[path.join(home, 'apache', `${app.name}.map`)]);
    expect(await tempFiles()).toEqual([]);
    // The `deploying` record written before the switch could not be closed either (the same full
    // disk): it is whole, and names v4 as deploying until slipway's next start closes it.
    expect((await releases()).find((r) => r.sha === v4)?.result).toBe('deploying');
    expect(await liveSha()).toBe(live);
    expect(await appContainers(app.name)).toEqual([app.name]);
  });

  it('the disk fills after the switch: the deploy is live and says its record could not be marked; a restart closes the record as live', async () => {
    const v5 = await version('v5');
    const { result, failures } = await pushFillingAfter('watch');
    expect(result.output).toMatch(new RegExp(`✔ ${app.name} ${short(v5)} live on port`));
    expect(result.output).toContain(`could not mark release as live: no space left on device at ${releasesFile()}: free some space`);
    expect(failures).toEqual([]);
    expect(await served()).toBe('version=v5');
    expect((await releases()).find((r) => r.sha === v5)?.result).toBe('deploying');
    expect(await tempFiles()).toEqual([]);

    await stack.slipway.shutdown();
    await stack.slipway.restart();
    const deadline = Date.now() + 30_000;
    while ((await releases()).find((r) => r.sha === v5)?.result === 'deploying' && Date.now() < deadline) await sleep(200);
    expect((await releases()).find((r) => r.sha === v5)).toMatchObject({ result: 'live', reason: 'finished by slipway after a restart' });
    // The port-map test's record, left `deploying` on the full disk, is closed too: v4 never served.
    expect((await releases()).filter((r) => r.result === 'deploying')).toEqual([]);
    expect(await served()).toBe('version=v5');
  });
});
