import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/engine/clock.js';
import { THROTTLE_COST_FACTOR, WorkQueue } from '../../../src/engine/work-queue.js';

async function flush(q: WorkQueue): Promise<void> {
  await q.idle();
  await new Promise((r) => setImmediate(r));
}

describe('WorkQueue.addThrottled', () => {
  it('processes the first event at once and coalesces a burst within the window into one later pass', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const q = new WorkQueue(clock, async () => void seen.push(clock.now()));
    const t0 = clock.now();
    q.addThrottled('k', 100);
    await flush(q);
    expect(seen).toEqual([t0]);
    clock.advance(10);
    for (let i = 0; i < 5; i++) q.addThrottled('k', 100);
    await flush(q);
    expect(seen).toEqual([t0]); // waits for the window
    clock.advance(89);
    await flush(q);
    expect(seen).toEqual([t0]);
    clock.advance(1);
    await flush(q);
    expect(seen).toEqual([t0, t0 + 100]);
  });

  it('processes at once again once the window has passed', async () => {
    const clock = new FakeClock();
    let n = 0;
    const q = new WorkQueue(clock, async () => void n++);
    q.addThrottled('k', 50);
    await flush(q);
    clock.advance(50);
    q.addThrottled('k', 50);
    await flush(q);
    expect(n).toBe(2);
  });

  it('with a window of 0 behaves like add', async () => {
    const clock = new FakeClock();
    let n = 0;
    const q = new WorkQueue(clock, async () => void n++);
    for (let i = 0; i < 3; i++) {
      q.addThrottled('k', 0);
      await flush(q);
    }
    expect(n).toBe(3);
  });

  it('waits at least THROTTLE_COST_FACTOR × the last processing time of a costly key', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    // Each pass "costs" 8 ms of clock time (a big run's sync).
    const q = new WorkQueue(clock, async () => {
      seen.push(clock.now());
      clock.advance(8);
    });
    const t0 = clock.now();
    q.addThrottled('k', 10);
    await flush(q);
    q.addThrottled('k', 10);
    await flush(q);
    clock.advance(10 - 0); // the plain window has passed, the cost-based one (80 ms) has not
    await flush(q);
    expect(seen).toEqual([t0]);
    clock.advance(THROTTLE_COST_FACTOR * 8 - 10);
    await flush(q);
    expect(seen).toEqual([t0, t0 + 8 + THROTTLE_COST_FACTOR * 8]);
  });

  it('a throttled add during processing waits for the window; a plain add does not', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    let during: (() => void) | undefined;
    const q = new WorkQueue(clock, async () => {
      seen.push(clock.now());
      during?.();
      during = undefined;
    });
    const t0 = clock.now();
    during = () => q.addThrottled('k', 50);
    q.add('k');
    await flush(q);
    expect(seen).toEqual([t0]); // the burst's add waits
    clock.advance(50);
    await flush(q);
    expect(seen).toEqual([t0, t0 + 50]);
    during = () => q.add('k');
    clock.advance(1);
    q.add('k');
    await flush(q);
    expect(seen).toEqual([t0, t0 + 50, t0 + 51, t0 + 51]);
  });
});
