/**
 * What the post-receive hook and the slipway server say to each other over the hook socket
 * (`<home>/run/hook.sock`): the hook sends one request as a JSON line; the server answers with
 * newline-delimited JSON, any number of `{"line": "…"}` (each shown to the pusher as
 * `remote: …`) and then one `{"exit": N}`, the hook's exit code. One connection per push; the hook
 * keeps it open until the exit code, so a closed connection tells the server nobody is watching.
 *
 * The hook loads this file on every push, on the way to live: node built-ins only. The server
 * checks requests with the schema in hook-request-schema.ts. The hook checks the server's answer
 * by hand below (two shapes): loading zod would add ~80 ms to every push.
 */
import path from 'node:path';
// Type only (erased at build): the checks themselves live with the server, which loads zod.
import type { HookRequest } from './hook-request-schema';

/** git hands a hook at most this many push options here; more are ignored, as before. */
export const MAX_PUSH_OPTIONS = 32;
/** The largest request line, in bytes: room for tens of thousands of ref updates (a mirror push). */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export type { HookRequest };

/** One message of the server's answer. */
export type HookResponse = { line: string } | { exit: number };

/**
 * slipway's ssh entry announcing the git-receive-pack it runs for a key, before the push comes
 * in: the server then knows who pushes, and the entry holds the report-status back. It sends
 * this line first, waits for `{"held": true}`, and once receive-pack's response is complete
 * sends {@link OUTCOME_QUESTION}; the server answers `{"rejected": {ref: reason}}` and closes.
 */
export interface HoldReportRequest {
  holdReport: { receivePackPid: number; pusher: string };
}

/** The server's answer to a {@link HoldReportRequest}: the push is registered. */
export const HELD_ANSWER = '{"held":true}';
/** What the ssh entry asks once receive-pack's response is complete. */
export const OUTCOME_QUESTION = '{"outcome":true}';

/** Where the server listens for hooks under `home`; the hook finds it from the repo's location. */
export function hookSocketPath(home: string): string {
  return path.join(home, 'run', 'hook.sock');
}

/**
 * The slipway home a hook belongs to: `SLIPWAY_HOME` when the hook has it (HTTP pushes inherit the
 * server's environment), else two levels above the bare repo (`<home>/repos/<app>.git`), which is
 * all an ssh push knows.
 */
export function hookHome(repoDir: string, env: NodeJS.ProcessEnv): string {
  return env.SLIPWAY_HOME ?? path.dirname(path.dirname(repoDir));
}

/** Builds the request from what git gives a post-receive hook: its repo, environment, parent and stdin. */
export function hookRequest(repoDir: string, env: NodeJS.ProcessEnv, receivePackPid: number, refUpdates: string): HookRequest {
  return {
    app: path.basename(repoDir).replace(/\.git$/, ''),
    refUpdates,
    pushOptions: readPushOptions(env),
    receivePackPid,
    user: env.USER ?? null,
  };
}

/** Push options (`git push -o no-wait`) as git hands them to hooks: GIT_PUSH_OPTION_COUNT and _0.._N-1. */
function readPushOptions(env: NodeJS.ProcessEnv): string[] {
  const count = Number(env.GIT_PUSH_OPTION_COUNT ?? 0);
  const options = new Set<string>();
  for (let i = 0; i < count && i < MAX_PUSH_OPTIONS; i++) {
    const value = env[`GIT_PUSH_OPTION_${i}`];
    if (value) options.add(value);
  }
  return [...options];
}

/** The request as the line the hook writes. */
export function encodeHookRequest(request: HookRequest): string {
  return `${JSON.stringify(request)}\n`;
}

/** One `line` message, newline included. */
export function encodeLine(line: string): string {
  return `${JSON.stringify({ line })}\n`;
}

/** The final `exit` message, newline included. */
export function encodeExit(code: number): string {
  return `${JSON.stringify({ exit: code })}\n`;
}

/** Parses one message of the server's answer (without its newline); throws on anything else. */
export function parseHookResponse(text: string): HookResponse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  const message = value as Record<string, unknown> | null;
  if (typeof message === 'object' && message !== null && Object.keys(message).length === 1) {
    if (typeof message.line === 'string') return { line: message.line };
    if (Number.isInteger(message.exit) && (message.exit as number) >= 0 && (message.exit as number) <= 255) return { exit: message.exit as number };
  }
  throw new Error('neither {"line": text} nor {"exit": 0-255}');
}
