/**
 * A test harness for the engine: a real SQLite store in a temporary state home, the fake
 * driver and a fake clock. `tick(ms)` moves time and lets the engine converge (no sleeping).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../src/engine/clock.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { FakeDriver, FakeRuntime, type FakeDriverOptions } from '../../src/drivers/fake/driver.js';

export interface Harness {
  home: string;
  clock: FakeClock;
  runtime: FakeRuntime;
  engine: Engine;
  driver: FakeDriver;
  tick(ms?: number): Promise<void>;
  /** Closes the engine (instances keep "running" in the runtime) and opens a new one. */
  restart(driverOptions?: Partial<FakeDriverOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function makeHarness(
  options: { driver?: Partial<FakeDriverOptions>; engine?: Partial<EngineOptions> } = {},
): Promise<Harness> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-engine-'));
  const clock = new FakeClock();
  const runtime = new FakeRuntime();
  // a random in-memory key (the same across restarts), so secrets work; override with engine.secretKey
  const secretKey = crypto.randomBytes(32);
  const open = async (driverOptions: Partial<FakeDriverOptions> = {}) => {
    const driver = new FakeDriver({ clock, runtime, ...options.driver, ...driverOptions });
    const engine = await Engine.open({
      home,
      driver,
      clock,
      random: () => 0.5,
      warn: () => {},
      secretKey,
      ...options.engine,
      // exact fake times: sync on every event (batching is tested on its own)
      settings: { syncBatchMs: 0, ...options.engine?.settings },
    });
    return { driver, engine };
  };
  const first = await open();
  const h: Harness = {
    home,
    clock,
    runtime,
    engine: first.engine,
    driver: first.driver,
    async tick(ms = 0) {
      clock.advance(ms);
      for (let i = 0; i < 10_000; i++) {
        await h.engine.settle();
        const next = clock.nextTimerAt();
        if (next === undefined || next > clock.now()) return;
        clock.advance(0);
      }
      throw new Error('engine did not converge');
    },
    async restart(driverOptions = {}) {
      await h.engine.close();
      const next = await open(driverOptions);
      h.engine = next.engine;
      h.driver = next.driver;
      await h.tick();
    },
    async close() {
      await h.engine.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  await h.tick();
  return h;
}

export const idx = (spec: { index: number }) => spec.index;
