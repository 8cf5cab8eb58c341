/**
 * SSL termination in Apache, as the seed's vhost does it: with the operator's certificate files
 * configured, the default template also serves the app on HTTPS, and a deploy switches both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitPush } from '../support/git-client';
import { httpGet, httpsGet } from '../support/http-get';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

let stack: TestStack;
let app: AppWorktree;

beforeAll(async () => {
  stack = await startTestStack(
    (apache) => ({
      SLIPWAY_SSL_CERT_FILE: apache.tls?.certFile ?? '',
      SLIPWAY_SSL_KEY_FILE: apache.tls?.keyFile ?? '',
      SLIPWAY_APACHE_HTTPS_PORT: String(apache.tls?.port),
    }),
    { tls: true },
  );
  app = await stack.newApp();
});

afterAll(async () => {
  await stack?.stop();
});

describe('TLS termination', () => {
  it('serves the app on HTTPS with the configured certificate, and a deploy switches HTTP and HTTPS alike', async () => {
    const { apache, slipway } = stack;
    const host = `${app.name}.localhost`;
    for (const version of ['t1', 't2']) {
      await writeBusyboxApp(app.dir, { version, slipwayJson: { healthcheck: { path: '/cgi-bin/health' }, watch: 0 } });
      await commit(app.dir, version);
      const push = await gitPush(app.dir, slipway.remoteUrl(app.name), ['main']);
      expect(push.output).toMatch(new RegExp(`✔ ${app.name} [0-9a-f]{7} live on port \\d+ in [\\d.]+ s · https://${host}/`));
      expect((await httpsGet(apache.tls?.port as number, host)).body.trim()).toBe(`version=${version}`);
      expect((await httpGet(apache.port, '/', host)).body.trim()).toBe(`version=${version}`);
    }
  });

  it('slipway domains:set moves the app to another host name (a config release, no build), on HTTP and HTTPS', async () => {
    const { apache, slipway } = stack;
    const domain = `www-${app.name}.localhost`;
    const set = await slipway.cli(['domains:set', app.name, domain]);
    expect(set.output).not.toContain('-----> Building');
    expect(set.output).toContain('vhost changed: configtest passed, Apache reloaded gracefully');
    expect(set.output).toContain(`https://${domain}/`);
    expect((await httpsGet(apache.tls?.port as number, domain)).body.trim()).toBe('version=t2');
    expect((await httpGet(apache.port, '/', domain)).body.trim()).toBe('version=t2');
    expect((await slipway.cli(['domains:set', app.name, 'not a host'])).output).toContain('is not a host name');
  });
});
