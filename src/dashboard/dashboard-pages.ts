import { formatTypeCounts } from '../apps/process-status';
import { shortSha } from '../names';
import type { ReleaseRecord } from '../releases/release-store';
import type { AppStatus, PendingDeploy } from './app-status';
import { renderDurationChart } from './duration-chart';
import { badge, esc, formatDuration, formatTime, formatUptime, layout, renderLogLines, shortRef } from './html';

/** What every page needs from the request: the CSP nonce and, for a session, its CSRF token. */
export interface PageContext {
  nonce: string;
  /** The session's CSRF token (empty for header-authorized requests, which need none). */
  csrf: string;
  loggedIn: boolean;
}

// ---------------------------------------------------------------- login

export function loginPage(ctx: PageContext, view: { next: string; error?: string }): string {
  const error = view.error ? `<p class="notice bad" role="alert">${esc(view.error)}</p>` : '';
  return layout(
    { title: 'Log in', nonce: ctx.nonce, loggedIn: false },
    `<div class="login card">
<h1>Log in</h1>
${error}<form method="post" action="/login">
<input type="hidden" name="next" value="${esc(view.next)}">
<label for="token">Push token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit" class="primary">Log in</button>
</form>
<p class="muted">The token of your git remote (<code>http://git:TOKEN@host:port/app.git</code>), kept in <code>$SLIPWAY_HOME/token</code>.</p>
</div>`,
  );
}

// ---------------------------------------------------------------- overview

export function overviewPage(ctx: PageContext, view: { statuses: AppStatus[]; now: number; stateProblems?: string[] }): string {
  const rows = view.statuses.map((s) => {
    const live = s.live;
    const deploying = s.pending[0] ? `<a class="running-deploy" href="/apps/${esc(s.app)}/deploys/${esc(s.pending[0].id)}">${badge('run', pendingLabel(s.pending[0]))}</a>` : '';
    return `<tr>
<td class="nowrap"><a href="/apps/${esc(s.app)}"><strong>${esc(s.app)}</strong></a></td>
<td>${live ? `v${esc(live.number)}` : '<span class="muted">none yet</span>'}</td>
<td>${live ? `<code>${esc(shortSha(live.sha))}</code> <span class="muted">${esc(live.note ?? shortRef(live.ref))}</span>` : ''}</td>
<td class="num">${esc(live?.port ?? '-')}</td>
<td>${containerBadge(s)}</td>
<td class="nowrap">${s.container.startedAt ? esc(formatUptime(view.now - Date.parse(s.container.startedAt))) : '<span class="muted">-</span>'}</td>
<td>${healthBadge(s)}</td>
<td class="nowrap">${processCounts(s)}</td>
<td>${deploying}${s.stateProblem ? ` ${badge('bad', 'state damaged')}` : ''}</td>
</tr>`;
  });
  const table = view.statuses.length
    ? `<table class="apps">
<thead><tr><th>App</th><th>Live release</th><th>Commit</th><th class="num">Port</th><th>Container</th><th>Uptime</th><th>Health</th><th>Processes</th><th>Deploy</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
    : '<div class="card"><p>No apps yet. Push one: <code>git push http://git:TOKEN@host:port/myapp.git main</code></p></div>';
  // Damaged state files (or ones from a newer slipway): slipway leaves them as they are and refuses their apps.
  const problems = (view.stateProblems ?? []).map((p) => `<p class="notice bad" role="alert">${esc(p)}</p>`).join('\n');
  return layout({ title: 'Apps', nonce: ctx.nonce, csrf: ctx.csrf, loggedIn: ctx.loggedIn }, `<h1>Apps</h1>\n${problems}${table}`);
}

/** "web 3/3, worker 2/2" (running of scale), or a muted dash before a first release. */
function processCounts(s: AppStatus): string {
  return s.processes.length > 0 ? esc(formatTypeCounts(s.processes)) : '<span class="muted">-</span>';
}

function containerBadge(s: AppStatus): string {
  if (s.container.state === 'running') return s.container.restarted ? badge('warn', 'running (restarted)') : badge('ok', 'running');
  if (s.container.state === 'stopped') return badge('bad', `stopped (exit ${s.container.exitCode ?? '?'})`);
  // A workers-only app has no web container: its workers speak for it.
  if (s.processes.length > 0 && !s.processes.some((p) => p.type === 'web')) return s.processes.some((p) => p.running > 0) ? badge('ok', 'workers running') : badge('bad', 'workers stopped');
  return badge('muted', 'none');
}

function healthBadge(s: AppStatus): string {
  if (!s.health) return '<span class="muted">-</span>';
  return s.health.ok ? `<span title="${esc(s.health.reason)}">${badge('ok', 'healthy')}</span>` : `${badge('bad', 'unhealthy')} <span class="reason">${esc(s.health.reason)}</span>`;
}

function pendingLabel(p: PendingDeploy): string {
  return p.state === 'active' ? `deploying ${shortSha(p.sha)}` : `queued ${shortSha(p.sha)}`;
}

// ---------------------------------------------------------------- app

/** One deploy in an app's recent list: its id, when it was queued, and how it ended (if it did). */
export interface RecentDeploy {
  id: string;
  at: number;
  release: ReleaseRecord | undefined;
  pending: PendingDeploy | undefined;
}

export interface AppPageView {
  status: AppStatus;
  releases: ReleaseRecord[];
  /** The release "Rollback to previous" goes to, or why there is none. */
  previous: { target: ReleaseRecord } | { problem: string };
  recent: RecentDeploy[];
  now: number;
  error?: string;
  /** The app's maintenance page is on. */
  maintenance: boolean;
  /** For a `tls: auto` app: its certificate in one line (`valid until …; renewal due …`). */
  certificate?: string;
  /** For an app on several hosts: what each host runs (`local 1a2b3c4 1/1, h2 1a2b3c4 1/1, h3 down`). */
  hosts?: string;
}

/** Restart / stop / start / maintenance forms (POST with the CSRF token, like rollback). */
function controlButtons(app: string, running: boolean, maintenance: boolean, csrfField: string): string {
  const button = (action: string, label: string) => `<form method="post" action="/apps/${esc(app)}/${action}" class="inline">${csrfField}<button type="submit" id="${action}">${label}</button></form>`;
  return [
    running ? button('restart', 'Restart') : '',
    running ? button('stop', 'Stop') : button('start', 'Start'),
    maintenance ? button('maintenance-off', 'Maintenance off') : button('maintenance-on', 'Maintenance on'),
    maintenance ? '<span class="muted">maintenance page on: Apache answers 503</span>' : '',
  ].join('');
}

export function appPage(ctx: PageContext, view: AppPageView): string {
  const { status } = view;
  const app = status.app;
  const live = status.live;
  const csrfField = `<input type="hidden" name="csrf" value="${esc(ctx.csrf)}">`;
  const rollbackAction = `/apps/${esc(app)}/rollback`;

  const error = view.error ? `<p class="notice bad" role="alert">${esc(view.error)}</p>` : '';
  const pending = status.pending.length
    ? `<div class="notice run">${status.pending
        .map(
          (p) =>
            `${p.state === 'active' ? 'Deploy running' : 'Deploy queued'}: <a class="running-deploy" href="/apps/${esc(app)}/deploys/${esc(p.id)}">${esc(p.note ?? `${p.kind} ${shortSha(p.sha)}`)} · ${esc(p.id)}</a>`,
        )
        .join('<br>')}</div>`
    : '';

  const facts = `<div class="card"><dl class="facts">
<dt>Live release</dt><dd>${live ? `v${esc(live.number)} · <code>${esc(shortSha(live.sha))}</code> · ${esc(live.note ?? shortRef(live.ref))}` : '<span class="muted">none yet</span>'}</dd>
<dt>Port</dt><dd>${esc(live?.port ?? '-')}</dd>
<dt>Container</dt><dd>${containerBadge(status)}${status.container.startedAt ? ` <span class="muted">up ${esc(formatUptime(view.now - Date.parse(status.container.startedAt)))}</span>` : ''}${
    status.web.total > 1 ? ` <span class="muted">${esc(status.web.running)} of ${esc(status.web.total)} web containers running</span>` : ''
  }</dd>
<dt>Health</dt><dd>${healthBadge(status)}</dd>
<dt>Processes</dt><dd>${processCounts(status)}</dd>${
    view.certificate !== undefined
      ? `
<dt>Certificate</dt><dd class="certificate">${esc(view.certificate)}</dd>`
      : ''
  }${
    view.hosts !== undefined
      ? `
<dt>Hosts</dt><dd class="hosts">${esc(view.hosts)}</dd>`
      : ''
  }
</dl>
<div class="actions">${
    'target' in view.previous
      ? `<form method="post" action="${rollbackAction}" class="inline">${csrfField}<button type="submit" class="primary" id="rollback-previous">Rollback to previous</button></form><span class="muted">redeploys v${esc(view.previous.target.number)} (<code>${esc(shortSha(view.previous.target.sha))}</code>, ${esc(view.previous.target.note ?? shortRef(view.previous.target.ref))}) without a build</span>`
      : `<span class="muted">No rollback: ${esc(view.previous.problem)}</span>`
  }${live ? `<br>${controlButtons(app, status.container.state === 'running' || status.processes.some((p) => p.running > 0), view.maintenance, csrfField)}` : ''}</div></div>`;

  const rows = [...view.releases].reverse().map((r) => {
    const isLive = live !== undefined && r.number === live.number;
    const canRollback = r.result === 'live' && !isLive && r.sha !== live?.sha;
    const result = r.result === 'live' ? (isLive ? badge('ok', 'live now') : badge('ok', 'ok')) : `${badge('bad', 'failed')} <span class="reason">${esc(r.reason ?? '')}</span>`;
    const action = canRollback
      ? `<form method="post" action="${rollbackAction}" class="inline">${csrfField}<input type="hidden" name="release" value="${esc(r.number)}"><button type="submit" class="rollback-to" data-release="${esc(r.number)}">Rollback to this release</button></form>`
      : r.result === 'live' && !isLive && r.sha === live?.sha
        ? '<span class="muted small">same commit as live</span>'
        : '';
    return `<tr${isLive ? ' class="live-row"' : ''}>
<td class="num"><a href="/apps/${esc(app)}/deploys/${esc(r.deployId)}">v${esc(r.number)}</a></td>
<td><code>${esc(shortSha(r.sha))}</code></td>
<td>${esc(shortRef(r.ref))}${r.note ? ` <span class="muted">· ${esc(r.note)}</span>` : ''}</td>
<td>${esc(r.pushedBy)}</td>
<td class="nowrap">${esc(formatTime(r.startedAt))}</td>
<td class="num">${esc(formatDuration(r.durationMs))}</td>
<td>${result}</td>
<td>${action}</td>
</tr>`;
  });
  const timeline = view.releases.length
    ? `<table class="releases">
<thead><tr><th class="num">#</th><th>Commit</th><th>Ref / note</th><th>By</th><th>Started</th><th class="num">Took</th><th>Result</th><th></th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
    : '<p class="muted">No releases yet.</p>';

  const recent = view.recent.length
    ? `<table class="deploys">
<thead><tr><th>Deploy</th><th>Queued</th><th>Result</th></tr></thead>
<tbody>
${view.recent
  .map((d) => `<tr><td><a class="mono" href="/apps/${esc(app)}/deploys/${esc(d.id)}">${esc(d.id)}</a></td><td class="nowrap">${esc(formatTime(d.at))}</td><td>${recentResult(d)}</td></tr>`)
  .join('\n')}
</tbody>
</table>`
    : '<p class="muted">No deploys yet.</p>';

  const chart = renderDurationChart(view.releases.map((r) => ({ number: r.number, durationMs: r.durationMs, result: r.result })));
  return layout(
    { title: app, nonce: ctx.nonce, csrf: ctx.csrf, loggedIn: ctx.loggedIn },
    `<p class="muted"><a href="/">Apps</a> /</p>
<h1>${esc(app)}</h1>
${error}${pending}${facts}
<h2>Deploy durations</h2>
<div class="card chart">${chart}<p class="legend"><span class="key ok"></span>went live <span class="key bad"></span>failed <span class="muted">· last 30 deploys, hover a bar for details</span></p></div>
<h2>Releases</h2>
${timeline}
<h2>Recent deploys</h2>
${recent}`,
  );
}

function recentResult(d: RecentDeploy): string {
  if (d.pending) return badge('run', d.pending.state === 'active' ? 'running' : 'queued');
  if (!d.release) return badge('muted', 'no release');
  return d.release.result === 'live' ? badge('ok', `v${d.release.number} ok`) : badge('bad', `v${d.release.number} failed`);
}

// ---------------------------------------------------------------- deploy

/** A deploy's state as the deploy page shows it. */
export type DeployState = 'running' | 'queued' | 'live' | 'failed' | 'superseded' | 'gone';

export interface DeployPageView {
  app: string;
  id: string;
  state: DeployState;
  lines: string[];
  /** Set while the deploy runs: where the page's EventSource listens, from line `lines.length` on. */
  eventsUrl?: string;
  job?: { sha: string; ref: string; kind: string; note?: string; pushedBy: string; pushedAt: string };
  release?: ReleaseRecord;
  summary?: string;
}

const STATE_BADGE: Record<DeployState, [Parameters<typeof badge>[0], string]> = {
  running: ['run', 'running'],
  queued: ['run', 'queued'],
  live: ['ok', 'live'],
  failed: ['bad', 'failed'],
  superseded: ['warn', 'superseded'],
  gone: ['muted', 'finished'],
};

export function deployPage(ctx: PageContext, view: DeployPageView): string {
  const info = view.job ?? view.release;
  const [kind, text] = STATE_BADGE[view.state];
  const facts = info
    ? `<dl class="facts">
<dt>Commit</dt><dd><code>${esc(shortSha(info.sha))}</code> <span class="muted mono">${esc(info.sha)}</span></dd>
<dt>Ref</dt><dd>${esc(shortRef(info.ref))}${info.note ? ` <span class="muted">· ${esc(info.note)}</span>` : ''}</dd>
<dt>Kind</dt><dd>${esc(info.kind)}</dd>
<dt>By</dt><dd>${esc(info.pushedBy)}</dd>
<dt>Started</dt><dd>${esc(formatTime(view.release?.startedAt ?? view.job?.pushedAt))}</dd>
${view.release ? `<dt>Took</dt><dd>${esc(formatDuration(view.release.durationMs))} · release v${esc(view.release.number)}${view.release.reason ? ` · <span class="reason">${esc(view.release.reason)}</span>` : ''}</dd>` : ''}
</dl>`
    : '';
  const script = view.eventsUrl ? LIVE_LOG_SCRIPT : undefined;
  return layout(
    { title: view.id, nonce: ctx.nonce, csrf: ctx.csrf, loggedIn: ctx.loggedIn, script },
    `<p class="muted"><a href="/">Apps</a> / <a href="/apps/${esc(view.app)}">${esc(view.app)}</a> /</p>
<h1>Deploy <span class="mono">${esc(view.id)}</span> <span id="deploy-state" class="badge ${kind}">${esc(text)}</span></h1>
<div class="card">${facts}</div>
<pre id="log" class="log"${view.eventsUrl ? ` data-events="${esc(view.eventsUrl)}" data-live="1"` : ''}>${renderLogLines(view.lines)}</pre>
${view.eventsUrl ? '<p class="muted" id="live-note">Streaming live…</p>' : ''}`,
  );
}

/**
 * The deploy page's live log: an EventSource appends each line as a text node (never HTML), keeps
 * the view scrolled to the end, and on `end` closes the stream and shows the result. Static text:
 * the URL comes from an escaped data attribute.
 */
const LIVE_LOG_SCRIPT = `(function () {
  var pre = document.getElementById('log');
  var state = document.getElementById('deploy-state');
  var note = document.getElementById('live-note');
  if (!pre || !pre.dataset.events || !window.EventSource) return;
  function cls(line) {
    if (line.indexOf('\\u2714') === 0) return 'l-ok';
    if (line.indexOf('\\u2718') === 0) return 'l-bad';
    if (line.indexOf('\\u21e2') === 0) return 'l-warn';
    if (line.indexOf('----->') === 0) return 'l-step';
    return '';
  }
  function add(line) {
    var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 40;
    var span = document.createElement('span');
    var c = cls(line);
    if (c) span.className = c;
    span.textContent = line;
    pre.appendChild(span);
    pre.appendChild(document.createTextNode('\\n'));
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }
  function show(kind, text) { state.className = 'badge ' + kind; state.textContent = text; }
  var source = new EventSource(pre.dataset.events);
  source.onmessage = function (e) { add(e.data); };
  source.addEventListener('state', function (e) { show('run', e.data === 'active' ? 'running' : 'queued'); });
  source.addEventListener('end', function (e) {
    source.close();
    var r = {};
    try { r = JSON.parse(e.data); } catch (err) {}
    if (r.ok) show('ok', 'live'); else if (r.superseded) show('warn', 'superseded'); else show('bad', 'failed');
    if (note) note.innerHTML = 'Finished. <a href="">Reload</a> for the release record.';
    pre.dataset.live = '0';
  });
  source.onerror = function () { if (note && pre.dataset.live === '1') note.textContent = 'Connection lost; reconnecting…'; };
  source.onopen = function () { if (note) note.textContent = 'Streaming live…'; };
})();`;

// ---------------------------------------------------------------- errors

export function messagePage(ctx: PageContext, view: { title: string; message: string }): string {
  return layout(
    { title: view.title, nonce: ctx.nonce, csrf: ctx.csrf, loggedIn: ctx.loggedIn },
    `<h1>${esc(view.title)}</h1>\n<div class="card"><p>${esc(view.message)}</p><p><a href="/">Back to the apps</a></p></div>`,
  );
}
