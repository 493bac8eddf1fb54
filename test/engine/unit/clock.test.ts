import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../../src/engine/clock.js';

describe('FakeClock', () => {
  it('starts at 2026-01-01T00:00:00Z by default and at the given time otherwise', () => {
    expect(new FakeClock().now()).toBe(Date.UTC(2026, 0, 1));
    expect(new FakeClock(1234).now()).toBe(1234);
  });

  it('does not move unless told to', () => {
    const c = new FakeClock(0);
    expect([c.now(), c.now()]).toEqual([0, 0]);
  });

  it('moves by exactly the advanced amount', () => {
    const c = new FakeClock(1000);
    c.advance(250);
    c.advance(0);
    c.advance(750);
    expect(c.now()).toBe(2000);
  });

  it('fires timers in time order, not in the order they were set', () => {
    const c = new FakeClock(0);
    const fired: string[] = [];
    c.setTimer(() => fired.push('c'), 300);
    c.setTimer(() => fired.push('a'), 100);
    c.setTimer(() => fired.push('b'), 200);
    c.advance(1000);
    expect(fired).toEqual(['a', 'b', 'c']);
  });

  it('fires timers due at the same time in the order they were set', () => {
    const c = new FakeClock(0);
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) c.setTimer(() => fired.push(i), 100);
    c.advance(100);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  it('shows each timer the time it was due at while it fires, then the target time', () => {
    const c = new FakeClock(0);
    const seen: number[] = [];
    c.setTimer(() => seen.push(c.now()), 100);
    c.setTimer(() => seen.push(c.now()), 250);
    c.advance(1000);
    expect(seen).toEqual([100, 250]);
    expect(c.now()).toBe(1000);
  });

  it('fires a timer exactly when the clock reaches its time, not before', () => {
    const c = new FakeClock(0);
    let fired = 0;
    c.setTimer(() => fired++, 100);
    c.advance(99);
    expect(fired).toBe(0);
    c.advance(1);
    expect(fired).toBe(1);
    c.advance(1000);
    expect(fired).toBe(1);
  });

  it('fires a timer set from a timer callback in the same advance when it falls due', () => {
    const c = new FakeClock(0);
    const fired: number[] = [];
    c.setTimer(() => {
      fired.push(c.now());
      c.setTimer(() => fired.push(c.now()), 50);
    }, 100);
    c.advance(200);
    expect(fired).toEqual([100, 150]);
  });

  it('keeps a timer set from a callback for later when it falls after the target', () => {
    const c = new FakeClock(0);
    const fired: number[] = [];
    c.setTimer(() => c.setTimer(() => fired.push(c.now()), 500), 100);
    c.advance(200);
    expect(fired).toEqual([]);
    expect(c.nextTimerAt()).toBe(600);
    c.advance(400);
    expect(fired).toEqual([600]);
  });

  it('treats a negative delay as 0 and fires it on advance(0)', () => {
    const c = new FakeClock(10);
    let fired = 0;
    c.setTimer(() => fired++, -5);
    expect(c.nextTimerAt()).toBe(10);
    c.advance(0);
    expect(fired).toBe(1);
  });

  it('never fires a cancelled timer', () => {
    const c = new FakeClock(0);
    const fired: string[] = [];
    const a = c.setTimer(() => fired.push('a'), 100);
    c.setTimer(() => fired.push('b'), 200);
    a.cancel();
    c.advance(1000);
    expect(fired).toEqual(['b']);
  });

  it('lets one timer cancel another due at the same advance', () => {
    const c = new FakeClock(0);
    const fired: string[] = [];
    const later = c.setTimer(() => fired.push('later'), 200);
    c.setTimer(() => {
      fired.push('first');
      later.cancel();
    }, 100);
    c.advance(500);
    expect(fired).toEqual(['first']);
  });

  it('accepts cancelling a timer twice or after it fired', () => {
    const c = new FakeClock(0);
    const t = c.setTimer(() => undefined, 10);
    c.advance(10);
    expect(() => {
      t.cancel();
      t.cancel();
    }).not.toThrow();
  });

  it('reports the time of the next live timer, skipping cancelled ones', () => {
    const c = new FakeClock(1000);
    expect(c.nextTimerAt()).toBeUndefined();
    const a = c.setTimer(() => undefined, 50);
    c.setTimer(() => undefined, 300);
    expect(c.nextTimerAt()).toBe(1050);
    a.cancel();
    expect(c.nextTimerAt()).toBe(1300);
    c.advance(300);
    expect(c.nextTimerAt()).toBeUndefined();
  });
});

describe('systemClock', () => {
  it('reads the system time', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('never calls a timer that was cancelled at once', async () => {
    let fired = false;
    systemClock.setTimer(() => (fired = true), 0).cancel();
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 0));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(fired).toBe(false);
  });
});
