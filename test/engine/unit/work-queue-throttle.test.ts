import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/engine/clock.js';
import { WorkQueue } from '../../../src/engine/work-queue.js';

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
});
