import { describe, expect, it } from 'vitest';
import { renderDurationChart, type DurationPoint } from '../../src/dashboard/duration-chart';

const bars = (svg: string) => [...svg.matchAll(/<rect class="bar (bar-live|bar-failed)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)];

describe('deploy duration chart', () => {
  it('says so when there are no deploys', () => {
    const svg = renderDurationChart([]);
    expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 720 180"/);
    expect(svg).toContain('No deploys yet');
    expect(bars(svg)).toHaveLength(0);
  });

  it('draws one full-height bar for one deploy, with a tooltip', () => {
    const svg = renderDurationChart([{ number: 1, durationMs: 9400, result: 'live' }]);
    const [bar] = bars(svg);
    expect(bar[1]).toBe('bar-live');
    expect(Number(bar[5])).toBeGreaterThan(100);
    expect(svg).toContain('<title>v1: 9.4 s, live</title>');
    expect(svg).toContain('>10 s<'); // axis top rounded up to 1/2/5×10^k
  });

  it('scales many bars to the longest, colours failures, shows only the last 30', () => {
    const points: DurationPoint[] = Array.from({ length: 40 }, (_, i) => ({ number: i + 1, durationMs: (i + 1) * 1000, result: i % 5 === 0 ? 'failed' : 'live' }));
    const svg = renderDurationChart(points);
    const drawn = bars(svg);
    expect(drawn).toHaveLength(30);
    expect(svg).not.toContain('<title>v10:');
    expect(svg).toContain('<title>v11: 11.0 s, failed</title>');
    const heights = drawn.map((b) => Number(b[5]));
    expect(heights.at(-1)).toBeGreaterThan(heights[0]);
    expect(drawn.filter((b) => b[1] === 'bar-failed')).toHaveLength(6);
    const xs = drawn.map((b) => Number(b[2]));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(xs.at(-1)! + Number(drawn.at(-1)![4])).toBeLessThanOrEqual(720);
  });

  it('survives zero and nonsense durations', () => {
    const svg = renderDurationChart([
      { number: 1, durationMs: 0, result: 'failed' },
      { number: 2, durationMs: Number.NaN, result: 'live' },
    ]);
    expect(svg).not.toContain('NaN');
    expect(bars(svg).map((b) => Number(b[5]))).toEqual([0, 0]);
  });
});
