/**
 * The pod creation pacer: token bucket (QPS, burst) and pods in flight per project, on a
 * hand-driven clock (no wall-clock time anywhere).
 */
import { describe, expect, it } from 'vitest';
import { Pacer, TokenBucket, type PacerClock } from '../../../src/drivers/kubernetes/pacer.js';

class ManualClock implements PacerClock {
  t = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => x.live);
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('kubernetes pacer', () => {
  it('token bucket: burst at once, then qps per second', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0).ok, b.take(0).ok, b.take(0).ok]).toEqual([true, true, true]);
    expect(b.take(0)).toEqual({ ok: false, waitMs: 100 });
    expect(b.take(99).ok).toBe(false);
    expect(b.take(100).ok).toBe(true);
    // A long quiet period saves up no more than the burst.
    let n = 0;
    while (b.take(1_000_000).ok) n++;
    expect(n).toBe(3);
  });

  it('paces creations to qps across projects', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ qps: 100, burst: 10, maxInFlightPerProject: 10_000 }, clock);
    let granted = 0;
    for (let i = 0; i < 1000; i++) void pacer.acquire(i % 2 ? 'a' : 'b').then(() => granted++);
    await flush();
    expect(granted).toBe(10); // the burst
    clock.advance(1000);
    await flush();
    expect(granted).toBe(110); // + 100 per second
    clock.advance(9000);
    await flush();
    expect(granted).toBe(1000);
    expect(pacer.waiting).toBe(0);
  });

  it('caps pods in flight per project; a release lets the next one go; other projects go on', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ qps: 1000, burst: 1000, maxInFlightPerProject: 2 }, clock);
    const releases: (() => void)[] = [];
    const order: string[] = [];
    for (const p of ['a', 'a', 'a', 'b', 'a']) void pacer.acquire(p).then((r) => (order.push(p), releases.push(r)));
    await flush();
    expect(order).toEqual(['a', 'a', 'b']);
    expect(pacer.inFlightOf('a')).toBe(2);
    expect(pacer.waiting).toBe(2);
    releases[0]!();
    releases[0]!(); // idempotent
    await flush();
    expect(order).toEqual(['a', 'a', 'b', 'a']);
    expect(pacer.inFlightOf('a')).toBe(2);
    releases[1]!();
    await flush();
    expect(order).toEqual(['a', 'a', 'b', 'a', 'a']);
    expect(pacer.waiting).toBe(0);
  });

  it('close rejects waiters', async () => {
    const pacer = new Pacer({ qps: 1, burst: 1, maxInFlightPerProject: 1 }, new ManualClock());
    await pacer.acquire('a');
    const waiting = pacer.acquire('a');
    pacer.close();
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(pacer.acquire('b')).rejects.toThrow(/closed/);
  });
});
