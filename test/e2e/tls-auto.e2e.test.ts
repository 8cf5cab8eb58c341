/**
 * `"tls": "auto"`: Apache's own ACME client (mod_md) gets the app's certificate from a local ACME
 * server (pebble, on loopback, validating no challenge), slipway reloads Apache to put it in
 * service, and again after each renewal, never while a deploy runs.
 */
import http from 'node:http';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitPush } from '../support/git-client';
import { httpGet, httpsGet } from '../support/http-get';
import { startPebble, type PebbleInstance } from '../support/pebble-instance';
import { startRequestStream } from '../support/request-stream';
import { startTestStack, type TestStack } from '../support/test-stack';
import { commit, writeBusyboxApp, type AppWorktree } from '../support/test-app';

const RELOADED = 'tls: Apache reloaded gracefully to serve the new certificate';

/** Long enough for the first two tests to finish before mod_md renews (at two thirds of it). */
const VALIDITY_SECONDS = 120;

let pebble: PebbleInstance;
let stack: TestStack;
let app: AppWorktree;
let domain: string;
let alias: string;
let httpsPort: number;

interface Served {
  serial: string;
  issuer: string;
  altNames: string;
}

/** The certificate Apache's HTTPS port serves for `servername`. */
function servedCertificate(port: number, servername: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({ serial: cert.serialNumber, issuer: String(cert.issuer?.CN ?? ''), altNames: cert.subjectaltname ?? '' });
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
  });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs / 1000} s ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** slipway's pino log lines (JSON on stdout). */
function logLines(): { time: number; msg: string; app?: string; job?: string }[] {
  return stack.slipway
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as { time: number; msg: string };
        return typeof parsed.msg === 'string' ? [parsed] : [];
      } catch {
        return [];
      }
    });
}

/** [start, end] of every deploy the worker ran, from its `deploy started` / `deploy finished` lines. */
function deployWindows(): { job: string; start: number; end: number }[] {
  const lines = logLines();
  return lines
    .filter((l) => l.msg === 'deploy started')
    .map((s) => ({
      job: s.job as string,
      start: s.time,
      end: lines.find((l) => l.msg === 'deploy finished' && l.job === s.job)?.time ?? Number.POSITIVE_INFINITY,
    }));
}

async function pushVersion(version: string, extra: Record<string, unknown> = {}): Promise<string> {
  await writeBusyboxApp(app.dir, { version, slipwayJson: { healthcheck: { path: '/cgi-bin/health' }, watch: 1, domain, aliases: [alias], tls: 'auto', ...extra } });
  await commit(app.dir, version);
  return (await gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main'])).output;
}

beforeAll(async () => {
  pebble = await startPebble({ validitySeconds: VALIDITY_SECONDS });
  stack = await startTestStack(
    (apache) => ({
      SLIPWAY_APACHE_HTTPS_PORT: String(apache.tls?.port),
      SLIPWAY_ACME_CA: pebble.directoryUrl,
      SLIPWAY_ACME_CA_TRUST: pebble.listenerCertFile,
      SLIPWAY_ACME_EMAIL: 'ops@example.test',
      SLIPWAY_ACME_AGREE_TOS: '1',
    }),
    { md: true },
  );
  app = await stack.newApp();
  domain = `${app.name}.example.test`;
  alias = `www.${domain}`;
  httpsPort = stack.apache.tls?.port as number;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await pebble?.stop();
});

describe('tls auto (mod_md + pebble)', () => {
  it('a push with "tls": "auto" gets a certificate from the ACME CA: HTTPS serves it, HTTP redirects, `slipway tls` says valid', async () => {
    const push = await pushVersion('a1');
    expect(push).toContain(`tls auto: mod_md manages the certificate for ${domain}, ${alias}`);
    expect(push).toMatch(new RegExp(`✔ ${app.name} [0-9a-f]{7} live on port \\d+ in [\\d.]+ s · https://${domain.replace(/\./g, '\\.')}/`));
    const issuer = await pebble.issuerName();
    const started = Date.now();
    const served = await waitFor('the certificate issued by pebble', 60_000, async () => {
      const cert = await servedCertificate(httpsPort, domain);
      return cert.issuer === issuer ? cert : undefined;
    });
    console.log(`certificate from pebble served ${((Date.now() - started) / 1000).toFixed(1)} s after the push returned (serial ${served.serial})`);
    expect(served.altNames).toContain(`DNS:${domain}`);
    expect(served.altNames).toContain(`DNS:${alias}`);
    expect((await servedCertificate(httpsPort, alias)).serial).toBe(served.serial);
    // The line is logged once Apache answers again after the reload, a moment after it serves the certificate.
    await waitFor("slipway's reload line", 15_000, async () => logLines().find((l) => l.msg === RELOADED) ?? undefined);

    expect((await httpsGet(httpsPort, domain)).body.trim()).toBe('version=a1');
    const redirect = await httpGet(stack.apache.port, '/some/path?q=1', alias);
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`https://${alias}:${httpsPort}/some/path?q=1`);
    // mod_md answers ACME's challenge path itself (404 for an unknown token), never the redirect.
    expect((await httpGet(stack.apache.port, '/.well-known/acme-challenge/unknown', domain)).status).toBe(404);

    const json = await stack.slipway.cli(['tls', app.name, '--json']);
    expect(json.code).toBe(0);
    const [row] = JSON.parse(json.output) as { app: string; certificate: { state: string; active: { serial: string }; domains: string[] } }[];
    expect(row.app).toBe(app.name);
    expect(row.certificate.state).toBe('valid');
    expect(row.certificate.domains).toEqual([domain, alias]);
    expect(row.certificate.active.serial.replace(/^0+/, '')).toBe(served.serial.replace(/^0+/, ''));
    const text = await stack.slipway.cli(['tls']);
    expect(text.output).toMatch(new RegExp(`${app.name}\\s+${domain} ${alias}\\s+valid until .*renewal due`));

    // The dashboard's app page shows the same.
    const page = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: stack.slipway.port, path: `/apps/${app.name}`, headers: { authorization: `Bearer ${stack.slipway.token}` } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    expect(page).toMatch(/<dt>Certificate<\/dt><dd class="certificate">valid until [^<]*renewal due/);

    // doctor: the modules are loaded; the test names resolve nowhere, which is a warning, not a crash.
    const doctor = JSON.parse((await stack.slipway.cli(['doctor', '--json'])).output) as { checks: { name: string; status: string; detail: string }[] };
    expect(doctor.checks.find((c) => c.name === 'tls modules')?.status).toBe('ok');
    expect(doctor.checks.find((c) => c.name === `tls dns ${domain}`)).toMatchObject({ status: 'warn' });
    expect(doctor.checks.find((c) => c.name === 'tls port 80')).toMatchObject({ status: 'warn' });
    expect(doctor.checks.find((c) => c.name === `template ${app.name}`)).toMatchObject({ status: 'ok', detail: expect.stringContaining('routes through the port map') });
  }, 180_000);

  it('a deploy under an HTTPS request stream: 0 failed, the new version serves', async () => {
    const stream = startRequestStream(httpsPort, domain, '/', 20, { tls: true });
    await new Promise((r) => setTimeout(r, 1000));
    // Watched for 5 s, so the stream spans the build, the switch, the watch and the drain.
    const push = await pushVersion('a2', { watch: 5 });
    await new Promise((r) => setTimeout(r, 500));
    const result = await stream.stop();
    expect(push).toContain(`✔ ${app.name}`);
    expect(push).toMatch(/probe: \d+ requests, 0 failed/);
    // The port switch stays reload-free with TLS on: only the port map changes.
    expect(push).toMatch(/port map → :\d+ \(no reload\)/);
    console.log(`HTTPS stream during the deploy: ${result.total} requests, ${result.failed} failed ${result.failures.join(', ')}`);
    expect(result.total).toBeGreaterThan(100);
    expect(result.failed).toBe(0);
    expect(result.bodies.get('version=a2')).toBeGreaterThan(0);
    expect((await httpsGet(httpsPort, domain)).body.trim()).toBe('version=a2');
  }, 120_000);

  it("a renewal due while a deploy runs: the new certificate is served after slipway's reload, which waits for the deploy", async () => {
    const before = await servedCertificate(httpsPort, domain);
    const [row] = JSON.parse((await stack.slipway.cli(['tls', app.name, '--json'])).output) as { certificate: { renewAt: string } }[];
    const renewAt = Date.parse(row.certificate.renewAt);
    // Push so that mod_md renews (it looks every 2 s in this Apache) while the deploy watches its app for 20 s.
    await new Promise((r) => setTimeout(r, Math.max(0, renewAt - Date.now() - 3000)));
    // Visitors over HTTPS throughout: what the deploy and the certificate's graceful reload cost them.
    const stream = startRequestStream(httpsPort, domain, '/', 20, { tls: true });
    const streamStarted = Date.now();
    const push = await pushVersion('a3', { watch: 20 });
    expect(push).toContain(`✔ ${app.name}`);
    const after = await waitFor('the renewed certificate', 60_000, async () => {
      const cert = await servedCertificate(httpsPort, domain);
      return cert.serial !== before.serial ? cert : undefined;
    });
    expect(after.issuer).toBe(before.issuer);

    const windows = deployWindows();
    const last = windows[windows.length - 1];
    const reloadAfterDeploy = await waitFor("slipway's reload line after the deploy", 15_000, async () => logLines().find((l) => l.msg === RELOADED && l.time > last.end));
    await new Promise((r) => setTimeout(r, 1000));
    const visitors = await stream.stop();
    console.log(
      `HTTPS stream (20/s) across the deploy and the certificate reload (${((reloadAfterDeploy.time - streamStarted) / 1000).toFixed(1)} s after the stream started): ${visitors.total} requests, ${visitors.failed} failed ${visitors.failures.join(', ')}`,
    );
    expect(visitors.bodies.get('version=a3')).toBeGreaterThan(0);
    const lines = logLines();
    const waited = lines.filter((l) => l.msg.startsWith('tls: new certificate ready; reload waits for the deploy of'));
    const reloads = lines.filter((l) => l.msg === RELOADED);
    console.log(
      `deploy ${new Date(last.start).toISOString()}–${new Date(last.end).toISOString()}; waits ${waited.map((l) => new Date(l.time).toISOString()).join(', ')}; reloads ${reloads.map((l) => new Date(l.time).toISOString()).join(', ')}`,
    );
    // The renewed certificate was ready during the deploy, and its reload came after the deploy.
    expect(waited.some((l) => l.time >= last.start && l.time <= last.end)).toBe(true);
    expect(reloads.some((l) => l.time > last.end)).toBe(true);
    // No certificate reload ever happened while any deploy ran (the log line is written after the
    // reload, which starts at most a few seconds earlier, after the locks were taken).
    for (const reload of reloads) {
      for (const w of windows) expect(reload.time > w.start && reload.time < w.end, `reload at ${reload.time} inside deploy ${w.job}`).toBe(false);
    }
  }, 240_000);

  it('bad input changes nothing: tls auto without a domain (slipway.json or tls:auto on), an invalid alias, a bad tls:auto value', async () => {
    const other = await stack.newApp();
    await writeBusyboxApp(other.dir, { version: 'b1', slipwayJson: { healthcheck: { path: '/cgi-bin/health' }, watch: 0, tls: 'auto' } });
    await commit(other.dir, 'b1');
    const push = await gitPush(other.dir, stack.slipway.remoteUrl(other.name), ['main']);
    expect(push.output).toContain('✘ invalid settings: tls "auto" needs a domain');

    await writeBusyboxApp(app.dir, { version: 'a4', slipwayJson: { domain, aliases: ['not a host'], tls: 'auto' } });
    await commit(app.dir, 'a4');
    const bad = await gitPush(app.dir, stack.slipway.remoteUrl(app.name), ['main']);
    expect(bad.output).toContain('slipway.json: aliases[0]: expected a host name, got "not a host"');
    expect((await httpsGet(httpsPort, domain)).body.trim()).toBe('version=a3');

    const noDomain = await stack.slipway.cli(['tls:auto', other.name, 'on']);
    expect(noDomain.code).not.toBe(0);
    expect(noDomain.output).toContain('tls "auto" needs a domain');
    expect((await stack.slipway.cli(['tls', other.name])).output).toContain(`${other.name} does not use "tls": "auto"`);

    const off = await stack.slipway.cli(['tls:auto', app.name, 'maybe']);
    expect(off.code).not.toBe(0);
    expect(off.output).toContain('tls:auto takes "on" or "off"');
  }, 120_000);

  it('`slipway tls:auto <app> off|on` overrides slipway.json on the server, redeploys, and is audited', async () => {
    // Without the renewal test's 20 s watch, so the two redeploys below are quick.
    expect(await pushVersion('a5', { watch: 0 })).toContain(`✔ ${app.name}`);
    const off = await stack.slipway.cli(['tls:auto', app.name, 'off']);
    expect(off.code).toBe(0);
    const plain = await httpGet(stack.apache.port, '/', domain);
    expect(plain.status).toBe(200);
    expect(plain.body.trim()).toBe('version=a5');
    expect((await stack.slipway.cli(['tls', app.name])).output).toContain(`${app.name} does not use "tls": "auto"`);

    const on = await stack.slipway.cli(['tls:auto', app.name, 'on']);
    expect(on.code).toBe(0);
    expect(on.output).toContain(`tls auto: mod_md manages the certificate for ${domain}, ${alias}`);
    expect((await httpGet(stack.apache.port, '/', domain)).status).toBe(301);
    expect((await httpsGet(httpsPort, domain)).body.trim()).toBe('version=a5');

    const audit = JSON.parse((await stack.slipway.cli(['audit', app.name, '--json'])).output) as { action: string; detail: string }[];
    expect(audit.filter((e) => e.action === 'tls').map((e) => e.detail)).toEqual(['tls: off', 'tls: auto']);
  }, 120_000);
});
