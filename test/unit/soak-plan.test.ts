import { describe, expect, it } from 'vitest';
import { failureWindow, growthPerDeploy, inFailureWindow, planSoak, versionIsBad } from '../../bench/soak-plan';
import { parseHumanSize } from '../../bench/resource-snapshot';

const STEPS = ['settings', 'build', 'start', 'health', 'switch'];

describe('planSoak', () => {
  it('is the same plan for the same seed, and another for another seed', () => {
    const a = planSoak({ deploys: 100, apps: 10, seed: 42, faultRate: 0.25, steps: STEPS });
    expect(planSoak({ deploys: 100, apps: 10, seed: 42, faultRate: 0.25, steps: STEPS })).toEqual(a);
    expect(planSoak({ deploys: 100, apps: 10, seed: 43, faultRate: 0.25, steps: STEPS })).not.toEqual(a);
  });

  it('goes round robin over the apps, leaves the first round clean and gives a kill a step and a Redis restart a delay', () => {
    const plan = planSoak({ deploys: 200, apps: 10, seed: 7, faultRate: 0.5, steps: STEPS });
    expect(plan.map((d) => d.app).slice(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(plan.slice(0, 10).every((d) => d.fault === undefined)).toBe(true);
    const faulted = plan.filter((d) => d.fault !== undefined);
    expect(faulted.length).toBeGreaterThan(60);
    expect(faulted.length).toBeLessThan(130);
    for (const d of faulted.filter((x) => x.fault === 'kill-slipway')) expect(STEPS).toContain(d.step);
    for (const d of faulted.filter((x) => x.fault === 'restart-redis')) expect(d.delayMs).toBeGreaterThanOrEqual(0);
    expect(new Set(faulted.map((d) => d.fault)).size).toBe(5);
  });

  it('has no faults at rate 0', () => {
    expect(planSoak({ deploys: 50, apps: 10, seed: 1, faultRate: 0, steps: STEPS }).some((d) => d.fault)).toBe(false);
  });
});

describe('versionIsBad', () => {
  it('marks only the faults whose version must not go live', () => {
    expect([versionIsBad('health-fails'), versionIsBad('app-dies-after-switch'), versionIsBad('build-fails')]).toEqual([true, true, true]);
    expect([versionIsBad('kill-slipway'), versionIsBad('restart-redis'), versionIsBad(undefined)]).toEqual([false, false, false]);
  });
});

describe('failure windows', () => {
  it('cover only their own app, from the push start to 2 s after the push ended', () => {
    const windows = [failureWindow(3, 'a.localhost', 1_000, 5_000)];
    expect(inFailureWindow(windows, 'a.localhost', 1_000)).toBe(true);
    expect(inFailureWindow(windows, 'a.localhost', 7_000)).toBe(true);
    expect(inFailureWindow(windows, 'a.localhost', 7_001)).toBe(false);
    expect(inFailureWindow(windows, 'a.localhost', 999)).toBe(false);
    expect(inFailureWindow(windows, 'b.localhost', 3_000)).toBe(false);
  });
});

describe('growthPerDeploy', () => {
  it('fits one slope across lives, so a restart is not read as a drop', () => {
    const points = [...[1, 2, 3, 4, 5, 6].map((d) => ({ deploy: d, value: 100 + 2 * d, life: 0 })), ...[7, 8, 9, 10, 11, 12].map((d) => ({ deploy: d, value: 50 + 2 * d, life: 1 }))];
    expect(growthPerDeploy(points, 0)).toBeCloseTo(2);
  });

  it("leaves out each life's warm-up", () => {
    const points = [100, 130, 131, 131, 131].map((value, i) => ({ deploy: i + 1, value, life: 0 }));
    expect(growthPerDeploy(points, 1)).toBeCloseTo(0.3, 5);
    expect(growthPerDeploy(points, 2)).toBeCloseTo(0);
  });

  it('is NaN without two points in any life', () => {
    expect(growthPerDeploy([{ deploy: 1, value: 1, life: 0 }], 0)).toBeNaN();
  });
});

describe('parseHumanSize', () => {
  it("reads docker's decimal sizes", () => {
    expect(parseHumanSize('0B')).toBe(0);
    expect(parseHumanSize('12.5kB')).toBe(12_500);
    expect(parseHumanSize('1.601GB')).toBe(1_601_000_000);
    expect(parseHumanSize('n/a')).toBeNaN();
  });
});
