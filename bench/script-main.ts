/**
 * The frame every benchmark script runs in: a log with the time since the start, a cleanup stack
 * that runs on success, failure, a deadline and Ctrl-C alike, and a refusal to measure a missing
 * build of slipway.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Cleanup, withTimeout } from './cleanup';
import { now } from './clock';

const REPO = path.resolve(__dirname, '..');

/** Why the run was given up, once it was. */
export interface AbortFlag {
  reason: string | undefined;
}

/** What a script's body gets. */
export interface ScriptContext {
  /** When the script started (clock.ts epoch ms). */
  started: number;
  cleanup: Cleanup;
  /** Prints `[<name> +12.3s] line`. */
  log(line: string): void;
  /** Set when the run is given up: the body checks it so that it starts nothing new behind the cleanup's back. */
  abort: AbortFlag;
}

/**
 * Runs `body` (bounded by `deadlineMs`), then the cleanup, and exits with the body's exit code
 * (1 when it threw, 130 after SIGINT/SIGTERM).
 */
export function runScript(name: string, deadlineMs: number, body: (ctx: ScriptContext) => Promise<number>): void {
  void main(name, deadlineMs, body).then((code) => process.exit(code));
}

async function main(name: string, deadlineMs: number, body: (ctx: ScriptContext) => Promise<number>): Promise<number> {
  const started = now();
  const log = (line: string): void => console.log(`[${name} +${((now() - started) / 1000).toFixed(1)}s] ${line}`);
  const cleanup = new Cleanup();
  const abort: AbortFlag = { reason: undefined };
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal, and relayed by tsx's
  // parent process), and a second signal without a handler would kill it in the middle of cleanup.
  const interrupt = (signal: NodeJS.Signals): void => {
    if (abort.reason !== undefined) return;
    abort.reason = `interrupted by ${signal}`;
    log(`${signal}: cleaning up`);
    void cleanup.runAll().finally(() => {
      log('cleaned up after the interrupt');
      process.exit(130);
    });
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    await assertBuilt();
    return await withTimeout(body({ started, cleanup, log, abort }), deadlineMs, `${name} run`);
  } catch (err) {
    abort.reason = (err as Error).message;
    console.error(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    return 1;
  } finally {
    log('cleaning up');
    await cleanup.runAll();
    log('done');
  }
}

/** slipway runs from dist/: refuse to measure a missing build, and say when it looks stale. */
async function assertBuilt(): Promise<void> {
  const cli = path.join(REPO, 'dist', 'cli.js');
  const built = await fs.stat(cli).catch(() => undefined);
  if (!built) throw new Error(`${cli} is missing: run \`npx tsc -p tsconfig.json\` first`);
  const newest = await newestMtime(path.join(REPO, 'src'));
  if (newest > built.mtimeMs) console.warn(`warning: src/ changed after dist/cli.js was built; run \`npx tsc -p tsconfig.json\` to measure the current code`);
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestMtime(full) : (await fs.stat(full)).mtimeMs);
  }
  return newest;
}
