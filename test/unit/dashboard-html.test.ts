import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppStatus } from '../../src/dashboard/app-status';
import { appPage, deployPage, loginPage, overviewPage } from '../../src/dashboard/dashboard-pages';
import { esc, formatDuration, formatUptime, logLineClass, renderLogLines } from '../../src/dashboard/html';
import type { ReleaseRecord } from '../../src/releases/release-store';

const EVIL = `<script>alert("x")</script>&'`;
const ctx = { nonce: 'n0nce', csrf: 'c5rf', loggedIn: true };

function release(number: number, over: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    number,
    app: 'shop',
    sha: `${number}`.padStart(40, 'a'),
    ref: 'refs/heads/main',
    kind: 'push',
    deployId: `deploy-shop-${'a'.repeat(12)}-${1_700_000_000_000 + number}`,
    pushedBy: 'git',
    startedAt: '2026-11-01T10:00:00.000Z',
    durationMs: 1000 * number,
    result: 'live',
    port: 8080 + number,
    ...over,
  };
}

const status = (live?: ReleaseRecord): AppStatus => ({
  app: 'shop',
  live,
  processes: [
    { type: 'web', scale: 1, running: 1 },
    { type: 'worker', scale: 2, running: 2 },
  ],
  container: { state: 'running', restarted: false, startedAt: '2026-11-01T10:00:00.000Z' },
  web: { running: 1, total: 1 },
  health: { ok: true, reason: 'GET / → 200' },
  pending: [],
});

describe('esc', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(esc(`<a href="x" onclick='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });
  it('prints numbers and leaves empty for undefined/null', () => {
    expect(esc(42)).toBe('42');
    expect(esc(undefined)).toBe('');
    expect(esc(null)).toBe('');
  });
});

describe('formatters', () => {
  it('formats durations and uptimes', () => {
    expect(formatDuration(9400)).toBe('9.4 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(3_780_000)).toBe('1 h 03 min');
    expect(formatDuration(-1)).toBe('-');
    expect(formatUptime(42_900)).toBe('42 s');
    expect(formatUptime(2 * 86_400_000 + 4 * 3_600_000)).toBe('2 d 4 h');
  });
  it('classes log lines by their marker', () => {
    expect(logLineClass('✔ shop abc live')).toBe('l-ok');
    expect(logLineClass('✘ build failed')).toBe('l-bad');
    expect(logLineClass('-----> Building')).toBe('l-step');
    expect(logLineClass('       Step 1/6')).toBe('');
  });
});

describe('pages escape user-controlled text', () => {
  it('log lines', () => {
    const html = renderLogLines([EVIL]);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  });

  it('refs, notes, pushers and failure reasons on the app page', () => {
    const releases = [release(1, { pushedBy: EVIL, ref: `refs/heads/${EVIL}` }), release(2, { result: 'failed', reason: EVIL, note: EVIL }), release(3)];
    const html = appPage(ctx, { status: status(releases[2]), releases, previous: { target: releases[0] }, recent: [], now: Date.parse('2026-11-01T11:00:00Z'), maintenance: false });
    expect(html).not.toContain('<script>alert');
    expect(html.match(/&lt;script&gt;alert/g)?.length).toBeGreaterThanOrEqual(4);
    // Rollback buttons carry the CSRF token; the live release has none of its own.
    expect(html).toContain('name="csrf" value="c5rf"');
    expect(html).toContain('id="rollback-previous"');
    expect(html).toContain('data-release="1"');
    expect(html).not.toContain('data-release="3"');
    expect(html).not.toContain('data-release="2"');
    expect(html).toContain('<dt>Processes</dt><dd>web 1/1, worker 2/2</dd>');
  });

  it('a workers-only app: its workers speak for it (no web container), and it can be stopped and restarted', () => {
    const live = release(1);
    const workersOnly: AppStatus = {
      ...status(live),
      container: { state: 'none', restarted: false },
      web: { running: 0, total: 0 },
      health: undefined,
      processes: [{ type: 'worker', scale: 2, running: 2 }],
    };
    const html = appPage(ctx, { status: workersOnly, releases: [live], previous: { problem: 'no earlier release' }, recent: [], now: Date.parse('2026-11-01T11:00:00Z'), maintenance: false });
    expect(html).toContain('workers running');
    expect(html).toContain('<dt>Processes</dt><dd>worker 2/2</dd>');
    expect(html).toContain('Restart');
    expect(html).toContain('Stop');
  });

  it('the login page keeps `next` in an escaped attribute', () => {
    const html = loginPage({ ...ctx, loggedIn: false }, { next: `/x"><script>`, error: EVIL });
    expect(html).not.toContain('"><script>');
    expect(html).not.toContain('<script>alert');
  });

  it('inline style and script carry the nonce; the deploy page script only when streaming', () => {
    const live = deployPage(ctx, {
      app: 'shop',
      id: 'deploy-shop-aaaaaaaaaaaa-1',
      state: 'running',
      lines: ['-----> Building'],
      eventsUrl: '/apps/shop/deploys/deploy-shop-aaaaaaaaaaaa-1/events?from=1',
    });
    expect(live).toContain('<style nonce="n0nce">');
    expect(live).toContain('<script nonce="n0nce">');
    expect(live).toContain('data-events="/apps/shop/deploys/deploy-shop-aaaaaaaaaaaa-1/events?from=1"');
    const done = deployPage(ctx, { app: 'shop', id: 'deploy-shop-aaaaaaaaaaaa-1', state: 'live', lines: ['✔ done'] });
    expect(done).not.toContain('<script');
  });

  it('the overview shows each app with its live release and health', () => {
    const html = overviewPage(ctx, { statuses: [status(release(4))], now: Date.parse('2026-11-01T10:03:07Z') });
    expect(html).toContain('href="/apps/shop"');
    expect(html).toContain('v4');
    expect(html).toContain('healthy');
    expect(html).toContain('3 min 07 s');
  });

  it('the overview names damaged state files and marks their app, escaped, and still lists the others', () => {
    const problem = '/h/apps/shop.json: not valid JSON (Unexpected end of JSON input): the file is damaged or cut short; slipway left it as it is <b>';
    const html = overviewPage(ctx, {
      statuses: [
        { ...status(undefined), stateProblem: problem },
        { ...status(release(4)), app: 'blog' },
      ],
      now: 0,
      stateProblems: [problem],
    });
    expect(html).toContain('<p class="notice bad" role="alert">/h/apps/shop.json: not valid JSON');
    expect(html).toContain('&lt;b&gt;');
    expect(html).toContain('state damaged');
    expect(html).toContain('href="/apps/blog"');
  });
});

describe('footer', () => {
  it("names slipway's version (package.json) to a logged-in viewer only", () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(overviewPage(ctx, { statuses: [], now: 0 })).toContain(`<footer class="version">slipway ${version}</footer>`);
    expect(loginPage({ ...ctx, loggedIn: false }, { next: '/' })).not.toContain('<footer');
  });
});
