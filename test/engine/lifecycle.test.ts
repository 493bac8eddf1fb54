import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const small = { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' };

describe('delete', () => {
  it('deleting a job stops and removes its runs with their logs', async () => {
    h = await makeHarness({ driver: { script: () => ({ output: ['line'] }) } });
    const e = h.engine;
    e.createJob('default', { name: 'j', run_commands: ['x'], scale_array_spec: '0-3', ...small });
    const run = e.submitRun('default', { job_name: 'j' });
    expect(run.name).toMatch(/^j-jobrun-[a-z0-9]{5}$/);
    await h.tick();
    expect(h.runtime.running()).toHaveLength(4);
    const logDir = path.join(h.home, 'logs', run.id);
    expect(fs.existsSync(logDir)).toBe(true);
    e.deleteJob('default', 'j');
    await h.tick();
    expect(h.runtime.running()).toHaveLength(0);
    expect(e.listRuns('default').items).toHaveLength(0);
    expect(() => e.getJob('default', 'j')).toThrow(/Job 'j' was not found/);
    expect(fs.existsSync(logDir)).toBe(false);
  });
});

describe('recovery after a restart of the engine', () => {
  it('re-adopts live instances, records exits that happened while down, and reruns vanished ones without using a retry', async () => {
    h = await makeHarness({ driver: { script: () => ({}) } });
    h.engine.submitRun('default', { name: 'rec', run_commands: ['x'], scale_array_spec: '0-2', ...small });
    await h.tick();
    expect(h.runtime.starts).toHaveLength(3);
    const [a0, a1, a2] = h.runtime.starts;
    await h.engine.close();
    // while no engine runs: index 1 exits 0, index 2's attempt is lost
    h.driver.exitNow(a1!.attemptId, { kind: 'exited', exitCode: 0, signal: null });
    h.driver.vanish(a2!.attemptId);
    await h.restart();
    const e = h.engine;
    const byName = Object.fromEntries(e.listInstances('default', 'rec').map((i) => [i.name, i]));
    expect(byName['rec-0-0']).toMatchObject({ state: 'running', attempts: 1 });
    expect(byName['rec-1-0']).toMatchObject({ state: 'succeeded' });
    expect(byName['rec-2-0']).toMatchObject({ state: 'running', attempts: 2, retry: 0 });
    // index 0 was not started again; index 2 was, with the same retry count
    expect(h.runtime.starts.filter((s) => s.index === 0)).toEqual([a0]);
    const rerun = h.runtime.starts.filter((s) => s.index === 2);
    expect(rerun.map((s) => s.env.JOB_INDEX_RETRY_COUNT)).toEqual(['0', '0']);
    expect(e.listEvents('default', 'rec', 'rec-2-0').map((ev) => ev.reason)).toContain('InstanceLost');
    expect(e.getRun('default', 'rec').status_details.indices_details['2']!.retries).toBe(0);
  });

  it('an attempt whose end is unknown (lost) runs again at once without using a retry', async () => {
    h = await makeHarness({
      driver: {
        script: (s) => (s.attempt === 0 ? { runForMs: 10, outcome: { kind: 'lost', message: 'the launcher restarted' } } : { runForMs: 10 }),
      },
    });
    h.engine.submitRun('default', { name: 'lost', run_commands: ['x'], scale_retry_limit: 0, ...small });
    await h.tick();
    await h.tick(10);
    await h.tick(10);
    const r = h.engine.getRun('default', 'lost');
    expect(r.status).toBe('completed');
    expect(r.status_details.indices_details['0']).toMatchObject({ status: 'succeeded', retries: 0 });
    expect(h.runtime.starts.map((s) => [s.instanceName, s.attempt])).toEqual([
      ['lost-0-0', 0],
      ['lost-0-0', 1],
    ]);
    expect(h.engine.listEvents('default', 'lost', 'lost-0-0').map((e) => e.reason)).toContain('InstanceLost');
  });

  it('keeps backoff state across a restart (computed from persisted facts)', async () => {
    h = await makeHarness({ driver: { script: (s) => (s.retry === 0 ? { runForMs: 10, exitCode: 1 } : { runForMs: 10, exitCode: 0 }) } });
    h.engine.submitRun('default', { name: 'bk', run_commands: ['x'], ...small });
    await h.tick();
    await h.tick(10); // failed; retry due in 1 s
    await h.restart();
    await h.tick(500);
    expect(h.runtime.starts).toHaveLength(1);
    await h.tick(500);
    expect(h.runtime.starts).toHaveLength(2);
    await h.tick(10);
    expect(h.engine.getRun('default', 'bk').status).toBe('completed');
  });

  it('an instance stopping for deletion when the engine died is stopped again and the run purged', async () => {
    h = await makeHarness({ driver: { script: () => ({ ignoreSigterm: true }) }, engine: { settings: { stopGraceMs: 1000 } } });
    h.engine.submitRun('default', { name: 'del', run_commands: ['x'], ...small });
    await h.tick();
    h.engine.deleteRun('default', 'del');
    await h.tick();
    await h.restart();
    await h.tick(1000);
    expect(h.runtime.running()).toHaveLength(0);
    expect(h.engine.listRuns('default').items).toHaveLength(0);
  });
});

describe('validation through the engine', () => {
  it('rejects overriding the image of a job and a missing command when the driver needs one', async () => {
    h = await makeHarness({ driver: { requiresCommand: true } });
    const e = h.engine;
    e.createJob('default', { name: 'img', image_reference: 'icr.io/codeengine/helloworld', run_commands: ['x'] });
    expect(() => e.submitRun('default', { job_name: 'img', image_reference: 'docker.io/library/busybox' })).toThrow(
      /image/,
    );
    expect(() => e.createJob('default', { name: 'nocmd', image_reference: 'icr.io/codeengine/helloworld' })).toThrow(
      /command is required/,
    );
    expect(() => e.submitRun('default', { job_name: 'missing' })).toThrow(/job 'missing' was not found/);
    e.submitRun('default', { name: 'dup', run_commands: ['x'] });
    expect(() => e.submitRun('default', { name: 'dup', run_commands: ['x'] })).toThrow(/already exists/);
  });

  it('updates a job with If-Match and rejects a stale entity tag', async () => {
    h = await makeHarness();
    const e = h.engine;
    const job = e.createJob('default', { name: 'u', run_commands: ['x'] });
    const updated = e.updateJob('default', 'u', { scale_cpu_limit: '2', scale_memory_limit: '8G' }, job.entity_tag);
    expect(updated.scale_cpu_limit).toBe('2');
    expect(updated.entity_tag).not.toBe(job.entity_tag);
    expect(() => e.updateJob('default', 'u', { scale_retry_limit: 1 }, job.entity_tag)).toThrow(/does not match/);
  });
});

describe('retention', () => {
  it('deletes finished runs after the retention period, and beyond keep-last per job', async () => {
    h = await makeHarness({
      driver: { script: () => ({ runForMs: 10, exitCode: 0 }) },
      engine: { settings: { retentionMaxAgeMs: 3_600_000, retentionKeepLast: 2, retentionIntervalMs: 60_000 } },
    });
    const e = h.engine;
    e.createJob('default', { name: 'k', run_commands: ['x'], ...small });
    for (const n of ['k1', 'k2', 'k3']) {
      e.submitRun('default', { name: n, job_name: 'k' });
      await h.tick();
      await h.tick(10);
    }
    await h.tick(60_000);
    expect(e.listRuns('default').items.map((r) => r.name)).toEqual(['k2', 'k3']);
    await h.tick(3_600_000);
    expect(e.listRuns('default').items).toHaveLength(0);
  });
});
