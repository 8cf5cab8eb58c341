/**
 * One release across three hosts against one host (issue 19's benchmark; a script that prints
 * figures, not a test):
 *
 *   npx tsc -p tsconfig.json && npm run bench:multi-host
 *
 * A real server and two simulated hosts (test/support/cluster-stack.ts: network namespaces with
 * their own dockerd and Apache, each running `slipway agent`), the benchmark's Node app
 * (bench/node-app-image.ts: a ~100 MB runtime layer and a small `server.js` layer) deployed as
 * three apps from the same commits in the same run: `one` on the server alone, `three` on
 * local,h2,h3 (rollout.batch 1) and `three-at-once` (rollout.batch 3). Each round pushes a new
 * `server.js` to each (alternating the order), with a request stream through every Apache that
 * serves the app.
 *
 * Figures per push: push→live as slipway reports it (push received → the last host switched),
 * the whole push (git's wall time: includes each host's watch and the drain), failed requests
 * per host, and the bytes the image moved: pushed into the registry (once) and pulled by each
 * host, as the push's lines say; against what `save | load` would stream to each host (the
 * `docker save` tar of the same image, measured). Prints a table, writes
 * bench/results/multi-host-latest.md and the multi-host section of docs/benchmark.md.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startClusterStack, type ClusterStack, type HostName } from '../test/support/cluster-stack';
import type { RequestStream } from '../test/support/request-stream';
import { createAppWorktree, commit, type AppWorktree } from '../test/support/test-app';
import { exec } from './exec';
import { machineFacts } from './machine-facts';
import { writeNodeApp } from './node-app-image';
import { replaceMarkedSection } from './report';
import { runScript, type ScriptContext } from './script-main';
import { median } from './stats';
import { timedGitPush, type TimedPush } from './timed-push';

const REPO = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO, 'bench', 'results', 'multi-host-latest.md');
const DOCS_FILE = path.join(REPO, 'docs', 'benchmark.md');
/** Code-change rounds after the first deploy (BENCH_ROUNDS). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RATE = 20;
const SLIPWAY_JSON = { healthcheck: { path: '/health', timeout: 60 }, watch: 2, drain_timeout: 10 };
/** The apps: on the server alone; on three hosts switched one by one (the default); on three hosts switched at once. */
type Kind = 'one' | 'three' | 'three-at-once';
const KINDS: Kind[] = ['one', 'three', 'three-at-once'];
const BATCH: Record<Kind, number> = { one: 1, three: 1, 'three-at-once': 3 };
const THREE: HostName[] = ['local', 'h2', 'h3'];

runScript('multi-host', 45 * 60_000, (ctx) => multiHostBench(ctx));

/** One measured push. */
interface Row {
  app: Kind;
  deploy: string;
  ok: boolean;
  /** slipway's "live in X s" (push received → every host switched). */
  liveS?: number;
  /** git's wall time for the whole push. */
  pushS: number;
  failed: Record<string, { failed: number; total: number }>;
  /** Bytes pushed into the registry (once) and pulled per host, from the push's lines. */
  pushedBytes?: number;
  pulledBytes: Record<string, number>;
}

async function multiHostBench(ctx: ScriptContext): Promise<number> {
  const facts = await machineFacts(REPO);
  const stack = await startClusterStack();
  ctx.cleanup.add('cluster stack', () => stack.stop());
  const apps = {} as Record<Kind, AppWorktree>;
  for (const kind of KINDS) apps[kind] = await createAppWorktree();
  for (const [kind, app] of Object.entries(apps)) {
    ctx.cleanup.add(`worktree ${kind}`, () => app.remove());
    stack.track(app.name);
    await mustCli(stack, ['apps:create', app.name]);
  }
  await mustCli(stack, ['hosts:set', apps.three.name, THREE.join(',')]);
  await mustCli(stack, ['hosts:set', apps['three-at-once'].name, THREE.join(',')]);

  const rows: Row[] = [];
  let lastSha = '';
  for (let round = 0; round <= ROUNDS && !ctx.abort.reason; round++) {
    const deploy = round === 0 ? 'first (hosts have nothing)' : 'server.js changed';
    for (const kind of KINDS) {
      await writeNodeApp(apps[kind].dir, { version: `${kind}-r${round}`, bootDelayMs: 0, slowMs: 0, slipwayJson: { ...SLIPWAY_JSON, rollout: { batch: BATCH[kind] } } });
      const sha = await commit(apps[kind].dir, `r${round}`);
      if (kind === 'three') lastSha = sha;
    }
    const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
    for (const kind of order) {
      const row = await measuredPush(stack, kind, apps[kind], deploy, round > 0);
      rows.push(row);
      ctx.log(`round ${round} ${kind}: ${describe(row)}`);
    }
  }
  // What save | load would have streamed to each host per deploy: the tar of the same image.
  const saved = await exec('sh', ['-c', `docker save ${apps.three.name}:${lastSha} | wc -c`]);
  const tarBytes = Number(saved.stdout.trim());

  const table = report(rows, tarBytes);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  const document = ['| fact | value |', '| --- | --- |', ...facts.map(([k, v]) => `| ${k} | ${v} |`), `| load average at end | ${load} |`, '', table].join('\n');
  console.log(`\n${table}\n`);
  await fs.mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await fs.writeFile(RESULTS_FILE, `# One release across three hosts: latest results\n\nWritten by \`npm run bench:multi-host\` (see docs/benchmark.md).\n\n${document}\n`);
  if (!(await replaceMarkedSection(DOCS_FILE, document, 'multi-host'))) ctx.log(`no <!-- multi-host:start/end --> markers in ${DOCS_FILE}: not updated`);
  return rows.every((r) => r.ok) ? 0 : 1;
}

async function mustCli(stack: ClusterStack, args: string[]): Promise<void> {
  const result = await stack.slipway.cli(args);
  if (result.code !== 0) throw new Error(`slipway ${args.join(' ')}: ${result.output}`);
}

/** Pushes `app` with a request stream through every Apache that serves it (kept >= 2 s). */
async function measuredPush(stack: ClusterStack, kind: Kind, app: AppWorktree, deploy: string, serving: boolean): Promise<Row> {
  const hosts: HostName[] = kind === 'one' ? ['local'] : THREE;
  const streams: [HostName, RequestStream][] = serving ? hosts.map((h) => [h, stack.stream(h, app.name, RATE)]) : [];
  const started = Date.now();
  const push: TimedPush = await timedGitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main'], 20 * 60_000);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2_000 - (Date.now() - started))));
  const failed: Row['failed'] = {};
  for (const [host, stream] of streams) {
    const result = await stream.stop();
    failed[host] = { failed: result.failed, total: result.total };
  }
  const text = push.lines.map((l) => l.text);
  const live = text.map((l) => /live .* in ([\d.]+) s/.exec(l)).find((m) => m !== null);
  const pushed = text.map((l) => /pushed to the registry at \S+ ([\d.]+) (MB|kB)/.exec(l)).find((m) => m !== null);
  const pulledBytes: Record<string, number> = {};
  for (const line of text) {
    const m = /\[(h\d)\] -----> Image \S+ (?:pulled from \S+ ([\d.]+) (MB|kB)|already on this host)/.exec(line);
    if (m) pulledBytes[m[1]] = m[2] === undefined ? 0 : bytes(m[2], m[3]);
  }
  if (push.code !== 0 || !live) console.log(text.join('\n'));
  return {
    app: kind,
    deploy,
    ok: push.code === 0 && live !== undefined,
    liveS: live ? Number(live[1]) : undefined,
    pushS: (push.end - push.start) / 1000,
    failed,
    pushedBytes: pushed ? bytes(pushed[1], pushed[2]) : undefined,
    pulledBytes,
  };
}

function bytes(value: string, unit: string): number {
  return Number(value) * (unit === 'MB' ? 1_000_000 : 1000);
}

function mb(n: number): string {
  return n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)} MB` : `${(n / 1000).toFixed(1)} kB`;
}

function describe(row: Row): string {
  const failures = Object.entries(row.failed)
    .map(([h, f]) => `${h} ${f.failed}/${f.total}`)
    .join(', ');
  return `${row.ok ? 'live' : 'FAILED'} in ${row.liveS ?? '?'} s (push ${row.pushS.toFixed(1)} s)${failures ? `; failed requests ${failures}` : ''}${
    row.pushedBytes !== undefined
      ? `; pushed ${mb(row.pushedBytes)}, pulled ${Object.entries(row.pulledBytes)
          .map(([h, b]) => `${h} ${mb(b)}`)
          .join(', ')}`
      : ''
  }`;
}

function range(values: number[]): string {
  return values.length === 0 ? '–' : `${median(values).toFixed(1)} s (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`;
}

function report(rows: Row[], tarBytes: number): string {
  const changed = rows.filter((r) => r.deploy !== 'first (hosts have nothing)');
  const lines = [
    `Three apps from the same commits in the same run: \`one\` on the server alone; \`three\` on local, h2 and h3 switched one by one (rollout.batch 1, the default: each host's watch ends before the next host switches); \`three-at-once\` on the same hosts with rollout.batch 3 (every host switches at once, once every host is prepared). watch 2 s, drain_timeout 10 s. ${ROUNDS} rounds after the first deploy, each a new \`server.js\`, with a request stream (${RATE}/s) through every Apache that serves the app. push→live is slipway's own figure (push received → the last host switched); the whole push adds each host's watch and the drain. Each app's \`server.js\` differs (its version string); the runtime layer is the same image layer in all three, so the first deploy of the app deployed second to the hosts finds it there already (the registry and the hosts share layers between apps).`,
    '',
    '| app | deploy | pushes | live | push→live: median (range) | whole push: median (range) | failed requests | pushed into the registry | pulled per host |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const kind of KINDS) {
    for (const deploy of ['first (hosts have nothing)', 'server.js changed']) {
      const group = rows.filter((r) => r.app === kind && r.deploy === deploy);
      if (group.length === 0) continue;
      const failed = group.flatMap((r) => Object.values(r.failed));
      const pulled = group.flatMap((r) => Object.values(r.pulledBytes));
      const pushed = group.flatMap((r) => (r.pushedBytes === undefined ? [] : [r.pushedBytes]));
      lines.push(
        `| ${{ one: 'one host (local)', three: 'three hosts, one by one', 'three-at-once': 'three hosts, at once' }[kind]} | ${deploy} | ${group.length} | ${group.filter((r) => r.ok).length}/${group.length} | ${range(group.flatMap((r) => (r.liveS === undefined ? [] : [r.liveS])))} | ${range(group.map((r) => r.pushS))} | ${failed.length === 0 ? '–' : `${failed.reduce((n, f) => n + f.failed, 0)} of ${failed.reduce((n, f) => n + f.total, 0)}`} | ${pushed.length === 0 ? '–' : mb(median(pushed))} | ${pulled.length === 0 ? '–' : mb(median(pulled))} |`,
      );
    }
  }
  const live = (kind: Kind) => changed.filter((r) => r.app === kind).flatMap((r) => (r.liveS === undefined ? [] : [r.liveS]));
  lines.push('');
  const one = live('one');
  for (const kind of ['three', 'three-at-once'] as const) {
    const three = live(kind);
    if (one.length > 0 && three.length > 0)
      lines.push(
        `Three hosts (${kind === 'three' ? 'one by one' : 'at once'}) against one, a code change: push→live ${median(three).toFixed(1)} s against ${median(one).toFixed(1)} s (medians, +${(median(three) - median(one)).toFixed(1)} s).`,
      );
  }
  lines.push(
    `Bytes per deploy to each other host: the registry pulls only the changed layer (above); \`save | load\` would stream the whole image tar every time: ${mb(tarBytes)} per host (\`docker save\` of the same image, measured), ${mb(tarBytes * 2)} for h2 and h3.`,
  );
  return lines.join('\n');
}
