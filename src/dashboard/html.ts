/**
 * HTML building blocks of the dashboard: escaping, the page layout (inline CSS under a nonce) and
 * the small formatters the pages share. Everything a user controls (app names, refs, pushers, log
 * lines, reasons) goes through `esc` before it reaches a page.
 */
import { SLIPWAY_VERSION } from '../version';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: string | number | undefined | null): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** What the layout needs besides the page's own content. */
export interface LayoutOptions {
  title: string;
  /** Per-response CSP nonce for the inline <style> and <script>. */
  nonce: string;
  /** Shown in the header with a logout button when the viewer has a session. */
  csrf?: string;
  loggedIn: boolean;
  /** Inline script run at the end of the body (already trusted text, never user data). */
  script?: string;
}

/** A whole page: header, content, inline style; no external asset of any kind. */
export function layout(options: LayoutOptions, content: string): string {
  const logout = options.loggedIn
    ? `<form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="${esc(options.csrf)}"><button type="submit" class="link">Log out</button></form>`
    : '';
  const script = options.script ? `<script nonce="${esc(options.nonce)}">${options.script}</script>` : '';
  // The version only for a logged-in viewer: telling strangers which release runs helps them
  // pick an exploit.
  const footer = options.loggedIn ? `<footer class="version">slipway ${esc(SLIPWAY_VERSION)}</footer>\n` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)} · slipway</title>
<style nonce="${esc(options.nonce)}">${STYLE}</style>
</head>
<body>
<header class="top"><a class="brand" href="/"><span class="mark"></span>slipway</a>${options.loggedIn ? '<nav><a href="/">Apps</a></nav>' : ''}${logout}</header>
<main>
${content}
</main>
${footer}${script}
</body>
</html>
`;
}

/** "9.4 s", "2 min 05 s", "1 h 03 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  if (whole < 86_400) return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(whole / 86_400)} d ${Math.floor((whole % 86_400) / 3600)} h`;
}

/** Uptime: like formatDuration but whole seconds ("42 s", "3 min 07 s", "2 d 4 h"). */
export function formatUptime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  return ms < 60_000 ? `${Math.floor(ms / 1000)} s` : formatDuration(ms);
}

/** An ISO time as "2026-11-01 14:03:27 UTC"; anything unparsable as "-". */
export function formatTime(iso: string | number | undefined): string {
  if (iso === undefined) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '-';
  return `${date.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** `refs/heads/main` → `main`, `refs/tags/v3` → `v3`. */
export function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '');
}

/** A coloured status label. `kind` picks the colour; `text` is escaped. */
export function badge(kind: 'ok' | 'bad' | 'warn' | 'run' | 'muted', text: string): string {
  return `<span class="badge ${kind}">${esc(text)}</span>`;
}

/** The CSS class of one deploy log line (the same rule the live script applies). */
export function logLineClass(line: string): string {
  if (line.startsWith('✔')) return 'l-ok';
  if (line.startsWith('✘')) return 'l-bad';
  if (line.startsWith('⇢')) return 'l-warn';
  if (line.startsWith('----->')) return 'l-step';
  return '';
}

/** A deploy log as the <pre> content: one escaped <span> per line. */
export function renderLogLines(lines: string[]): string {
  return lines.map((line) => `<span class="${logLineClass(line)}">${esc(line)}</span>\n`).join('');
}

const STYLE = `
:root{--fg:#1d2433;--muted:#6b7385;--line:#e3e6ec;--bg:#f6f7f9;--card:#fff;--ok:#1f8a4c;--ok-bg:#e3f5ea;--bad:#c0392b;--bad-bg:#fbe5e2;--warn:#9a6700;--warn-bg:#fff4d6;--run:#1f5fbf;--run-bg:#e3edfb;--accent:#1f5fbf}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;align-items:center;gap:24px;padding:10px 24px;background:#1d2433;color:#fff}
header.top a{color:#fff}.brand{font-weight:700;font-size:17px;display:flex;align-items:center;gap:8px}
.mark{display:inline-block;width:14px;height:14px;border-radius:3px;background:linear-gradient(135deg,#5fd38d,#1f5fbf)}
header.top nav{flex:1}.logout{margin:0}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
footer.version{max-width:1180px;margin:0 auto;padding:0 24px 24px;color:var(--muted);font-size:13px}
h1{font-size:22px;margin:8px 0 16px}h2{font-size:17px;margin:28px 0 10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin-bottom:16px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:middle}
th{white-space:nowrap;background:#eef0f4;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
tr:last-child td{border-bottom:0}tr.live-row td{background:#f3fbf6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.nowrap,td.num,td code,button{white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:13px}
.muted{color:var(--muted)}.reason{color:var(--bad);font-size:13px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.ok{color:var(--ok);background:var(--ok-bg)}.badge.bad{color:var(--bad);background:var(--bad-bg)}
.badge.warn{color:var(--warn);background:var(--warn-bg)}.badge.run{color:var(--run);background:var(--run-bg)}.badge.muted{color:var(--muted);background:#eef0f4}
button,.button{font:inherit;font-size:13px;padding:4px 10px;border-radius:6px;border:1px solid #b9c0cc;background:#fff;color:var(--fg);cursor:pointer}
button:hover{background:#f0f2f5}button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button.primary:hover{background:#174c99}
button.link{border:0;background:none;color:#cfd6e4;padding:0}button.link:hover{color:#fff;text-decoration:underline}
form.inline{display:inline;margin:0}
.actions{display:flex;gap:10px;align-items:center;margin:8px 0 4px}
.notice{padding:10px 14px;border-radius:6px;margin-bottom:16px}.notice.bad{background:var(--bad-bg);color:var(--bad)}.notice.run{background:var(--run-bg);color:var(--run)}
pre.log{background:#11151c;color:#d7dce5;padding:14px 16px;border-radius:8px;overflow:auto;max-height:70vh;min-height:120px;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;white-space:pre-wrap;word-break:break-word}
pre.log .l-ok{color:#5fd38d;font-weight:700}pre.log .l-bad{color:#ff7b72;font-weight:700}pre.log .l-warn{color:#e3b341}pre.log .l-step{color:#79c0ff;font-weight:600}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.login{max-width:380px;margin:60px auto}.login input{width:100%;font:inherit;padding:8px 10px;margin:6px 0 12px;border:1px solid #b9c0cc;border-radius:6px}
.chart svg{display:block;width:100%;height:auto;max-width:760px}
.legend{margin:6px 0 0;font-size:13px;display:flex;align-items:center;gap:6px}.key{display:inline-block;width:10px;height:10px;border-radius:2px}.key.ok{background:#2e9e5b}.key.bad{background:#d1453b;margin-left:10px}
.small{font-size:13px}
`;
