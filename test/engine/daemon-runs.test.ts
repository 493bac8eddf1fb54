import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const small = { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' };

describe('daemon runs', () => {
  it('restarts crashing instances in place with backoff, counts restarts, and ends an index on exit 0', async () => {
    h = await makeHarness({
      driver: {
        script: (s) => {
          if (s.index === 1) return { runForMs: 500, exitCode: 0 };
          return s.attempt < 2 ? { runForMs: 1000, exitCode: 1 } : {}; // third start stays up
        },
      },
    });
    const e = h.engine;
    e.createJob('default', { name: 'worker', run_mode: 'daemon', run_commands: ['w'], scale_array_spec: '0-1', ...small });
    const created = e.getJob('default', 'worker');
    expect(created.scale_max_execution_time).toBeUndefined();
    expect(created.scale_retry_limit).toBeUndefined();
    e.submitRun('default', { name: 'worker-run', job_name: 'worker' });
    await h.tick();
    await h.tick(500); // index 1 exits 0: done, not restarted
    await h.tick(500); // index 0 crashes: back-off 1 s
    let inst = e.listInstances('default', 'worker-run');
    expect(inst.map((i) => [i.name, i.state, i.restarts])).toEqual([
      ['worker-run-0-0', 'backoff', 1],
      ['worker-run-1-0', 'succeeded', 0],
    ]);
    expect(e.getRun('default', 'worker-run').status_details.indices_details['0']!.status).toBe('running');
    await h.tick(1000); // restarted
    await h.tick(1000); // crashes again: back-off 2 s
    await h.tick(1999);
    expect(h.runtime.starts.filter((s) => s.index === 0)).toHaveLength(2);
    await h.tick(1); // third start: stays up
    inst = e.listInstances('default', 'worker-run');
    expect(inst[0]).toMatchObject({ state: 'running', restarts: 2, retry: 0, last_failure_reason: 'ContainerExitedCode1' });
    expect(h.runtime.starts.filter((s) => s.index === 0).map((s) => [s.instanceName, s.env.JOB_MODE, s.env.JOB_RETRY_LIMIT])).toEqual([
      ['worker-run-0-0', 'daemon', '0'],
      ['worker-run-0-0', 'daemon', '0'],
      ['worker-run-0-0', 'daemon', '0'],
    ]);
    const run = e.getRun('default', 'worker-run');
    expect(run.status).toBe('running');
    expect(run.status_details.indices_details['0']).toMatchObject({ status: 'running', restarts: 2, retries: 0 });
    expect(run.status_details.indices_details['1']).toMatchObject({ status: 'succeeded', restarts: 0 });
    const backoffs = e.listEvents('default', 'worker-run', 'worker-run-0-0').filter((ev) => ev.reason === 'BackOff');
    expect(backoffs).toHaveLength(1);
    expect(backoffs[0]!.count).toBe(2);

    // deleting the run stops the daemon and removes the run
    e.deleteRun('default', 'worker-run');
    await h.tick();
    expect(h.runtime.running()).toHaveLength(0);
    expect(() => e.getRun('default', 'worker-run')).toThrow(/was not found/);
  });

  it('a daemon run completes when every index exits 0', async () => {
    h = await makeHarness({ driver: { script: () => ({ runForMs: 100, exitCode: 0 }) } });
    h.engine.submitRun('default', { name: 'd', run_mode: 'daemon', run_commands: ['x'], scale_array_spec: '0-2', ...small });
    await h.tick();
    await h.tick(100);
    expect(h.engine.getRun('default', 'd').status).toBe('completed');
  });

  it('the failure count resets after a healthy minute', async () => {
    h = await makeHarness({ driver: { script: (s) => (s.attempt < 3 ? { runForMs: s.attempt === 2 ? 61_000 : 10, exitCode: 1 } : {}) } });
    h.engine.submitRun('default', { name: 'r', run_mode: 'daemon', run_commands: ['x'], ...small });
    await h.tick();
    await h.tick(10); // failure 1 → 1 s
    await h.tick(1000);
    await h.tick(10); // failure 2 → 2 s
    await h.tick(2000);
    await h.tick(61_000); // ran 61 s before failing: count resets → 1 s
    await h.tick(999);
    expect(h.runtime.starts).toHaveLength(3);
    await h.tick(1);
    expect(h.runtime.starts).toHaveLength(4);
  });

  it('restart on request stops and starts a running instance at once, counted as a restart', async () => {
    h = await makeHarness({ driver: { script: () => ({}) } });
    h.engine.submitRun('default', { name: 'rr', run_mode: 'daemon', run_commands: ['x'], ...small });
    await h.tick();
    expect(h.engine.restartRun('default', 'rr')).toEqual(['rr-0-0']);
    await h.tick();
    expect(h.runtime.starts).toHaveLength(2);
    expect(h.engine.listInstances('default', 'rr')[0]).toMatchObject({ state: 'running', restarts: 1 });
    const events = h.engine.listEvents('default', 'rr', 'rr-0-0');
    // all at the same (fake) time: aggregated, in order of first appearance
    expect(events.map((e) => [e.reason, e.count])).toEqual([
      ['Started', 2],
      ['Killing', 1],
      ['Restarting', 1],
    ]);
  });
});
