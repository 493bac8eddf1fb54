import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

describe('admission', () => {
  it('starts instances FIFO while cpu and memory fit, the rest wait pending', async () => {
    h = await makeHarness({
      driver: { capacity: { cpuMillis: 2000, memoryBytes: 32e9 }, script: () => ({ runForMs: 1000, exitCode: 0 }) },
    });
    const e = h.engine;
    e.submitRun('default', { name: 'a', run_commands: ['x'], scale_array_spec: '0-2' }); // cpu 1 each
    e.submitRun('default', { name: 'b', run_commands: ['x'], scale_array_spec: '0' });
    await h.tick();
    expect(h.runtime.starts.map((s) => s.instanceName)).toEqual(['a-0-0', 'a-1-0']);
    expect(e.getRun('default', 'b').status).toBe('pending');
    expect(e.getRun('default', 'a').status_details).toMatchObject({ running: 2, requested: 1, pending_indices: '2' });
    await h.tick(1000);
    expect(h.runtime.starts.map((s) => s.instanceName)).toEqual(['a-0-0', 'a-1-0', 'a-2-0', 'b-0-0']);
    await h.tick(1000);
    expect(e.getRun('default', 'a').status).toBe('completed');
    expect(e.getRun('default', 'b').status).toBe('completed');
  });

  it('reads pending instances a page at a time and stops reading once the capacity is full', async () => {
    h = await makeHarness({
      driver: { capacity: { cpuMillis: 3000, memoryBytes: 32e9 }, script: () => ({ runForMs: 1000, exitCode: 0 }) },
    });
    const store = h.engine.store;
    const pages: number[] = [];
    const read = store.pendingInstancesAfter.bind(store);
    store.pendingInstancesAfter = (cursor, limit) => {
      pages.push(limit);
      return read(cursor, limit);
    };
    h.engine.submitRun('default', { name: 'p', run_commands: ['x'], scale_array_spec: '0-9' }); // cpu 1 each: 3 fit
    await h.tick();
    expect(h.runtime.starts.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(pages).toEqual([1, 2]); // 1 + 2 rows: the third admitted fills the capacity, no further page
    await h.tick(1000); // three exits in one turn: one pass admits the next three
    expect(h.runtime.starts.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pages).toEqual([1, 2, 1, 2]);
  });

  it('a large head of the queue is not overtaken by smaller instances behind it', async () => {
    h = await makeHarness({
      driver: { capacity: { cpuMillis: 2000, memoryBytes: 32e9 }, script: () => ({ runForMs: 1000, exitCode: 0 }) },
    });
    const e = h.engine;
    e.submitRun('default', { name: 'small1', run_commands: ['x'] });
    e.submitRun('default', { name: 'big', run_commands: ['x'], scale_cpu_limit: '2', scale_memory_limit: '4G' });
    e.submitRun('default', { name: 'small2', run_commands: ['x'], scale_cpu_limit: '0.5', scale_memory_limit: '1G' });
    await h.tick();
    expect(h.runtime.starts.map((s) => s.runName)).toEqual(['small1']);
    await h.tick(1000);
    expect(h.runtime.starts.map((s) => s.runName)).toEqual(['small1', 'big']);
    await h.tick(1000);
    expect(h.runtime.starts.map((s) => s.runName)).toEqual(['small1', 'big', 'small2']);
  });

  it('with sync batching on, a burst of exits is decided and capacity reused correctly', async () => {
    h = await makeHarness({
      driver: { capacity: { cpuMillis: 4000, memoryBytes: 32e9 }, script: () => ({ runForMs: 100, exitCode: 0 }) },
      engine: { settings: { syncBatchMs: 50 } },
    });
    h.engine.submitRun('default', { name: 'burst', run_commands: ['x'], scale_array_spec: '0-11' }); // cpu 1 each: 4 at a time
    for (let i = 0; i < 20; i++) await h.tick(50);
    const r = h.engine.getRun('default', 'burst');
    expect(r.status).toBe('completed');
    expect(r.status_details.succeeded).toBe(12);
    expect(h.runtime.starts).toHaveLength(12);
  });

  it('fails an instance that can never fit at once with Unschedulable', async () => {
    h = await makeHarness({ driver: { capacity: { cpuMillis: 2000, memoryBytes: 8e9 } } });
    const e = h.engine;
    e.submitRun('default', { name: 'huge', run_commands: ['x'], scale_cpu_limit: '4', scale_memory_limit: '16G', scale_array_spec: '0-1' });
    await h.tick();
    const r = e.getRun('default', 'huge');
    expect(r.status).toBe('failed');
    expect(r.status_details.indices_details['0']).toMatchObject({ status: 'failed', last_failure_reason: 'Unschedulable', retries: 0 });
    const inst = e.listInstances('default', 'huge')[0]!;
    expect(inst.message).toBe('instance asks for cpu 4 and memory 16G, but this machine has cpu 2 and memory 8G in all');
    expect(h.runtime.starts).toHaveLength(0);
  });
});
