import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelayMs, nextFailureCount, type BackoffSettings } from '../../src/domain/backoff.js';

const mid = (): number => 0.5; // no jitter
const low = (): number => 0; // largest negative jitter
const high = (): number => 0.999999; // largest positive jitter

describe('DEFAULT_BACKOFF', () => {
  it('is 1 s, doubling, ±20 % jitter, capped at 60 s, reset after 60 s of healthy running (SPEC)', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.2, resetAfterMs: 60_000 });
  });
});

describe('backoffDelayMs without jitter (random = 0.5)', () => {
  const table: [number, number][] = [
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16_000],
    [6, 32_000],
    [7, 60_000], // 64 s capped
    [8, 60_000],
    [20, 60_000],
    [1000, 60_000], // 2^999 is huge but finite-capped
    [5000, 60_000], // 2^4999 is Infinity: still capped
  ];
  it.each(table)('waits %i failures → %i ms', (failures, ms) => {
    expect(backoffDelayMs(failures, DEFAULT_BACKOFF, mid)).toBe(ms);
  });

  it('doubles from one failure to the next until the cap', () => {
    let prev = backoffDelayMs(1, DEFAULT_BACKOFF, mid);
    for (let f = 2; f <= 6; f++) {
      const d = backoffDelayMs(f, DEFAULT_BACKOFF, mid);
      expect(d).toBe(prev * 2);
      prev = d;
    }
  });

  it('is never above the cap for any failure count', () => {
    for (let f = 1; f <= 100; f++) expect(backoffDelayMs(f, DEFAULT_BACKOFF, mid)).toBeLessThanOrEqual(60_000);
  });

  it('follows custom settings (initial 250 ms, factor 3, cap 5 s)', () => {
    const s: BackoffSettings = { ...DEFAULT_BACKOFF, initialMs: 250, factor: 3, maxMs: 5000 };
    expect([1, 2, 3, 4, 5].map((f) => backoffDelayMs(f, s, mid))).toEqual([250, 750, 2250, 5000, 5000]);
  });
});

describe('backoffDelayMs jitter bounds', () => {
  const table: [number, number, number][] = [
    // failures, base, (lowest = base*0.8, highest ≈ base*1.2)
    [1, 1000, 0],
    [2, 2000, 0],
    [3, 4000, 0],
    [5, 16_000, 0],
    [6, 32_000, 0],
  ];
  it.each(table)('with %i failures stays within ±20 %% of %i ms', (failures, base) => {
    expect(backoffDelayMs(failures, DEFAULT_BACKOFF, low)).toBe(Math.round(base * 0.8));
    const top = backoffDelayMs(failures, DEFAULT_BACKOFF, high);
    expect(top).toBeLessThanOrEqual(Math.round(base * 1.2));
    expect(top).toBeGreaterThanOrEqual(Math.round(base * 1.2) - 1);
  });

  it('gives exactly 800 ms and 1200 ms as the extremes of the first delay', () => {
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, low)).toBe(800);
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, high)).toBe(1200);
  });

  it('never goes above the 60 s cap even with the largest positive jitter', () => {
    for (let f = 6; f <= 30; f++) expect(backoffDelayMs(f, DEFAULT_BACKOFF, high)).toBeLessThanOrEqual(60_000);
    expect(backoffDelayMs(7, DEFAULT_BACKOFF, high)).toBe(60_000);
  });

  it('jitters below the cap when the base is capped and random is low (48 s)', () => {
    expect(backoffDelayMs(7, DEFAULT_BACKOFF, low)).toBe(48_000);
  });

  it('grows monotonically with random for a fixed failure count', () => {
    const rs = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999];
    const ds = rs.map((r) => backoffDelayMs(3, DEFAULT_BACKOFF, () => r));
    for (let i = 1; i < ds.length; i++) expect(ds[i]!).toBeGreaterThanOrEqual(ds[i - 1]!);
  });

  it('returns whole milliseconds', () => {
    for (const r of [0.123, 0.456, 0.789]) expect(Number.isInteger(backoffDelayMs(3, DEFAULT_BACKOFF, () => r))).toBe(true);
  });

  it('never goes negative even with a jitter above 100 %', () => {
    expect(backoffDelayMs(1, { ...DEFAULT_BACKOFF, jitter: 2 }, low)).toBe(0);
  });

  it('has no spread when jitter is 0', () => {
    const s = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([low, mid, high].map((r) => backoffDelayMs(2, s, r))).toEqual([2000, 2000, 2000]);
  });
});

describe('backoffDelayMs with no failures or no initial delay', () => {
  it.each([0, -1, -100])('is 0 for %i failures', (failures) => {
    expect(backoffDelayMs(failures, DEFAULT_BACKOFF, high)).toBe(0);
  });

  it.each([1, 2, 10])('is 0 with initialMs 0 for %i failures', (failures) => {
    expect(backoffDelayMs(failures, { ...DEFAULT_BACKOFF, initialMs: 0 }, high)).toBe(0);
  });

  it('does not consult random when there is nothing to wait for', () => {
    let calls = 0;
    backoffDelayMs(0, DEFAULT_BACKOFF, () => (calls++, 0.5));
    backoffDelayMs(3, { ...DEFAULT_BACKOFF, initialMs: 0 }, () => (calls++, 0.5));
    expect(calls).toBe(0);
  });
});

describe('nextFailureCount', () => {
  const table: [number, number, number][] = [
    // previous, ran for, next
    [0, 0, 1],
    [0, 59_999, 1],
    [1, 0, 2],
    [4, 59_999, 5],
    [4, 60_000, 1], // exactly resetAfterMs resets
    [4, 60_001, 1],
    [10, 3_600_000, 1],
    [0, 60_000, 1],
  ];
  it.each(table)('after %i failures and %i ms of running counts the next failure as number %i', (prev, ran, next) => {
    expect(nextFailureCount(prev, ran, DEFAULT_BACKOFF)).toBe(next);
  });

  it('uses the resetAfterMs setting', () => {
    const s = { ...DEFAULT_BACKOFF, resetAfterMs: 5000 };
    expect(nextFailureCount(3, 4999, s)).toBe(4);
    expect(nextFailureCount(3, 5000, s)).toBe(1);
  });

  it('restarts the delay at 1 s after a long healthy run following a long streak', () => {
    const failures = nextFailureCount(9, 120_000, DEFAULT_BACKOFF);
    expect(backoffDelayMs(failures, DEFAULT_BACKOFF, mid)).toBe(1000);
  });
});
