import { describe, expect, it } from 'vitest';
import { encodeExit, encodeHookRequest, encodeLine, hookHome, hookRequest, hookSocketPath, MAX_REQUEST_BYTES, parseHookResponse, type HookRequest } from '../../src/push/hook-protocol';
import { parseHookRequest } from '../../src/push/hook-request-schema';

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
    ['not JSON', 'hello', /^hook request: not valid JSON/],
    ['a JSON array', '[1]', /^hook request: expected a JSON object, got \[1\]$/],
    ['JSON null', 'null', /^hook request: expected a JSON object, got null$/],
    ['an unknown field', line({ ...good, admin: true }), /^hook request: unknown field "admin"/],
    ['a __proto__ field', `{"__proto__":{"x":1},${line(good).slice(1)}`, /unknown field "__proto__"/],
    ['a missing field', line({ ...good, user: undefined }), /^hook request: user: is required$/],
    ['a non-string app', line({ ...good, app: 7 }), /^hook request: app: expected a string, got 7$/],
    ['an empty app', line({ ...good, app: '' }), /^hook request: app: expected a non-empty string/],
    ['an overlong app', line({ ...good, app: 'a'.repeat(256) }), /^hook request: app: expected at most 255 characters/],
    ['non-string ref updates', line({ ...good, refUpdates: ['x'] }), /^hook request: refUpdates: expected a string, got \["x"\]$/],
    ['push options not an array', line({ ...good, pushOptions: 'no-wait' }), /^hook request: pushOptions: expected an array/],
    ['too many push options', line({ ...good, pushOptions: Array.from({ length: 33 }, (_, i) => `o${i}`) }), /^hook request: pushOptions: expected at most 32 items/],
    ['a non-string push option', line({ ...good, pushOptions: [1] }), /^hook request: pushOptions\[0\]: expected a string, got 1$/],
    ['an overlong push option', line({ ...good, pushOptions: ['x'.repeat(1025)] }), /^hook request: pushOptions\[0\]: expected at most 1024 characters/],
    ['a string pid', line({ ...good, receivePackPid: '4242' }), /^hook request: receivePackPid: expected a number, got "4242"$/],
    ['a fractional pid', line({ ...good, receivePackPid: 1.5 }), /^hook request: receivePackPid: expected a whole number, got 1.5$/],
    ['pid 0', line({ ...good, receivePackPid: 0 }), /^hook request: receivePackPid: expected a number ≥ 1, got 0$/],
    ['a pid over the kernel limit', line({ ...good, receivePackPid: 5_000_000 }), /^hook request: receivePackPid: expected a number ≤ 4194304, got 5000000$/],
    ['a numeric user', line({ ...good, user: 1 }), /^hook request: user: expected a string, got 1$/],
    ['a user with a newline', line({ ...good, user: 'eve\nforged line' }), /^hook request: user: expected printable text/],
    ['an overlong user', line({ ...good, user: 'u'.repeat(257) }), /^hook request: user: expected at most 256 characters/],
  ])('refuses %s, saying what is wrong', (_what, text, problem) => {
    expect(() => parseHookRequest(text)).toThrow(problem);
  });

  it('refuses a request over the size limit before parsing it', () => {
    const huge = line({ ...good, refUpdates: 'x'.repeat(MAX_REQUEST_BYTES) });
    expect(() => parseHookRequest(huge)).toThrow(/^hook request: larger than 4194304 bytes$/);
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
