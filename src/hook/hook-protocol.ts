/**
 * What the post-receive hook and the slipway server say to each other over the hook socket
 * (`<home>/run/hook.sock`): the hook sends one request as a JSON line; the server answers with
 * newline-delimited JSON, any number of `{"line": "…"}` (each shown to the pusher as
 * `remote: …`) and then one `{"exit": N}`, the hook's exit code. One connection per push; the hook
 * keeps it open until the exit code, so a closed connection tells the server nobody is watching.
 *
 * The hook loads this file on every push, on the way to live: node built-ins only.
 */
import path from 'node:path';

/** One push, as the hook hands it over. */
export interface HookRequest {
  /** The bare repo's directory name without `.git`; the server validates it as an app name. */
  app: string;
  /** git's post-receive stdin as it came: `old new ref` lines, parsed by the server. */
  refUpdates: string;
  /** `git push -o` values. */
  pushOptions: string[];
  /** The hook's parent, git-receive-pack: the server knows who made an HTTP push by this pid. */
  receivePackPid: number;
  /** `USER` of the hook's process: who pushed when the push did not come over HTTP (ssh). */
  user: string | null;
}

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

/** The largest request line, in bytes: room for tens of thousands of ref updates (a mirror push). */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** git hands a hook at most this many push options here; more are ignored, as before. */
const MAX_PUSH_OPTIONS = 32;
const MAX_PUSH_OPTION_CHARS = 1024;
/** A file name (the repo directory) is at most 255 bytes on Linux file systems. */
const MAX_APP_CHARS = 255;
const MAX_USER_CHARS = 256;
/** Linux's PID_MAX_LIMIT on 64-bit. */
const MAX_PID = 4_194_304;

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

/**
 * Parses and checks one request line (without its newline). Whatever connects to the socket is
 * treated as untrusted: every field must be there with the right type and size, and nothing else.
 * Throws an Error whose message says what is wrong.
 */
export function parseHookRequest(text: string): HookRequest {
  const request = parseSocketRequest(text);
  if ('holdReport' in request) throw new Error('unknown field "holdReport"');
  return request;
}

/** Parses one request line: a hook's push, or an ssh entry's {@link HoldReportRequest}. Throws like {@link parseHookRequest}. */
export function parseSocketRequest(text: string): HookRequest | HoldReportRequest {
  if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) throw new Error(`the request is larger than ${MAX_REQUEST_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the request is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the request is not a JSON object');
  const fields = value as Record<string, unknown>;
  if (Object.keys(fields).length === 1 && Object.hasOwn(fields, 'holdReport')) return parseHoldReport(fields.holdReport);
  const known: (keyof HookRequest)[] = ['app', 'refUpdates', 'pushOptions', 'receivePackPid', 'user'];
  const unknown = Object.keys(fields).filter((key) => !(known as string[]).includes(key));
  if (unknown.length > 0) throw new Error(`unknown field ${JSON.stringify(unknown[0])}`);
  for (const key of known) if (!Object.hasOwn(fields, key)) throw new Error(`missing field "${key}"`);

  const { app, refUpdates, pushOptions, receivePackPid, user } = fields;
  if (typeof app !== 'string' || app.length === 0 || app.length > MAX_APP_CHARS) throw new Error(`"app" must be a string of 1-${MAX_APP_CHARS} characters`);
  if (typeof refUpdates !== 'string') throw new Error('"refUpdates" must be a string');
  if (!Array.isArray(pushOptions) || pushOptions.length > MAX_PUSH_OPTIONS) throw new Error(`"pushOptions" must be an array of at most ${MAX_PUSH_OPTIONS} strings`);
  for (const option of pushOptions) {
    if (typeof option !== 'string' || option.length > MAX_PUSH_OPTION_CHARS) throw new Error(`each push option must be a string of at most ${MAX_PUSH_OPTION_CHARS} characters`);
  }
  if (!isPid(receivePackPid)) {
    throw new Error(`"receivePackPid" must be a whole number from 1 to ${MAX_PID}`);
  }
  // The user ends up in release records, webhooks and the dashboard: printable text only.
  // eslint-disable-next-line no-control-regex
  if (user !== null && (typeof user !== 'string' || user.length > MAX_USER_CHARS || /[\x00-\x1f\x7f]/.test(user))) {
    throw new Error(`"user" must be null or printable text of at most ${MAX_USER_CHARS} characters`);
  }
  return { app, refUpdates, pushOptions: pushOptions as string[], receivePackPid, user };
}

function parseHoldReport(value: unknown): HoldReportRequest {
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { receivePackPid, pusher } = fields;
  if (Object.keys(fields).length !== 2 || !isPid(receivePackPid)) throw new Error(`"holdReport" must be {"receivePackPid": 1-${MAX_PID}, "pusher": text}`);
  // eslint-disable-next-line no-control-regex
  if (typeof pusher !== 'string' || pusher.length === 0 || pusher.length > MAX_USER_CHARS || /[\x00-\x1f\x7f]/.test(pusher)) {
    throw new Error(`"pusher" must be printable text of 1-${MAX_USER_CHARS} characters`);
  }
  return { holdReport: { receivePackPid, pusher } };
}

function isPid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_PID;
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
