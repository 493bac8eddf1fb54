/**
 * SIGKILL faults, process driver: a real background server (`ce server start`, a separate
 * process) runs a 200-index task run and a 3-index daemon run while it is killed with SIGKILL
 * at random moments and started again. Nothing may be lost or done twice: the task run
 * completes with every index succeeded, no index ran again after it succeeded, every event and
 * every succeeded instance's log line is there, and each daemon index has exactly one live
 * process (none after the run is deleted).
 *
 * The kill schedule is seeded; a failure prints the seed (replay: CEJOBS_FAULT_SEED=<seed>).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { alive, apiOf, ce, processesWithEnv, readRecord, seeded, sleep, until } from './helpers.js';

const SEED = Number(process.env.CEJOBS_FAULT_SEED ?? Date.now() % 1_000_000);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-sigkill-'));
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-sigkill-out-'));
const countFile = path.join(outDir, 'executions.txt');
const api = apiOf(home);

afterAll(async () => {
  await ce(home, ['server', 'stop']).catch(() => {});
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
});

async function startServer(): Promise<number> {
  const r = await ce(home, ['server', 'start']);
  if (r.code !== 0) throw new Error(`ce server start failed (${r.code}): ${r.stdout}${r.stderr}`);
  return readRecord(home).pid;
}

describe(`SIGKILL of the server during runs (process driver, seed ${SEED})`, () => {
  it('loses nothing and starts nothing twice', async () => {
    console.log(`sigkill fault test seed: ${SEED} (replay with CEJOBS_FAULT_SEED=${SEED})`);
    const random = seeded(SEED);
    let pid = await startServer();
    const projectId = (await api('GET', '')).json.id as string;

    const task = await api('POST', '/job_runs', {
      name: 'burst',
      run_commands: ['/bin/sh', '-c', `echo "$JOB_INDEX $JOB_INDEX_RETRY_COUNT $HOSTNAME" >> '${countFile}'; echo "out $JOB_INDEX"; sleep 0.3`],
      scale_array_spec: '0-199',
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
      scale_retry_limit: 3,
    });
    expect(task.status).toBe(202);
    const daemon = await api('POST', '/job_runs', {
      name: 'keepers',
      run_mode: 'daemon',
      run_commands: ['/bin/sh', '-c', 'exec sleep 3600'],
      scale_array_spec: '0-2',
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
    });
    expect(daemon.status).toBe(202);

    const kills = 5;
    for (let k = 0; k < kills; k++) {
      const delay = 200 + Math.floor(random() * 1300);
      await sleep(delay);
      process.kill(pid, 'SIGKILL');
      await until('the killed server to go', () => !alive(pid), 10_000, 20);
      pid = await startServer();
    }

    await until(
      'the task run to complete',
      async () => ['completed', 'failed'].includes((await api('GET', '/job_runs/burst')).json.status),
      90_000,
      200,
    );
    const run = (await api('GET', '/job_runs/burst')).json;
    if (run.status !== 'completed') {
      // What failed, for the report: the failed instances and the run's events.
      const all = (await api('GET', '/job_runs/burst/instances')).json.instances as { name: string; state: string; reason?: string; message?: string }[];
      console.log('not completed:', JSON.stringify(run.status_details), JSON.stringify(all.filter((x) => x.state === 'failed')));
    }
    expect(run.status, `seed ${SEED}`).toBe('completed');
    expect(run.status_details).toMatchObject({ succeeded: 200, failed: 0, succeeded_indices: '0-199' });

    // executions per index: more than one only when an earlier attempt did not succeed
    const lines = fs.readFileSync(countFile, 'utf8').trim().split('\n');
    const runsOf = new Map<number, string[]>();
    for (const line of lines) {
      const [index, retry, host] = line.split(' ');
      expect(host, line).toBe(`burst-${index}-${retry}`);
      const list = runsOf.get(Number(index)) ?? [];
      list.push(line);
      runsOf.set(Number(index), list);
    }
    const instances = (await api('GET', '/job_runs/burst/instances')).json.instances as {
      name: string;
      index: number;
      retry: number;
      state: string;
      attempts: number;
    }[];
    const events = (await api('GET', '/job_runs/burst/events')).json.events as { instance_name?: string; reason: string; count: number }[];
    const logs = (await api('GET', '/job_runs/burst/logs')).json.logs as { instance: string; records: { text: string }[] }[];
    for (let i = 0; i < 200; i++) {
      const mine = instances.filter((x) => x.index === i);
      const succeeded = mine.filter((x) => x.state === 'succeeded');
      expect(succeeded, `index ${i} (seed ${SEED})`).toHaveLength(1);
      // each execution is one start the engine recorded (an attempt); a second execution needs
      // an attempt that ended without success first (lost, failed): never two after success
      const attempts = mine.reduce((n, x) => n + x.attempts, 0);
      const ran = runsOf.get(i) ?? [];
      expect(ran.length, `index ${i} ran ${ran.length} times in ${attempts} attempts (seed ${SEED})`).toBeGreaterThanOrEqual(1);
      expect(ran.length, `index ${i} ran ${ran.length} times in ${attempts} attempts (seed ${SEED})`).toBeLessThanOrEqual(attempts);
      const ok = succeeded[0]!;
      // the succeeded instance is the last line of the index: nothing ran after it
      expect(ran[ran.length - 1], `index ${i} (seed ${SEED})`).toBe(`${i} ${ok.retry} ${ok.name}`);
      if (ran.length > 1) {
        const reasons = events.filter((e) => mine.some((x) => x.name === e.instance_name)).map((e) => e.reason);
        expect(reasons.some((r) => r === 'InstanceLost' || r === 'Failed'), `index ${i} ran twice without a loss or failure`).toBe(true);
      }
      // no event and no log line lost
      const evs = events.filter((e) => e.instance_name === ok.name).map((e) => e.reason);
      expect(evs, `events of ${ok.name}`).toEqual(expect.arrayContaining(['Started', 'Succeeded']));
      const log = logs.find((l) => l.instance === ok.name);
      expect(log?.records.map((r) => r.text), `log of ${ok.name}`).toContain(`out ${i}`);
    }
    const runEvents = events.filter((e) => e.instance_name === undefined).map((e) => e.reason);
    expect(runEvents).toEqual(expect.arrayContaining(['Created', 'Completed']));

    // the daemon: exactly one live process per index
    const vars = { CE_JOBRUN: 'keepers', CE_PROJECT_ID: projectId };
    await until('three daemon processes', () => processesWithEnv(vars).length === 3, 30_000);
    await sleep(1000);
    const procs = processesWithEnv(vars);
    expect(procs.map((p) => p.env.JOB_INDEX).sort(), `seed ${SEED}`).toEqual(['0', '1', '2']);
    const dInstances = (await api('GET', '/job_runs/keepers/instances')).json.instances as { state: string }[];
    expect(dInstances.map((x) => x.state)).toEqual(['running', 'running', 'running']);

    expect((await api('DELETE', '/job_runs/keepers')).status).toBe(202);
    await until('the daemon run to be gone', async () => (await api('GET', '/job_runs/keepers')).status === 404, 30_000);
    await until('no daemon process left', () => processesWithEnv(vars).length === 0, 15_000);
  }, 180_000);
});
