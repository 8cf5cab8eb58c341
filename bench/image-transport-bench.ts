/**
 * Bytes and time to get an app image from the server's Docker Engine to another host's Engine
 * (issue 19, item 2), for both values of SLIPWAY_IMAGE_TRANSPORT (a script that prints figures,
 * not a test):
 *
 *   npx tsc -p tsconfig.json && npm run bench:transport
 *
 * The app is the benchmark's realistic Node image (bench/node-app-image.ts: a ~100 MB runtime
 * layer and a small `server.js` layer). Two deploys per transport: the first (the host has none
 * of the image) and a second where only `server.js` changed, in BENCH_ROUNDS rounds (default 3),
 * each from an empty host and an empty registry. The host is a private dockerd; the
 * registry is slipway's own (src/cluster/image-registry.ts) on an address of `lo`.
 *
 * Bytes: `registry` = the blobs the push added to the registry (src/cluster/image-transport.ts),
 * cross-checked against the growth of the registry's storage directory, plus the blobs the pull
 * downloaded (the layers `docker pull` says `Pull complete` for, sized by the manifest, and the
 * config); `save-load` = the tar bytes streamed. Prints a table, writes
 * bench/results/transport-latest.md and the transport section of docs/benchmark.md.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureImageRegistry, stopImageRegistry } from '../src/cluster/image-registry';
import { loginToRegistry, moveImage, type TransportResult } from '../src/cluster/image-transport';
import { buildImage } from '../src/docker/image-build';
import type { ImageTransport } from '../src/settings';
import { startTransportStack } from '../test/support/image-transport-stack';
import { exec, execOk } from './exec';
import { machineFacts } from './machine-facts';
import { writeNodeApp } from './node-app-image';
import { replaceMarkedSection } from './report';
import { runScript, type ScriptContext } from './script-main';
import { median } from './stats';

const REPO = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO, 'bench', 'results', 'transport-latest.md');
const DOCS_FILE = path.join(REPO, 'docs', 'benchmark.md');
/** Rounds of both transports (BENCH_ROUNDS); each starts from an empty host and an empty registry. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

runScript('transport', 20 * 60_000, (ctx) => transportBench(ctx));

/** One measured deploy: what moved and how long it took. */
interface Row {
  transport: ImageTransport;
  deploy: string;
  publish?: TransportResult;
  fetch: TransportResult;
  /** Growth of the registry's storage directory during the push (registry only). */
  storageGrowth?: number;
}

async function transportBench(ctx: ScriptContext): Promise<number> {
  const facts = await machineFacts(REPO);
  const stack = await startTransportStack();
  ctx.cleanup.add('transport stack', () => stack.stop());
  const app = `swbench-${randomBytes(3).toString('hex')}`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'swbench-transport-'));
  ctx.cleanup.add('app directory', () => fs.rm(dir, { recursive: true, force: true }));
  const shas = [randomBytes(20).toString('hex'), randomBytes(20).toString('hex')];
  ctx.cleanup.add('app images', async () => void (await exec('docker', ['rmi', ...shas.map((sha) => `${app}:${sha}`)])));
  for (const [i, sha] of shas.entries()) {
    await writeNodeApp(dir, { version: `v${i + 1}`, bootDelayMs: 0, slowMs: 0 });
    await buildImage({ builder: 'buildkit', timeoutSeconds: 600 }, dir, [`${app}:${sha}`], () => undefined);
    ctx.log(`built ${app}:${sha.slice(0, 7)} (v${i + 1})`);
  }
  const imageBytes = Number((await execOk('docker', ['image', 'inspect', '--format', '{{.Size}}', `${app}:${shas[0]}`])).trim());

  await loginToRegistry(stack.server, stack.registry);
  await loginToRegistry(stack.host, stack.registry);
  const rows: Row[] = [];
  const deploys = ['first (host has nothing)', 'second (only server.js changed)'];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const transport of ['registry', 'save-load'] as const) {
      // Every round of every transport starts from nothing: a host without the app's layers, and
      // an empty registry (stopped, its storage removed, started again with the same password).
      await stack.hostDockerd.docker(['rmi', ...shas.map((sha) => `${app}:${sha}`)]);
      if (transport === 'registry') {
        await stopImageRegistry(stack.home);
        await fs.rm(stack.registry.storageDir, { recursive: true, force: true });
        await ensureImageRegistry(stack.registryOptions);
      }
      for (const [i, sha] of shas.entries()) {
        const before = await directoryBytes(stack.registry.storageDir);
        const moved = await moveImage(transport, stack.server, stack.host, stack.registry, app, sha);
        const storageGrowth = transport === 'registry' ? (await directoryBytes(stack.registry.storageDir)) - before : undefined;
        rows.push({ transport, deploy: deploys[i], ...moved, storageGrowth });
        ctx.log(`round ${round}, ${transport} ${deploys[i]}: ${describe(rows[rows.length - 1])}`);
      }
    }
  }

  const table = report(rows, imageBytes);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  const document = ['| fact | value |', '| --- | --- |', ...facts.map(([k, v]) => `| ${k} | ${v} |`), `| load average at end | ${load} |`, '', table].join('\n');
  console.log(`\n${table}\n`);
  await fs.mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await fs.writeFile(RESULTS_FILE, `# Image transport: registry against save | load\n\n${document}\n`);
  if (!(await replaceMarkedSection(DOCS_FILE, document, 'transport'))) ctx.log(`no <!-- transport:start/end --> markers in ${DOCS_FILE}: not updated`);
  return 0;
}

function report(rows: Row[], imageBytes: number): string {
  const lines = [
    `App image: ${mb(imageBytes)} uncompressed (a Node runtime layer and a small server.js layer). The registry runs on the server, so a push stays on the server's machine; what crosses the network is, per host, the pull or the streamed tar. Here the host is a private dockerd on the same machine (loopback): times are disk and CPU (the Engine gzips layers on push), not bandwidth.`,
    '',
    `${ROUNDS} rounds; bytes are the same in every round unless a range is shown; time is the median (push + pull medians) and the range.`,
    '',
    '| transport | deploy | pushed into the registry (once, on the server) | registry storage growth | to the host (per host) | time: median (push + pull); range |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const key of [...new Set(rows.map((row) => `${row.transport}\0${row.deploy}`))]) {
    const group = rows.filter((row) => `${row.transport}\0${row.deploy}` === key);
    const [row] = group;
    const pushMs = group.map((r) => r.publish?.ms ?? 0);
    const fetchMs = group.map((r) => r.fetch.ms);
    const totalMs = pushMs.map((ms, i) => ms + fetchMs[i]);
    const range = `${s(Math.min(...totalMs))}–${s(Math.max(...totalMs))}`;
    const time = row.publish ? `${s(median(totalMs))} (${s(median(pushMs))} + ${s(median(fetchMs))}); ${range}` : `${s(median(totalMs))}; ${range}`;
    const pushed = row.publish ? bytesOf(group.map((r) => r.publish?.bytes ?? 0)) : '–';
    const growth = row.storageGrowth === undefined ? '–' : bytesOf(group.map((r) => r.storageGrowth ?? 0));
    const toHost = `${bytesOf(group.map((r) => r.fetch.bytes))} ${row.publish ? 'pulled' : 'streamed tar'}`;
    lines.push(`| ${row.transport} | ${row.deploy} | ${pushed} | ${growth} | ${toHost} | ${time} |`);
  }
  lines.push('', 'Storage growth is a little above the pushed blobs: the registry also stores the manifest and small link files.');
  return lines.join('\n');
}

function describe(row: Row): string {
  const publish = row.publish ? `push ${mb(row.publish.bytes)} in ${s(row.publish.ms)}, ` : '';
  return `${publish}${row.publish ? 'pull' : 'stream'} ${mb(row.fetch.bytes)} in ${s(row.fetch.ms)}`;
}

/** Bytes of every file under `dir` (what `du -b` counts for files). */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (entry.isFile()) total += (await fs.stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** One figure when every round moved the same bytes, else the range. */
function bytesOf(values: number[]): string {
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return low === high ? mb(low) : `${mb(low)}–${mb(high)}`;
}

function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

function s(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
