/**
 * SIGKILL faults with the container driver (Podman, else Docker, as started by
 * test/setup/containers.ts; skipped with the reason otherwise): a real background server runs a
 * 30-index task run and a 3-index daemon run while it is killed with SIGKILL at random moments
 * and started again. The task run completes with every index succeeded; an index ran more
 * than once only after a loss; every succeeded instance has its events and its log line; each
 * daemon index has exactly one live process (none after the run is deleted).
 *
 * Executions are counted from the instances' logs (a container cannot write to a host file
 * here): each start prints one `ran <index> <retry>` line, and a rerun appends to the same log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { alive, apiOf, ce, processesWithEnv, readRecord, seeded, sleep, until } from './helpers.js';

const env = inject('containers');
const SEED = Number(process.env.CEJOBS_FAULT_SEED ?? Date.now() % 1_000_000);
const engine = env.podman.socketPath ? 'podman' : env.docker.socketPath ? 'docker' : undefined;
const socketPath = engine ? env[engine].socketPath! : undefined;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-sigkill-ctr-'));
const api = apiOf(home);
const childEnv = { CEJOBS_DRIVER: 'container', CEJOBS_CONTAINER_SOCKET: socketPath ?? '' };

afterAll(async () => {
  if (engine) {
    await api('DELETE', '/job_runs/burst').catch(() => {});
    await api('DELETE', '/job_runs/keepers').catch(() => {});
    await sleep(500);
    await ce(home, ['server', 'stop'], childEnv).catch(() => {});
  }
  fs.rmSync(home, { recursive: true, force: true });
});

async function startServer(): Promise<number> {
  const r = await ce(home, ['server', 'start'], childEnv, 120_000);
  if (r.code !== 0) throw new Error(`ce server start failed (${r.code}): ${r.stdout}${r.stderr}`);
  return readRecord(home).pid;
}

describe(`SIGKILL of the server during runs (container driver${engine ? ` on ${engine}` : ''}, seed ${SEED})`, () => {
  if (!engine) {
    it.skip(`skipped: ${env.podman.skip ?? ''}; ${env.docker.skip ?? ''}`, () => {});
    return;
  }

  it('loses nothing and starts nothing twice', async () => {
    console.log(`sigkill container fault test seed: ${SEED} (replay with CEJOBS_FAULT_SEED=${SEED})`);
    const random = seeded(SEED);
    let pid = await startServer();
    const projectId = (await api('GET', '')).json.id as string;
    expect(
      (
        await api('POST', '/job_runs', {
          name: 'burst',
          image_reference: env.image,
          run_commands: ['/bin/sh', '-c', 'echo "ran $JOB_INDEX $JOB_INDEX_RETRY_COUNT"; sleep 0.5'],
          scale_array_spec: '0-29',
          scale_cpu_limit: '0.125',
          scale_memory_limit: '0.25G',
          scale_retry_limit: 3,
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await api('POST', '/job_runs', {
          name: 'keepers',
          image_reference: env.image,
          run_mode: 'daemon',
          run_commands: ['/bin/sh', '-c', 'exec sleep 3600'],
          scale_array_spec: '0-2',
          scale_cpu_limit: '0.125',
          scale_memory_limit: '0.25G',
        })
      ).status,
    ).toBe(202);

    for (let k = 0; k < 3; k++) {
      await sleep(300 + Math.floor(random() * 1500));
      process.kill(pid, 'SIGKILL');
      await until('the killed server to go', () => !alive(pid), 10_000, 20);
      pid = await startServer();
    }

    await until('the task run to finish', async () => ['completed', 'failed'].includes((await api('GET', '/job_runs/burst')).json.status), 150_000, 300);
    const run = (await api('GET', '/job_runs/burst')).json;
    expect(run.status, `seed ${SEED}`).toBe('completed');
    expect(run.status_details).toMatchObject({ succeeded: 30, failed: 0 });
    const instances = (await api('GET', '/job_runs/burst/instances')).json.instances as { name: string; index: number; retry: number; state: string; attempts: number }[];
    const events = (await api('GET', '/job_runs/burst/events')).json.events as { instance_name?: string; reason: string }[];
    const logs = (await api('GET', '/job_runs/burst/logs')).json.logs as { instance: string; records: { text: string }[] }[];
    for (let i = 0; i < 30; i++) {
      const mine = instances.filter((x) => x.index === i);
      const ok = mine.filter((x) => x.state === 'succeeded');
      expect(ok, `index ${i}`).toHaveLength(1);
      const lines = logs.filter((l) => mine.some((x) => x.name === l.instance)).flatMap((l) => l.records.map((r) => r.text)).filter((t) => t.startsWith('ran '));
      const attempts = mine.reduce((n, x) => n + x.attempts, 0);
      expect(lines.length, `index ${i}: ${lines.length} runs in ${attempts} attempts (seed ${SEED})`).toBeGreaterThanOrEqual(1);
      expect(lines.length, `index ${i}: ${lines.length} runs in ${attempts} attempts (seed ${SEED})`).toBeLessThanOrEqual(attempts);
      expect(lines[lines.length - 1], `index ${i}`).toBe(`ran ${i} ${ok[0]!.retry}`);
      if (lines.length > 1) {
        const reasons = events.filter((e) => mine.some((x) => x.name === e.instance_name)).map((e) => e.reason);
        expect(reasons.some((r) => r === 'InstanceLost' || r === 'Failed'), `index ${i} ran twice without a loss`).toBe(true);
      }
      expect(events.filter((e) => e.instance_name === ok[0]!.name).map((e) => e.reason), `events of ${ok[0]!.name}`).toEqual(expect.arrayContaining(['Started', 'Succeeded']));
    }

    const vars = { CE_JOBRUN: 'keepers', CE_PROJECT_ID: projectId };
    await until('three daemon processes', () => processesWithEnv(vars).length === 3, 60_000);
    await sleep(1000);
    expect(processesWithEnv(vars).map((p) => p.env.JOB_INDEX).sort(), `seed ${SEED}`).toEqual(['0', '1', '2']);
    expect((await api('DELETE', '/job_runs/keepers')).status).toBe(202);
    await until('the daemon run to be gone', async () => (await api('GET', '/job_runs/keepers')).status === 404, 60_000);
    await until('no daemon process left', () => processesWithEnv(vars).length === 0, 30_000);
  }, 300_000);
});
