import { z } from 'zod';
import { InputError, parseJsonInput, strictFields } from '../parse-input';
import { MAX_PUSH_OPTIONS, MAX_REQUEST_BYTES, type HoldReportRequest } from './hook-protocol';

/*
 * The request the post-receive hook sends over the hook socket, as the server checks it. Kept
 * apart from hook-protocol.ts because the hook loads that file on every push, on the way to live,
 * and loading zod costs ~80 ms there; the hook imports only the type from here (erased at build).
 */

/** Text without control characters (who pushed ends up in records, webhooks and the dashboard). */
// eslint-disable-next-line no-control-regex
const PRINTABLE = /^[^\x00-\x1f\x7f]*$/;

/** Linux's PID_MAX_LIMIT on 64-bit. */
const MAX_PID = 4_194_304;

/**
 * One push, as the hook hands it over. Whatever connects to the socket is treated as untrusted:
 * every field must be there with the right type and size, and nothing else.
 */
const HOOK_REQUEST_SCHEMA = strictFields({
  /** The bare repo's directory name without `.git`; the server validates it as an app name. A file name is at most 255 bytes. */
  app: z.string().min(1).max(255),
  /** git's post-receive stdin as it came: `old new ref` lines, parsed by the server. */
  refUpdates: z.string(),
  /** `git push -o` values. */
  pushOptions: z.array(z.string().max(1024)).max(MAX_PUSH_OPTIONS),
  /** The hook's parent, git-receive-pack: the server knows who made an HTTP push by this pid. */
  receivePackPid: z.number().int().min(1).max(MAX_PID),
  /**
   * `USER` of the hook's process: who pushed when the push did not come over HTTP (ssh). It ends up
   * in release records, webhooks and the dashboard: printable text only.
   */
  user: z.string().max(256).regex(PRINTABLE, 'expected printable text').nullable(),
});

export type HookRequest = z.output<typeof HOOK_REQUEST_SCHEMA>;

/**
 * Parses and checks one request line (without its newline; undefined when no newline came within
 * MAX_REQUEST_BYTES). Throws an InputError whose message says, field by field, what is wrong.
 */
export function parseHookRequest(text: string | undefined): HookRequest {
  if (text === undefined || Buffer.byteLength(text) > MAX_REQUEST_BYTES) throw new InputError('hook request', [{ path: '', segments: [], message: `larger than ${MAX_REQUEST_BYTES} bytes` }]);
  return parseJsonInput(HOOK_REQUEST_SCHEMA, text, 'hook request');
}

/** slipway's ssh entry announcing the receive-pack it runs for a key (see HoldReportRequest). */
const HOLD_REPORT_SCHEMA = strictFields({
  holdReport: strictFields({
    receivePackPid: z.number().int().min(1).max(MAX_PID),
    pusher: z.string().min(1).max(256).regex(PRINTABLE, 'expected printable text'),
  }),
});

/**
 * Parses one request line on the hook socket: a hook's push, or an ssh entry's
 * {@link HoldReportRequest}. Throws like {@link parseHookRequest}.
 */
export function parseSocketRequest(text: string | undefined): HookRequest | HoldReportRequest {
  if (text !== undefined && /^\s*\{\s*"holdReport"\s*:/.test(text)) {
    if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) return parseHookRequest(undefined);
    return parseJsonInput(HOLD_REPORT_SCHEMA, text, 'hold-report request');
  }
  return parseHookRequest(text);
}
