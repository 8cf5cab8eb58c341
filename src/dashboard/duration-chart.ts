import { esc, formatDuration } from './html';

/** One bar of the chart: a release (deploy) and how long it took. */
export interface DurationPoint {
  number: number;
  durationMs: number;
  result: 'deploying' | 'live' | 'failed';
}

const WIDTH = 720;
const HEIGHT = 180;
const PLOT = { left: 48, right: 12, top: 14, bottom: 28 };
const COLOR = { live: '#2e9e5b', failed: '#d1453b' } as const;

/**
 * An inline SVG bar chart of deploy durations, oldest left, the last `max` deploys. Green bars
 * went live, red ones failed; each bar has a <title> tooltip. No script, no external asset.
 */
export function renderDurationChart(points: DurationPoint[], max = 30): string {
  const shown = points.slice(-max);
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Deploy durations" class="duration-chart">`;
  if (shown.length === 0) {
    return `${open}<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#6b7385" font-size="14">No deploys yet</text></svg>`;
  }
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const top = niceCeiling(Math.max(...shown.map((p) => safe(p.durationMs))));
  const slot = plotWidth / shown.length;
  const barWidth = Math.max(2, Math.min(36, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(shown.length / 15));
  const baseline = PLOT.top + plotHeight;

  const parts: string[] = [open];
  // Axis: three gridlines (0, half, top) with their labels.
  for (const fraction of [0, 0.5, 1]) {
    const y = round(baseline - fraction * plotHeight);
    parts.push(`<line x1="${PLOT.left}" y1="${y}" x2="${WIDTH - PLOT.right}" y2="${y}" stroke="#e3e6ec" stroke-width="1"/>`);
    parts.push(`<text x="${PLOT.left - 6}" y="${y + 4}" text-anchor="end" fill="#6b7385" font-size="11">${esc(axisLabel(top * fraction))}</text>`);
  }
  shown.forEach((point, i) => {
    const ms = safe(point.durationMs);
    const height = top === 0 ? 0 : Math.max(ms > 0 ? 1 : 0, (ms / top) * plotHeight);
    const x = round(PLOT.left + i * slot + (slot - barWidth) / 2);
    const y = round(baseline - height);
    const tip = `v${point.number}: ${formatDuration(ms)}, ${point.result === 'live' ? 'live' : 'failed'}`;
    parts.push(
      `<rect class="bar ${point.result === 'live' ? 'bar-live' : 'bar-failed'}" x="${x}" y="${y}" width="${round(barWidth)}" height="${round(height)}" rx="2" fill="${COLOR[point.result === 'live' ? 'live' : 'failed']}"><title>${esc(tip)}</title></rect>`,
    );
    // Labels counted back from the newest bar: it always has one, and they never crowd.
    if ((shown.length - 1 - i) % labelEvery === 0) {
      parts.push(`<text x="${round(x + barWidth / 2)}" y="${baseline + 16}" text-anchor="middle" fill="#6b7385" font-size="11">v${esc(point.number)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

function safe(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** The smallest of 1, 2, 5 × 10^k seconds at or above `ms` (in ms), so the axis reads well. */
function niceCeiling(ms: number): number {
  if (ms <= 0) return 0;
  const seconds = ms / 1000;
  const magnitude = 10 ** Math.floor(Math.log10(seconds));
  for (const step of [1, 2, 5, 10]) {
    if (step * magnitude >= seconds - 1e-9) return step * magnitude * 1000;
  }
  return seconds * 1000;
}

function axisLabel(ms: number): string {
  const seconds = ms / 1000;
  if (seconds >= 120) return `${Math.round(seconds / 60)} min`;
  return `${Number(seconds.toFixed(seconds < 10 && seconds % 1 !== 0 ? 1 : 0))} s`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
