/**
 * The engine as a library on the real process driver (launcher, host processes, SQLite): the
 * "done when" scenario of the engine issue.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalEngine } from '../../src/server/local.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import type { Engine } from '../../src/engine/engine.js';
import { FOLLOW_QUEUE_MAX } from '../../src/engine/run-logs.js';

const sample = path.resolve(__dirname, '../../samples/helloworld/helloworld.mjs');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-e2e-'));
let engine: Engine;
let projectId = '';

const open = () =>
  openLocalEngine({
    home,
    warn: () => {},
    settings: { backoff: { initialMs: 50, maxMs: 400 }, stopGraceMs: 2000, logMaxBytes: 1024 * 1024 },
    process: { idleExitMs: 5000 },
  });

/** Waits (polling the condition on every engine change and every 50 ms) up to `ms`. */
async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes whose environment says they belong to the job run `run` of this test's engine. */
function processesOfRun(run: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      const vars = env.split('\0');
      // the project id is unique to this state home: other tests may name a run the same
      if (vars.includes(`CE_JOBRUN=${run}`) && vars.includes(`CE_PROJECT_ID=${projectId}`)) {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        // a zombie (state Z) has ended; only its exit status waits to be collected
        if (!/^\d+ \(.*\) Z /.test(stat)) pids.push(Number(entry));
      }
    } catch {
      // gone or not ours to read
    }
  }
  return pids;
}

/** True once a deleted run's instances are all stopped and its rows are gone. */
const purged = (run: string): boolean => engine.store.getRun(engine.getProject('default').id, run) === undefined;

beforeAll(async () => {
  engine = await open();
  projectId = engine.getProject('default').id;
});

afterAll(async () => {
  await engine?.close();
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  fs.rmSync(home, { recursive: true, force: true });
});

describe('the engine on the process driver', () => {
  it('runs a 20-index task run where some indices recover on retry and one exhausts its retries', async () => {
    engine.createJob('default', {
      name: 'hello',
      run_commands: [process.execPath, sample],
      scale_array_spec: '0-19',
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
      scale_retry_limit: 2,
      run_env_variables: [
        { type: 'literal', name: 'FAIL_UNTIL_RETRY', value: '1' },
        { type: 'literal', name: 'FAIL_UNTIL_RETRY_INDICES', value: '4,9' },
        { type: 'literal', name: 'FAIL_INDICES', value: '13' },
      ],
    });
    engine.submitRun('default', { name: 'hello-1', job_name: 'hello' });
    const run = await engine.waitForRun('default', 'hello-1');

    expect(run.status).toBe('failed');
    const d = run.status_details;
    expect(d).toMatchObject({
      requested: 0,
      pending: 0,
      running: 0,
      succeeded: 19,
      failed: 1,
      unknown: 0,
      succeeded_indices: '0-12,14-19',
      failed_indices: '13',
    });
    expect(d.pending_indices).toBeUndefined();
    expect(d.indices_details['4']).toMatchObject({ status: 'succeeded', retries: 1, last_failure_reason: 'ContainerExitedCode1' });
    expect(d.indices_details['9']).toMatchObject({ status: 'succeeded', retries: 1, last_failure_reason: 'ContainerExitedCode1' });
    expect(d.indices_details['13']).toMatchObject({ status: 'failed', retries: 2, last_failure_reason: 'ContainerExitedCode1' });
    expect(d.indices_details['0']).toMatchObject({ status: 'succeeded', retries: 0 });
    expect(d.indices_details['0']!.last_failure_reason).toBeUndefined();
    expect(Date.parse(d.indices_details['13']!.finished_at!)).toBeGreaterThanOrEqual(Date.parse(d.indices_details['13']!.started_at!));

    const instances = engine.listInstances('default', 'hello-1');
    expect(instances.map((i) => i.name)).toHaveLength(24);
    expect(instances.filter((i) => i.state === 'failed').map((i) => i.name)).toEqual([
      'hello-1-4-0',
      'hello-1-9-0',
      'hello-1-13-0',
      'hello-1-13-1',
      'hello-1-13-2',
    ]);
    expect(instances.find((i) => i.name === 'hello-1-13-2')).toMatchObject({ exit_code: 1, driver: 'process' });

    const events = engine.listEvents('default', 'hello-1');
    expect(events[0]).toMatchObject({ reason: 'Created', message: 'Job run hello-1 submitted with 20 indices (task mode)' });
    expect(events.at(-1)).toMatchObject({ reason: 'Failed', message: 'JobRun failed: 1 of 20 indices failed (13)' });
    expect(engine.listEvents('default', 'hello-1', 'hello-1-13-2').at(-1)!.message).toBe(
      'Instance hello-1-13-2 exited with code 1; all 2 retries used (ContainerExitedCode1)',
    );

    const logs = await engine.readLogs('default', 'hello-1');
    const text = (name: string) => logs.find((l) => l.instance === name)!.records.map((r) => r.text);
    expect(text('hello-1-4-0')).toContain('Crashing...');
    expect(text('hello-1-4-1')).toContain("Hello from helloworld! I'm a task job! Index: 4 of 20");
    expect(text('hello-1-4-1')).toContain('JOB_INDEX_RETRY_COUNT=1');
    expect(text('hello-1-4-1')).not.toContain('Crashing...');
    expect(logs.find((l) => l.instance === 'hello-1-0-0')!.container).toBe('hello');
    const tail = await engine.readLogs('default', 'hello-1', { instance: 'hello-1-0-0', tail: 1 });
    expect(tail[0]!.records).toHaveLength(1);
  });

  it('follows a run\'s logs live, including a retry that starts while following, until the run ends', async () => {
    engine.submitRun('default', {
      name: 'follow-1',
      run_commands: [process.execPath, sample],
      scale_array_spec: '0-1',
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
      run_env_variables: [
        { type: 'literal', name: 'SLEEP', value: '0.3' },
        { type: 'literal', name: 'FAIL_UNTIL_RETRY', value: '1' },
        { type: 'literal', name: 'FAIL_UNTIL_RETRY_INDICES', value: '1' },
      ],
    });
    const seen: string[] = [];
    for await (const { instance, container, record } of engine.followLogs('default', 'follow-1', { pollMs: 20 })) {
      expect(container).toBe('follow-1');
      if (record.text.startsWith('Hello from') || record.text === 'Crashing...') seen.push(`${instance}: ${record.text}`);
    }
    // the loop ended by itself: the run is finished
    expect(engine.getRun('default', 'follow-1').status).toBe('completed');
    expect(seen.sort()).toEqual([
      "follow-1-0-0: Hello from helloworld! I'm a task job! Index: 0 of 2",
      'follow-1-1-0: Crashing...',
      "follow-1-1-0: Hello from helloworld! I'm a task job! Index: 1 of 2",
      "follow-1-1-1: Hello from helloworld! I'm a task job! Index: 1 of 2",
    ]);
  });

  it('follows a large log completely through a slow consumer, and stops reading when the consumer leaves', async () => {
    const lines = 3 * FOLLOW_QUEUE_MAX + 17; // more than the read-ahead bound, several times
    const name = 'follow-big';
    const t0 = Date.now();
    engine.submitRun('default', {
      name,
      run_commands: ['/bin/sh', '-c', `i=0; while [ $i -lt ${lines} ]; do echo "line $i"; i=$((i+1)); done`],
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
    });
    await engine.waitForRun('default', name);
    let n = 0;
    let time = t0;
    for await (const { record } of engine.followLogs('default', name, { pollMs: 20 })) {
      expect(record.text).toBe(`line ${n}`);
      // Most records are short (the time of the one before): each still reads back its time.
      expect(record.time).toBeGreaterThanOrEqual(time);
      expect(record.time).toBeLessThanOrEqual(Date.now());
      time = record.time;
      n++;
      if (n % 1000 === 0) await new Promise((r) => setTimeout(r, 5)); // a slow client
    }
    expect(n).toBe(lines);
    // A consumer that leaves early ends the follow (no follower left waiting for room).
    let m = 0;
    for await (const _ of engine.followLogs('default', name, { pollMs: 20 })) if (++m === 10) break;
    expect(m).toBe(10);
  });

  it('caps each instance log at the logMaxBytes setting (rotating once to .1)', async () => {
    const name = 'chatty';
    engine.submitRun('default', {
      name,
      run_commands: ['/bin/sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" "x" | fold -w 100'],
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
    });
    await engine.waitForRun('default', name);
    const run = engine.getRun('default', name);
    const logPath = engine.layout.logPath(run.id, `${name}-0-0`);
    expect(fs.statSync(logPath).size).toBeLessThanOrEqual(1024 * 1024);
    expect(fs.statSync(`${logPath}.1`).size).toBeGreaterThan(900 * 1024);
    expect(fs.statSync(`${logPath}.1`).size).toBeLessThanOrEqual(1024 * 1024);
  });

  it('restarts crashing daemon instances with backoff, counts restarts, and stops them all on delete', async () => {
    engine.submitRun('default', {
      name: 'daemon-1',
      run_mode: 'daemon',
      run_commands: [process.execPath, sample],
      scale_array_spec: '0-1',
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
      run_env_variables: [
        { type: 'literal', name: 'SLEEP', value: '0.05' },
        { type: 'literal', name: 'CRASH', value: 'yes' },
      ],
    });
    // three restarts: at least three attempts have printed and crashed
    await until('both daemon instances restarted three times', () =>
      engine.listInstances('default', 'daemon-1').every((i) => i.restarts >= 3),
    );
    const run = engine.getRun('default', 'daemon-1');
    expect(run.status).toBe('running');
    // a daemon caught between crash and restart is running (back-off), requested (its back-off
    // over, waiting to be admitted) or pending (admitted, starting)
    expect(run.status_details.running + run.status_details.pending + run.status_details.requested).toBe(2);
    expect(run.status_details.succeeded + run.status_details.failed).toBe(0);
    for (const i of ['0', '1']) {
      expect(['running', 'pending']).toContain(run.status_details.indices_details[i]!.status);
      expect(run.status_details.indices_details[i]!.retries).toBe(0);
      expect(run.status_details.indices_details[i]!.restarts).toBeGreaterThanOrEqual(3);
    }
    const instances = engine.listInstances('default', 'daemon-1');
    expect(instances.map((i) => i.name)).toEqual(['daemon-1-0-0', 'daemon-1-1-0']);
    expect(instances[0]!.last_failure_reason).toBe('ContainerExitedCode1');
    const backoff = engine.listEvents('default', 'daemon-1', 'daemon-1-0-0').find((e) => e.reason === 'BackOff')!;
    expect(backoff.count).toBeGreaterThanOrEqual(2);
    expect(backoff.message).toBe('Back-off restarting failed instance daemon-1-0-0 (ContainerExitedCode1)');

    // one instance log holds every attempt's output
    const log = (await engine.readLogs('default', 'daemon-1', { instance: 'daemon-1-0-0' }))[0]!;
    const hellos = log.records.filter((r) => r.text === "Hello from helloworld! I'm a daemon job! Index: 0 of 2");
    expect(hellos.length).toBeGreaterThanOrEqual(3);

    engine.deleteRun('default', 'daemon-1');
    expect(engine.listRuns('default').items.map((r) => r.name)).not.toContain('daemon-1'); // hidden at once
    await until('the daemon run to be purged', () => purged('daemon-1'));
    expect(processesOfRun('daemon-1')).toEqual([]);
  });

  it('keeps instances running across a restart of the engine and re-adopts them', async () => {
    engine.submitRun('default', {
      name: 'steady',
      run_mode: 'daemon',
      run_commands: [process.execPath, sample],
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
      run_env_variables: [{ type: 'literal', name: 'SLEEP', value: '0.2' }],
    });
    await until('the instance to run', () => engine.listInstances('default', 'steady')[0]!.state === 'running');
    const before = processesOfRun('steady');
    expect(before).toHaveLength(1);

    await engine.close();
    expect(processesOfRun('steady')).toEqual(before); // closing the engine kills nothing
    engine = await open();

    const inst = engine.listInstances('default', 'steady')[0]!;
    expect(inst).toMatchObject({ state: 'running', attempts: 1, restarts: 0 });
    expect(processesOfRun('steady')).toEqual(before);
    expect(engine.listEvents('default', 'steady').map((e) => e.reason)).not.toContain('InstanceLost');

    engine.deleteRun('default', 'steady');
    await until('the run to be purged', () => purged('steady'));
    expect(processesOfRun('steady')).toEqual([]);
  });
});
