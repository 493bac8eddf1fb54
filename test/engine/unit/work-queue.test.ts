import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/engine/clock.js';
import { WorkQueue, type WorkQueueOptions } from '../../../src/engine/work-queue.js';

/** Lets queued microtasks and promise chains run (no timers, no wall clock). */
async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Gate {
  promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function recorder(options: WorkQueueOptions = {}, impl?: (key: string, n: number) => Promise<void> | void) {
  const clock = new FakeClock(0);
  const calls: string[] = [];
  const times: number[] = [];
  const q = new WorkQueue(
    clock,
    async (key) => {
      calls.push(key);
      times.push(clock.now());
      await impl?.(key, calls.length);
    },
    options,
  );
  return { clock, calls, times, q };
}

describe('WorkQueue.add', () => {
  it('processes a key once however often it is added before processing starts', async () => {
    const { q, calls } = recorder();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('b');
    await q.idle();
    expect(calls).toEqual(['a', 'b']);
  });

  it('processes keys in the order they were first added', async () => {
    const { q, calls } = recorder();
    for (const k of ['c', 'a', 'b', 'a', 'c', 'd']) q.add(k);
    await q.idle();
    expect(calls).toEqual(['c', 'a', 'b', 'd']);
  });

  it('does not call the handler synchronously inside add', async () => {
    const { q, calls } = recorder();
    q.add('a');
    expect(calls).toEqual([]);
    await q.idle();
    expect(calls).toEqual(['a']);
  });

  it('processes one key at a time', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { q } = recorder({}, async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await flush(1);
      inFlight--;
    });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    await q.idle();
    expect(maxInFlight).toBe(1);
  });

  it('processes a key again after the current call when it is added while being processed', async () => {
    const g = gate();
    const { q, calls } = recorder({}, async (_k, n) => {
      if (n === 1) await g.promise;
    });
    q.add('a');
    await flush();
    expect(calls).toEqual(['a']);
    q.add('a');
    q.add('a'); // several adds during processing still give one more call
    await flush();
    expect(calls).toEqual(['a']);
    g.open();
    await q.idle();
    expect(calls).toEqual(['a', 'a']);
  });

  it('processes other keys added while a key is being processed', async () => {
    const g = gate();
    const { q, calls } = recorder({}, async (k) => {
      if (k === 'a') await g.promise;
    });
    q.add('a');
    await flush();
    q.add('b');
    q.add('c');
    g.open();
    await q.idle();
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  it('lets a handler add its own key for one more run', async () => {
    const { q, calls } = recorder({}, (k, n) => {
      if (n === 1) q.add(k);
    });
    q.add('a');
    await q.idle();
    expect(calls).toEqual(['a', 'a']);
  });
});

describe('WorkQueue.addAfter', () => {
  it('processes the key only once the fake clock passes the delay', async () => {
    const { q, calls, clock, times } = recorder();
    q.addAfter('a', 1000);
    await flush();
    expect(calls).toEqual([]);
    clock.advance(999);
    await q.idle();
    expect(calls).toEqual([]);
    clock.advance(1);
    await q.idle();
    expect(calls).toEqual(['a']);
    expect(times).toEqual([1000]);
  });

  it('keeps the earlier schedule when a later one is asked for', async () => {
    const { q, calls, clock, times } = recorder();
    q.addAfter('a', 500);
    q.addAfter('a', 1000);
    expect(clock.nextTimerAt()).toBe(500);
    clock.advance(500);
    await q.idle();
    expect(times).toEqual([500]);
    clock.advance(2000);
    await q.idle();
    expect(calls).toEqual(['a']);
  });

  it('replaces a later schedule with an earlier one', async () => {
    const { q, calls, clock, times } = recorder();
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    expect(clock.nextTimerAt()).toBe(300);
    clock.advance(300);
    await q.idle();
    expect(times).toEqual([300]);
    clock.advance(5000);
    await q.idle();
    expect(calls).toEqual(['a']);
  });

  it('keeps an equal schedule once', async () => {
    const { q, calls, clock } = recorder();
    q.addAfter('a', 400);
    q.addAfter('a', 400);
    clock.advance(1000);
    await q.idle();
    expect(calls).toEqual(['a']);
  });

  it('schedules different keys independently, firing in time order', async () => {
    const { q, calls, clock, times } = recorder();
    q.addAfter('late', 300);
    q.addAfter('early', 100);
    q.addAfter('mid', 200);
    clock.advance(150);
    await q.idle();
    clock.advance(150);
    await q.idle();
    expect(calls).toEqual(['early', 'mid', 'late']);
    expect(times).toEqual([150, 300, 300]);
  });

  it.each([0, -50])('adds the key at once for a delay of %i ms', async (ms) => {
    const { q, calls, clock } = recorder();
    q.addAfter('a', ms);
    await q.idle();
    expect(calls).toEqual(['a']);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('lets the key be scheduled again after its delayed run fired', async () => {
    const { q, clock, times } = recorder();
    q.addAfter('a', 100);
    clock.advance(100);
    await q.idle();
    q.addAfter('a', 100);
    clock.advance(100);
    await q.idle();
    expect(times).toEqual([100, 200]);
  });
});

describe('WorkQueue: handler errors', () => {
  it('requeues a failing key after 100, 200, 400, 800 ms, up to the cap, and reports each error', async () => {
    const errors: [string, unknown][] = [];
    const { q, clock, times } = recorder({ errorMaxMs: 1000, onError: (k, e) => errors.push([k, e]) }, () => {
      throw new Error('boom');
    });
    q.add('a');
    await q.idle();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const next = clock.nextTimerAt();
      expect(next).toBeDefined();
      delays.push(next! - clock.now());
      clock.advance(next! - clock.now() - 1);
      await q.idle();
      expect(times).toHaveLength(i + 1); // not one millisecond early
      clock.advance(1);
      await q.idle();
      expect(times).toHaveLength(i + 2);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(errors).toHaveLength(8);
    expect(errors.every(([k, e]) => k === 'a' && e instanceof Error && e.message === 'boom')).toBe(true);
  });

  it('caps the requeue delay at 30 s by default', async () => {
    const { q, clock } = recorder({}, () => {
      throw new Error('boom');
    });
    q.add('a');
    await q.idle();
    const delays: number[] = [];
    for (let i = 0; i < 11; i++) {
      const wait = clock.nextTimerAt()! - clock.now();
      delays.push(wait);
      clock.advance(wait);
      await q.idle();
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  });

  it('uses the configured base delay', async () => {
    const { q, clock } = recorder({ errorBaseMs: 7 }, () => {
      throw new Error('boom');
    });
    q.add('a');
    await q.idle();
    expect(clock.nextTimerAt()! - clock.now()).toBe(7);
    clock.advance(7);
    await q.idle();
    expect(clock.nextTimerAt()! - clock.now()).toBe(14);
  });

  it('starts the delay over at 100 ms after the key succeeds once', async () => {
    const outcomes = [false, false, true, false]; // fail, fail, succeed, fail
    const { q, clock } = recorder({}, (_k, n) => {
      if (!outcomes[n - 1]) throw new Error(`fail ${n}`);
    });
    q.add('a');
    await q.idle();
    clock.advance(100);
    await q.idle();
    expect(clock.nextTimerAt()! - clock.now()).toBe(200);
    clock.advance(200);
    await q.idle(); // third call succeeds: nothing scheduled
    expect(clock.nextTimerAt()).toBeUndefined();
    q.add('a');
    await q.idle(); // fourth call fails again
    expect(clock.nextTimerAt()! - clock.now()).toBe(100);
  });

  it('counts errors per key', async () => {
    const { q, clock } = recorder({}, (k) => {
      if (k === 'a' || k === 'b') throw new Error(k);
    });
    q.add('a');
    await q.idle();
    clock.advance(100); // a fails a second time: next in 200
    await q.idle();
    q.add('b'); // b's first failure: next in 100
    await q.idle();
    expect(clock.nextTimerAt()! - clock.now()).toBe(100);
  });

  it('keeps processing other keys after a handler error', async () => {
    const { q, calls } = recorder({}, (k) => {
      if (k === 'bad') throw new Error('bad');
    });
    q.add('bad');
    q.add('good');
    await q.idle();
    expect(calls).toEqual(['bad', 'good']);
  });

  it('survives an onError listener that throws', async () => {
    let listened = 0;
    const { q, calls, clock } = recorder(
      {
        onError: () => {
          listened++;
          throw new Error('listener broke');
        },
      },
      (k) => {
        if (k === 'bad') throw new Error('bad');
      },
    );
    q.add('bad');
    q.add('good');
    await q.idle();
    expect(calls).toEqual(['bad', 'good']);
    expect(listened).toBe(1);
    clock.advance(100);
    await q.idle();
    expect(calls).toEqual(['bad', 'good', 'bad']);
    expect(listened).toBe(2);
    q.add('good');
    await q.idle();
    expect(calls).toEqual(['bad', 'good', 'bad', 'good']);
  });

  it('also requeues a key whose handler rejects with a non-Error value', async () => {
    const errors: unknown[] = [];
    const { q, clock } = recorder({ onError: (_k, e) => errors.push(e) }, () => Promise.reject('just a string'));
    q.add('a');
    await q.idle();
    expect(errors).toEqual(['just a string']);
    expect(clock.nextTimerAt()! - clock.now()).toBe(100);
  });
});

describe('WorkQueue.idle', () => {
  it('resolves at once when nothing was ever added', async () => {
    const { q } = recorder();
    await expect(q.idle()).resolves.toBeUndefined();
  });

  it('does not resolve while a key is being processed, and resolves after', async () => {
    const g = gate();
    const { q } = recorder({}, () => g.promise);
    q.add('a');
    let idle = false;
    void q.idle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    g.open();
    await flush();
    expect(idle).toBe(true);
  });

  it('does not resolve while keys are still queued behind the current one', async () => {
    const gates = [gate(), gate()];
    const { q } = recorder({}, (_k, n) => gates[n - 1]?.promise);
    q.add('a');
    q.add('b');
    let idle = false;
    void q.idle().then(() => (idle = true));
    gates[0]!.open();
    await flush();
    expect(idle).toBe(false);
    gates[1]!.open();
    await flush();
    expect(idle).toBe(true);
  });

  it('resolves every waiter', async () => {
    const g = gate();
    const { q } = recorder({}, () => g.promise);
    q.add('a');
    const waiters = [q.idle(), q.idle(), q.idle()];
    g.open();
    await expect(Promise.all(waiters)).resolves.toHaveLength(3);
  });

  it('does not wait for delayed keys', async () => {
    const { q, calls } = recorder();
    q.addAfter('a', 10_000);
    await q.idle();
    expect(calls).toEqual([]);
  });

  it('waits for a key re-added during processing to be processed again', async () => {
    const g = gate();
    const { q, calls } = recorder({}, (_k, n) => (n === 1 ? g.promise : undefined));
    q.add('a');
    await flush();
    q.add('a');
    const done = q.idle();
    g.open();
    await done;
    expect(calls).toEqual(['a', 'a']);
  });
});

describe('WorkQueue.stop', () => {
  it('cancels delayed keys so they never run', async () => {
    const { q, calls, clock } = recorder();
    q.addAfter('a', 100);
    q.addAfter('b', 200);
    await q.stop();
    expect(clock.nextTimerAt()).toBeUndefined();
    clock.advance(10_000);
    await flush();
    expect(calls).toEqual([]);
  });

  it('cancels the requeue of a failing key', async () => {
    const { q, calls, clock } = recorder({}, () => {
      throw new Error('boom');
    });
    q.add('a');
    await q.idle();
    await q.stop();
    clock.advance(60_000);
    await flush();
    expect(calls).toEqual(['a']);
  });

  it('ignores keys added after it', async () => {
    const { q, calls, clock } = recorder();
    await q.stop();
    q.add('a');
    q.addAfter('b', 10);
    clock.advance(100);
    await flush();
    await q.idle();
    expect(calls).toEqual([]);
  });

  it('lets the current handler call finish and drops the keys queued behind it', async () => {
    const g = gate();
    let finished = false;
    const { q, calls } = recorder({}, async (k) => {
      if (k === 'a') {
        await g.promise;
        finished = true;
      }
    });
    q.add('a');
    q.add('b');
    await flush();
    let stopped = false;
    const stopping = q.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    g.open();
    await stopping;
    expect(finished).toBe(true);
    expect(calls).toEqual(['a']);
  });

  it('does not rerun a key that was re-added while it was being processed when stopped meanwhile', async () => {
    const g = gate();
    const { q, calls } = recorder({}, (_k, n) => (n === 1 ? g.promise : undefined));
    q.add('a');
    await flush();
    q.add('a');
    const stopping = q.stop();
    g.open();
    await stopping;
    await flush();
    expect(calls).toEqual(['a']);
  });
});
