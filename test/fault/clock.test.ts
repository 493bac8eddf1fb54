/**
 * Clock jumps and a slow store, on the engine with the fake driver. The wall clock (what
 * `Clock.now()` answers) jumps backwards and far forwards while timers keep monotonic time (as
 * Node's do): no attempt starts twice, no transition is lost (backoffs end within their bound
 * even after a backward jump, deadlines are enforced, runs finish). A store whose writes are
 * slow and a driver whose starts are slow (real delays, so starts interleave with syncs) start
 * nothing twice either.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Driver, InstanceSpec } from '../../src/drivers/driver.js';
import { FakeDriver, FakeRuntime, type FakeBehavior } from '../../src/drivers/fake/driver.js';
import { FakeClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import { Store } from '../../src/store/store.js';

/** Wall time = monotonic fake time + an offset that tests move (NTP steps, a VM resume). */
class JumpClock extends FakeClock {
  offset = 0;
  override now(): number {
    return super.now() + this.offset;
  }
  jump(ms: number): void {
    this.offset += ms;
  }
}

const small = { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' };
const HOUR = 3_600_000;
const homes: string[] = [];
let engines: Engine[] = [];

afterEach(async () => {
  for (const e of engines) await e.close();
  engines = [];
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

async function open(script: (s: InstanceSpec) => FakeBehavior, wrap: (d: Driver) => Driver = (d) => d, syncBatchMs = 0) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-clock-'));
  homes.push(home);
  const clock = new JumpClock();
  const runtime = new FakeRuntime();
  const driver = wrap(new FakeDriver({ clock, runtime, script }));
  const engine = await Engine.open({
    home,
    driver,
    clock,
    random: Math.random,
    warn: () => {},
    secretKey: crypto.randomBytes(32),
    settings: { syncBatchMs },
  });
  engines.push(engine);
  const tick = async (ms = 0): Promise<void> => {
    clock.advance(ms);
    for (let i = 0; i < 10_000; i++) {
      await engine.settle();
      const next = clock.nextTimerAt();
      if (next === undefined || next > clock.now() - clock.offset) return;
      clock.advance(0);
    }
    throw new Error('engine did not converge');
  };
  /** Advances monotonic time in steps until `cond` or `maxMs` passed; returns the time it took. */
  const until = async (cond: () => boolean, maxMs: number, stepMs = 250): Promise<number> => {
    let waited = 0;
    while (!cond()) {
      if (waited >= maxMs) throw new Error(`not reached within ${maxMs} ms of monotonic time`);
      await tick(stepMs);
      waited += stepMs;
    }
    return waited;
  };
  await tick();
  return { clock, runtime, engine, tick, until };
}

/** Every attempt id started at most once, and never two attempts of one index at once. */
function expectNoDoubleStart(starts: InstanceSpec[]): void {
  const ids = starts.map((s) => s.attemptId);
  expect(new Set(ids).size, 'an attempt id started twice').toBe(ids.length);
}

// the longest a backoff may last: 60 s cap + 20 % jitter
const MAX_BACKOFF = 72_000;

describe('the wall clock jumps', () => {
  it('backwards during a task retry backoff: the retry still starts within the backoff bound, once', async () => {
    const h = await open((s) => (s.retry < 2 ? { runForMs: 1000, exitCode: 1 } : { runForMs: 1000, exitCode: 0 }));
    h.engine.submitRun('default', { name: 'r', run_commands: ['/x'], scale_array_spec: '0-9', scale_retry_limit: 5, ...small });
    await h.tick();
    await h.tick(1000); // all fail; backoff ~1 s
    expect(h.engine.getRun('default', 'r').status_details).toMatchObject({ running: 0, requested: 10 });
    h.clock.jump(-HOUR);
    const waited = await h.until(() => h.runtime.starts.length >= 20, MAX_BACKOFF);
    expect(waited).toBeLessThanOrEqual(MAX_BACKOFF);
    await h.tick(1000); // second failures; backoff ~2 s
    h.clock.jump(-24 * HOUR);
    await h.until(() => h.engine.getRun('default', 'r').status === 'completed', 2 * MAX_BACKOFF);
    expectNoDoubleStart(h.runtime.starts);
    expect(h.runtime.starts).toHaveLength(30);
    expect(h.engine.getRun('default', 'r').status_details).toMatchObject({ succeeded: 10, failed: 0 });
  });

  it('far forwards during a backoff (within the run deadline): the retry starts once, at once or at its timer', async () => {
    const h = await open((s) => (s.retry === 0 ? { runForMs: 1000, exitCode: 1 } : { runForMs: 1000, exitCode: 0 }));
    h.engine.submitRun('default', { name: 'f', run_commands: ['/x'], scale_array_spec: '0-4', scale_retry_limit: 2, scale_max_execution_time: 86_400, ...small });
    await h.tick();
    await h.tick(1000);
    h.clock.jump(12 * HOUR);
    await h.until(() => h.engine.getRun('default', 'f').status === 'completed', MAX_BACKOFF);
    expectNoDoubleStart(h.runtime.starts);
    expect(h.runtime.starts).toHaveLength(10);
  });

  it('back and forth around a daemon crash loop: one attempt per index at a time, restarts go on', async () => {
    const h = await open(() => ({ runForMs: 500, exitCode: 3 }));
    h.engine.submitRun('default', { name: 'd', run_mode: 'daemon', run_commands: ['/x'], scale_array_spec: '0-2', ...small });
    await h.tick();
    const jumps = [-HOUR, 2 * HOUR, -10 * HOUR, 30 * 24 * HOUR, -5_000, 5_000];
    for (const j of jumps) {
      await h.tick(700);
      h.clock.jump(j);
      await h.tick(300);
      // never more than one live attempt per index
      const live = h.runtime.running();
      expect(new Set(live.map((s) => s.index)).size).toBe(live.length);
    }
    const before = h.runtime.starts.length;
    await h.tick(2 * MAX_BACKOFF);
    expect(h.runtime.starts.length, 'restarts stopped after the jumps').toBeGreaterThan(before);
    expectNoDoubleStart(h.runtime.starts);
    for (const inst of h.engine.listInstances('default', 'd')) expect(['running', 'backoff', 'pending', 'starting']).toContain(inst.state);
  });

  it('backwards between two exits of a run (sync batching on): the second exit is decided at once, not after the jump', async () => {
    const h = await open((s) => ({ runForMs: s.index === 0 ? 1000 : 1500, exitCode: 0 }), undefined, 10);
    h.engine.submitRun('default', { name: 'b', run_commands: ['/x'], scale_array_spec: '0-1', ...small });
    await h.tick();
    await h.tick(1000);
    expect(h.engine.getRun('default', 'b').status_details.succeeded).toBe(1);
    h.clock.jump(-HOUR);
    await h.tick(500);
    await h.tick(100);
    expect(h.engine.getRun('default', 'b').status).toBe('completed');
  });

  it('far forwards while a run with a deadline runs: the deadline fails what is unfinished, once, and nothing starts after', async () => {
    const h = await open(() => ({ runForMs: 10 * HOUR, exitCode: 0 }));
    h.engine.submitRun('default', { name: 'dl', run_commands: ['/x'], scale_array_spec: '0-3', scale_max_execution_time: 600, ...small });
    await h.tick(1000);
    expect(h.runtime.running()).toHaveLength(4);
    h.clock.jump(2 * HOUR);
    // enforced at the latest when its (monotonic) timer fires: no later than planned
    await h.until(() => h.engine.getRun('default', 'dl').status === 'failed', 600_000, 5000);
    const r = h.engine.getRun('default', 'dl');
    expect(r.status_details.failed).toBe(4);
    for (const d of Object.values(r.status_details.indices_details)) expect(d.last_failure_reason).toBe('MaxExecutionTimeExceeded');
    const starts = h.runtime.starts.length;
    await h.tick(MAX_BACKOFF);
    expect(h.runtime.starts).toHaveLength(starts);
    expectNoDoubleStart(h.runtime.starts);
  });

  it('backwards while a run with a deadline runs: the deadline is still enforced (after the lost time) and nothing is lost', async () => {
    const h = await open(() => ({ runForMs: 10 * HOUR, exitCode: 0 }));
    h.engine.submitRun('default', { name: 'db', run_commands: ['/x'], scale_array_spec: '0-1', scale_max_execution_time: 60, ...small });
    await h.tick(1000);
    h.clock.jump(-HOUR);
    await h.until(() => h.engine.getRun('default', 'db').status === 'failed', HOUR + 120_000, 30_000);
    expect(h.engine.getRun('default', 'db').status_details.failed).toBe(2);
    expectNoDoubleStart(h.runtime.starts);
  });
});

describe('a slow store and slow starts', () => {
  it('start nothing twice while syncs, exits and admissions interleave', async () => {
    const originals = new Map<string, (...a: unknown[]) => unknown>();
    const proto = Store.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of ['saveInstance', 'insertInstance', 'updateRunStatus', 'transaction']) {
      const orig = proto[name]!;
      originals.set(name, orig);
      proto[name] = function (this: unknown, ...args: unknown[]) {
        const until = performance.now() + Math.random() * 0.3; // a synchronous stall: a slow disk
        while (performance.now() < until) {
          // busy
        }
        return orig.apply(this, args);
      };
    }
    try {
      const slowStart = (d: Driver): Driver =>
        new Proxy(d, {
          get(target, prop, receiver) {
            if (prop === 'start') {
              return async (spec: InstanceSpec) => {
                await new Promise((r) => setTimeout(r, Math.random() * 15)); // real time: starts overlap
                return target.start(spec);
              };
            }
            const v = Reflect.get(target, prop, receiver);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        });
      const h = await open((s) => (s.index % 7 === 0 && s.retry === 0 ? { runForMs: 5, exitCode: 1 } : { runForMs: 5 + (s.index % 3), exitCode: 0 }), slowStart);
      h.engine.submitRun('default', { name: 's', run_commands: ['/x'], scale_array_spec: '0-59', scale_retry_limit: 2, ...small });
      h.engine.submitRun('default', { name: 's2', run_commands: ['/x'], scale_array_spec: '0-29', scale_retry_limit: 2, ...small });
      await h.until(
        () => h.engine.getRun('default', 's').status === 'completed' && h.engine.getRun('default', 's2').status === 'completed',
        5 * 60_000,
        3,
      );
      expectNoDoubleStart(h.runtime.starts);
      // one start per (run, index, retry): 90 first attempts + the 13 retried indices (0,7,…,56 and 0,7,…,28)
      expect(h.runtime.starts).toHaveLength(90 + 9 + 5);
    } finally {
      const proto2 = Store.prototype as unknown as Record<string, unknown>;
      for (const [name, fn] of originals) proto2[name] = fn;
    }
  }, 60_000);
});
