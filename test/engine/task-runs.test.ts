import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const small = { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' };

describe('task runs', () => {
  it('retries failing indices with backoff and fails the run when one index exhausts its retries', async () => {
    h = await makeHarness({
      driver: {
        script: (s) => {
          if (s.index === 11) return { runForMs: 1000, exitCode: 2 };
          if ((s.index === 3 || s.index === 7) && s.retry === 0) return { runForMs: 1000, exitCode: 1 };
          return { runForMs: 1000, exitCode: 0, output: [`hello ${s.index} retry ${s.retry}`] };
        },
      },
    });
    const e = h.engine;
    e.createJob('default', { name: 'batch', run_commands: ['/bin/true'], scale_array_spec: '0-19', ...small });
    const run = e.submitRun('default', { name: 'batch-1', job_name: 'batch' });
    expect(run.status).toBe('pending');
    expect(run.status_details.requested).toBe(20);

    await h.tick();
    expect(e.getRun('default', 'batch-1').status).toBe('running');
    expect(h.runtime.starts).toHaveLength(20);

    await h.tick(1000); // first attempts end; 3, 7, 11 fail and wait 1 s
    let r = e.getRun('default', 'batch-1');
    expect(r.status_details.succeeded).toBe(17);
    expect(r.status_details.pending_indices).toBe('3,7,11');
    await h.tick(999);
    expect(h.runtime.starts).toHaveLength(20); // still backing off
    await h.tick(1);
    expect(h.runtime.starts).toHaveLength(23);
    const retryEnv = h.runtime.starts.slice(20).map((s) => [s.index, s.env.JOB_INDEX_RETRY_COUNT, s.instanceName]);
    expect(retryEnv).toEqual([
      [3, '1', 'batch-1-3-1'],
      [7, '1', 'batch-1-7-1'],
      [11, '1', 'batch-1-11-1'],
    ]);

    await h.tick(1000); // retries of 3 and 7 succeed; 11 fails again → 2 s backoff
    await h.tick(2000);
    await h.tick(1000); // 11 fails a third time → 4 s
    await h.tick(4000);
    await h.tick(1000); // fourth failure: all 3 retries used
    r = e.getRun('default', 'batch-1');
    expect(r.status).toBe('failed');
    expect(r.status_details).toMatchObject({
      requested: 0,
      pending: 0,
      running: 0,
      succeeded: 19,
      failed: 1,
      succeeded_indices: '0-10,12-19',
      failed_indices: '11',
    });
    expect(r.status_details.indices_details['11']).toMatchObject({
      status: 'failed',
      retries: 3,
      last_failure_reason: 'ContainerExitedCode2',
    });
    expect(r.status_details.indices_details['3']).toMatchObject({
      status: 'succeeded',
      retries: 1,
      last_failure_reason: 'ContainerExitedCode1',
    });
    expect(r.status_details.indices_details['0']).toEqual({
      status: 'succeeded',
      retries: 0,
      started_at: new Date(h.clock.now() - 11_000).toISOString(),
      finished_at: new Date(h.clock.now() - 10_000).toISOString(),
    });
    expect(r.status_details.completion_time).toBe(new Date(h.clock.now()).toISOString());
    expect(h.runtime.starts.filter((s) => s.index === 11).map((s) => s.env.JOB_INDEX_RETRY_COUNT)).toEqual(['0', '1', '2', '3']);

    const instances = e.listInstances('default', 'batch-1');
    expect(instances).toHaveLength(25);
    expect(instances.find((i) => i.name === 'batch-1-11-3')).toMatchObject({
      state: 'failed',
      exit_code: 2,
      last_failure_reason: 'ContainerExitedCode2',
    });

    const events = e.listEvents('default', 'batch-1');
    expect(events[0]).toMatchObject({ reason: 'Created' });
    expect(events[0]!.instance_name).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ reason: 'Failed', type: 'Warning', message: 'JobRun failed: 1 of 20 indices failed (11)' });
    expect(e.listEvents('default', 'batch-1', 'batch-1-11-3').map((ev) => ev.reason)).toEqual(['Retrying', 'Started', 'Failed']);
    expect(e.listEvents('default', 'batch-1', 'batch-1-11-3').at(-1)?.message).toContain('all 3 retries used');

    const logs = await e.readLogs('default', 'batch-1', { instance: 'batch-1-3-1' });
    expect(logs[0]!.container).toBe('batch');
    expect(logs[0]!.records.map((x) => x.text)).toEqual(['hello 3 retry 1']);
  });

  it('completes when every index succeeds and passes the env contract', async () => {
    h = await makeHarness({ driver: { script: () => ({ runForMs: 10, exitCode: 0 }) } });
    const e = h.engine;
    e.createJob('default', {
      name: 'envjob',
      run_commands: ['x'],
      scale_array_spec: '2,5',
      run_env_variables: [{ type: 'literal', name: 'TARGET', value: 'World' }],
      ...small,
    });
    e.submitRun('default', { name: 'envrun', job_name: 'envjob', scale_array_size_variable_override: 10 });
    await h.tick();
    await h.tick(10);
    expect(e.getRun('default', 'envrun').status).toBe('completed');
    const env = h.runtime.starts.find((s) => s.index === 5)!.env;
    const project = e.getProject('default');
    expect(env).toMatchObject({
      CE_JOB: 'envjob',
      CE_JOBRUN: 'envrun',
      CE_PROJECT_ID: project.id,
      CE_SUBDOMAIN: project.subdomain,
      CE_REGION: 'local',
      JOB_INDEX: '5',
      JOB_ARRAY_SIZE: '10',
      JOB_INDEX_RETRY_COUNT: '0',
      JOB_RETRY_LIMIT: '3',
      JOB_MODE: 'task',
      HOSTNAME: 'envrun-5-0',
      TARGET: 'World',
    });
    expect(e.listEvents('default', 'envrun').at(-1)).toMatchObject({ reason: 'Completed', message: 'JobRun completed successfully' });
  });

  it('fails unfinished indices with MaxExecutionTimeExceeded at the run deadline, without retrying them', async () => {
    h = await makeHarness({ driver: { capacity: { cpuMillis: 2000, memoryBytes: 32e9 }, script: () => ({}) } });
    const e = h.engine;
    e.submitRun('default', {
      name: 'slow',
      run_commands: ['sleep'],
      scale_array_spec: '0-2',
      scale_max_execution_time: 10,
    });
    await h.tick();
    expect(h.runtime.running()).toHaveLength(2); // capacity: 2 cpu, 1 each
    await h.tick(9999);
    expect(e.getRun('default', 'slow').status).toBe('running');
    await h.tick(1);
    const r = e.getRun('default', 'slow');
    expect(r.status).toBe('failed');
    for (const i of ['0', '1', '2']) {
      expect(r.status_details.indices_details[i]).toMatchObject({ status: 'failed', last_failure_reason: 'MaxExecutionTimeExceeded', retries: 0 });
    }
    expect(h.runtime.running()).toHaveLength(0);
    expect(h.runtime.starts).toHaveLength(2);
    expect(e.listEvents('default', 'slow').map((ev) => ev.reason)).toContain('DeadlineExceeded');
  });

  it('a stopped instance that ignores SIGTERM is killed after the grace period', async () => {
    h = await makeHarness({
      driver: { script: () => ({ ignoreSigterm: true }) },
      engine: { settings: { stopGraceMs: 5000 } },
    });
    const e = h.engine;
    e.submitRun('default', { name: 'stubborn', run_commands: ['x'], scale_max_execution_time: 1, ...small });
    await h.tick();
    await h.tick(1000);
    expect(e.listInstances('default', 'stubborn')[0]!.state).toBe('stopping');
    await h.tick(4999);
    expect(h.runtime.running()).toHaveLength(1);
    await h.tick(1);
    expect(e.getRun('default', 'stubborn').status_details.indices_details['0']).toMatchObject({
      status: 'failed',
      last_failure_reason: 'MaxExecutionTimeExceeded',
    });
    expect(e.listInstances('default', 'stubborn')[0]!.exit_code).toBe(137);
  });

  it('maps OOM kills and start failures to their reasons and retries them', async () => {
    h = await makeHarness({
      driver: {
        script: (s) =>
          s.index === 0
            ? { runForMs: 5, outcome: { kind: 'oom-killed' } }
            : { outcome: { kind: 'start-failed', reason: 'ExecutableNotFound', message: '"nope" was not found' } },
      },
    });
    const e = h.engine;
    e.submitRun('default', { name: 'bad', run_commands: ['nope'], scale_array_spec: '0-1', scale_retry_limit: 1, ...small });
    for (let i = 0; i < 5; i++) await h.tick(1000);
    const r = e.getRun('default', 'bad');
    expect(r.status).toBe('failed');
    expect(r.status_details.indices_details['0']).toMatchObject({ retries: 1, last_failure_reason: 'OOMKilled' });
    expect(r.status_details.indices_details['1']).toMatchObject({ retries: 1, last_failure_reason: 'ExecutableNotFound' });
    expect(e.listInstances('default', 'bad').find((i) => i.name === 'bad-1-1')).toMatchObject({ exit_code: 127 });
  });
});
