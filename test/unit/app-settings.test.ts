import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_APP_SETTINGS, parseAppSettings } from '../../src/app-settings';
import { InputError } from '../../src/parse-input';
import { slipwayJsonReferenceMarkdown } from '../../src/app-settings-reference';

describe('slipway.json', () => {
  it('gives the defaults without a file', () => {
    expect(parseAppSettings(undefined)).toEqual(DEFAULT_APP_SETTINGS);
  });
  it('reads every field', () => {
    const settings = parseAppSettings(
      JSON.stringify({
        healthcheck: { path: '/actuator/health', timeout: 90 },
        port_env: 'server_port',
        env: { SPRING_PROFILES_ACTIVE: 'prod', WORKERS: 4 },
        volumes: ['/srv/data:/data', '/etc/app:/config:ro'],
        domain: 'Example.COM',
        branch: 'production',
        tags: 'release-*',
        watch: 0,
        drain_timeout: 5,
        release_timeout: 600,
        processes: { worker: { strategy: 'stop-first', stop_grace: 120, healthcheck: 'test -f /tmp/ready' }, clock: {} },
        rollout: { batch: 2, start_timeout: 45, skip_unreachable: true },
      }),
    );
    expect(settings).toEqual({
      healthcheck: { path: '/actuator/health', timeoutSeconds: 90 },
      portEnv: 'server_port',
      env: { SPRING_PROFILES_ACTIVE: 'prod', WORKERS: '4' },
      volumes: ['/srv/data:/data', '/etc/app:/config:ro'],
      domain: 'example.com',
      aliases: [],
      tls: 'off',
      branch: 'production',
      tagPattern: 'release-*',
      watchSeconds: 0,
      drainTimeoutSeconds: 5,
      releaseTimeoutSeconds: 600,
      rollout: { batch: 2, startTimeoutSeconds: 45, skipUnreachable: true },
      processes: { worker: { strategy: 'stop-first', stopGraceSeconds: 120, healthcheck: 'test -f /tmp/ready' }, clock: { strategy: 'start-first', stopGraceSeconds: 30, healthcheck: undefined } },
    });
  });
  it.each([
    ['{', /^slipway.json: not valid JSON/],
    ['[]', /^slipway.json: expected a JSON object, got \[\]$/],
    ['{"helthcheck":{}}', /^slipway.json: unknown field "helthcheck" \(known: healthcheck, /],
    ['{"healthcheck":{"path":"health"}}', /^slipway.json: healthcheck.path: expected a path starting with "\/"/],
    ['{"healthcheck":{"timeout":-1}}', /^slipway.json: healthcheck.timeout: expected a number > 0, got -1$/],
    ['{"healthcheck":{"timeout":"30s"}}', /^slipway.json: healthcheck.timeout: expected a number, got "30s"$/],
    ['{"port_env":"server port"}', /^slipway.json: port_env: expected an environment variable name/],
    ['{"env":{"A B":"x"}}', /^slipway.json: env\["A B"\]: invalid key: expected an environment variable name/],
    ['{"env":{"A":{}}}', /^slipway.json: env.A: expected a string, a number or true or false, got \{\}$/],
    ['{"volumes":"/a:/b"}', /^slipway.json: volumes: expected an array, got "\/a:\/b"$/],
    ['{"volumes":["relative:/b"]}', /^slipway.json: volumes\[0\]: expected "\/host\/path:\/container\/path"/],
    ['{"domain":"exa mple.com"}', /^slipway.json: domain: expected a host name/],
    ['{"branch":"a..b"}', /^slipway.json: branch: expected a valid branch name, got "a..b"$/],
    ['{"tags":"v$(x)"}', /^slipway.json: tags: expected a glob of tag names/],
    ['{"watch":-1}', /^slipway.json: watch: expected a number ≥ 0, got -1$/],
    ['{"watch":3601}', /^slipway.json: watch: expected a number ≤ 3600, got 3601$/],
    ['{"drain_timeout":"30"}', /^slipway.json: drain_timeout: expected a number, got "30"$/],
    ['{"healthcheck":{"timeout":0}}', /^slipway.json: healthcheck.timeout: expected a number > 0, got 0$/],
    ['{"domain":""}', /^slipway.json: domain: expected a non-empty string/],
    ['{"release_timeout":0}', /^slipway.json: release_timeout: expected a number > 0, got 0$/],
    ['{"processes":{"worker":{"strategy":"rolling"}}}', /^slipway.json: processes.worker.strategy: /],
    ['{"processes":{"worker":{"stop_grace":-1}}}', /^slipway.json: processes.worker.stop_grace: expected a number ≥ 0, got -1$/],
    ['{"processes":{"worker":{"grace":3}}}', /^slipway.json: processes.worker: unknown field "grace"/],
    ['{"processes":{"a.b":{}}}', /^slipway.json: processes\["a.b"\]: invalid key: expected a Procfile process type name/],
    ['{"release_timeout":"300"}', /^slipway.json: release_timeout: expected a number, got "300"$/],
  ])('refuses %s naming the field', (text, message) => {
    expect(() => parseAppSettings(text)).toThrow(InputError);
    expect(() => parseAppSettings(text)).toThrow(message);
  });
  it('docs/slipway-json.md is exactly what the schema generates (`npm run docs`), every field in it', () => {
    const doc = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'slipway-json.md'), 'utf8');
    expect(doc).toBe(slipwayJsonReferenceMarkdown());
    for (const field of ['healthcheck.path', 'healthcheck.timeout', 'port_env', 'env', 'volumes', 'domain', 'branch', 'tags', 'watch', 'drain_timeout']) expect(doc).toContain(`| \`${field}\` |`);
  });
});
