import { describe, expect, it } from 'vitest';
import {
  encodeExit,
  encodeHookRequest,
  encodeLine,
  hookHome,
  hookRequest,
  hookSocketPath,
  MAX_REQUEST_BYTES,
  parseHookRequest,
  parseHookResponse,
  type HookRequest,
} from '../../src/push/hook-protocol';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const good: HookRequest = { app: 'shop', refUpdates: `${A} ${B} refs/heads/main\n`, pushOptions: ['no-wait'], receivePackPid: 4242, user: 'deploy' };
const line = (fields: object) => JSON.stringify(fields);

describe('hook request from what git gives the hook', () => {
  it('takes the app from the repo directory, push options from env, the user and the parent pid', () => {
    const env = { GIT_PUSH_OPTION_COUNT: '3', GIT_PUSH_OPTION_0: 'color', GIT_PUSH_OPTION_1: '', GIT_PUSH_OPTION_2: 'color', USER: 'alice' };
    expect(hookRequest('/var/lib/slipway/repos/shop.git', env, 77, 'stdin text')).toEqual({
      app: 'shop',
      refUpdates: 'stdin text',
      pushOptions: ['color'],
      receivePackPid: 77,
      user: 'alice',
    });
  });
  it('reads at most 32 push options and sends null for a missing USER', () => {
    const env: NodeJS.ProcessEnv = { GIT_PUSH_OPTION_COUNT: '100' };
    for (let i = 0; i < 100; i++) env[`GIT_PUSH_OPTION_${i}`] = `o${i}`;
    const request = hookRequest('/h/repos/shop.git', env, 1, '');
    expect(request.pushOptions).toHaveLength(32);
    expect(request.user).toBeNull();
  });
  it('finds the home from SLIPWAY_HOME, else two levels above the repo; the socket under run/', () => {
    expect(hookHome('/srv/slipway/repos/shop.git', {})).toBe('/srv/slipway');
    expect(hookHome('/srv/slipway/repos/shop.git', { SLIPWAY_HOME: '/elsewhere' })).toBe('/elsewhere');
    expect(hookSocketPath('/srv/slipway')).toBe('/srv/slipway/run/hook.sock');
  });
});

describe('hook request parsing', () => {
  it('round-trips a good request as one line', () => {
    const encoded = encodeHookRequest(good);
    expect(encoded.endsWith('\n')).toBe(true);
    expect(encoded.indexOf('\n')).toBe(encoded.length - 1);
    expect(parseHookRequest(encoded.slice(0, -1))).toEqual(good);
    expect(parseHookRequest(line({ ...good, user: null, pushOptions: [] }))).toEqual({ ...good, user: null, pushOptions: [] });
  });

  it.each([
    ['not JSON', 'hello', /not JSON/],
    ['a JSON array', '[1]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['an unknown field', line({ ...good, admin: true }), /unknown field "admin"/],
    ['a __proto__ field', `{"__proto__":{"x":1},${line(good).slice(1)}`, /unknown field "__proto__"/],
    ['a missing field', line({ ...good, user: undefined }), /missing field "user"/],
    ['a non-string app', line({ ...good, app: 7 }), /"app" must be a string/],
    ['an empty app', line({ ...good, app: '' }), /"app" must be a string/],
    ['an overlong app', line({ ...good, app: 'a'.repeat(256) }), /"app" must be a string of 1-255/],
    ['non-string ref updates', line({ ...good, refUpdates: ['x'] }), /"refUpdates" must be a string/],
    ['push options not an array', line({ ...good, pushOptions: 'no-wait' }), /"pushOptions" must be an array/],
    ['too many push options', line({ ...good, pushOptions: Array.from({ length: 33 }, (_, i) => `o${i}`) }), /at most 32/],
    ['a non-string push option', line({ ...good, pushOptions: [1] }), /each push option must be a string/],
    ['an overlong push option', line({ ...good, pushOptions: ['x'.repeat(1025)] }), /at most 1024 characters/],
    ['a string pid', line({ ...good, receivePackPid: '4242' }), /"receivePackPid" must be a whole number/],
    ['a fractional pid', line({ ...good, receivePackPid: 1.5 }), /"receivePackPid" must be a whole number/],
    ['pid 0', line({ ...good, receivePackPid: 0 }), /"receivePackPid" must be a whole number/],
    ['a pid over the kernel limit', line({ ...good, receivePackPid: 5_000_000 }), /"receivePackPid" must be a whole number/],
    ['a numeric user', line({ ...good, user: 1 }), /"user" must be null or printable text/],
    ['a user with a newline', line({ ...good, user: 'eve\nforged line' }), /"user" must be null or printable text/],
    ['an overlong user', line({ ...good, user: 'u'.repeat(257) }), /"user" must be null or printable text/],
  ])('refuses %s, saying what is wrong', (_what, text, problem) => {
    expect(() => parseHookRequest(text)).toThrow(problem);
  });

  it('refuses a request over the size limit before parsing it', () => {
    const huge = line({ ...good, refUpdates: 'x'.repeat(MAX_REQUEST_BYTES) });
    expect(() => parseHookRequest(huge)).toThrow(/larger than 4194304 bytes/);
  });
});

describe('hook response framing', () => {
  it('encodes lines and the exit code as JSON lines the hook parses back', () => {
    const text = `${encodeLine('-----> Deploying shop 1234567 (main)')}${encodeLine('a "quoted"\ttab')}${encodeExit(1)}`;
    const messages = text.split('\n').filter(Boolean).map(parseHookResponse);
    expect(messages).toEqual([{ line: '-----> Deploying shop 1234567 (main)' }, { line: 'a "quoted"\ttab' }, { exit: 1 }]);
  });
  it.each(['nope', '{}', '{"line":1}', '{"exit":256}', '{"exit":-1}', '{"exit":1.5}', '{"line":"x","exit":0}', '["line"]'])('refuses %s', (text) => {
    expect(() => parseHookResponse(text)).toThrow();
  });
});
