/**
 * Stopping the server (gracefully) leaves running instances alive; the next server on the same
 * state home re-adopts them: the same process, not restarted, and stoppable through the API.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-restart-'));
let server: RunningServer | undefined;

afterAll(async () => {
  await server?.close();
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  fs.rmSync(home, { recursive: true, force: true });
});

async function api(method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server!.url}/v2/projects/default${p}`, {
    method,
    headers: { authorization: `Bearer ${server!.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a graceful restart of the server', () => {
  it('leaves a running daemon instance alive and the next server re-adopts it', async () => {
    server = await startServer({ home, log: () => {}, process: { idleExitMs: 5000 } });
    const pidFile = path.join(home, 'keeper.pid');
    const submitted = await api('POST', '/job_runs', {
      name: 'keeper',
      run_mode: 'daemon',
      run_commands: ['/bin/sh', '-c', `echo $$ > ${pidFile}; while true; do sleep 0.2; done`],
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
    });
    expect(submitted.status).toBe(202);
    await until('the instance to run', async () => (await api('GET', '/job_runs/keeper/instances')).json.instances[0].state === 'running');
    await until('the workload to write its pid', async () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));

    await server.close();
    server = undefined;
    expect(alive(pid)).toBe(true);

    server = await startServer({ home, log: () => {}, process: { idleExitMs: 5000 } });
    const inst = (await api('GET', '/job_runs/keeper/instances')).json.instances[0];
    expect(inst).toMatchObject({ name: 'keeper-0-0', state: 'running', attempts: 1, restarts: 0 });
    expect(alive(pid)).toBe(true);
    const reasons = (await api('GET', '/job_runs/keeper/events')).json.events.map((e: { reason: string }) => e.reason);
    expect(reasons).not.toContain('InstanceLost');

    expect((await api('DELETE', '/job_runs/keeper')).status).toBe(202);
    await until('the workload to stop', async () => !alive(pid));
    await until('the run to be gone', async () => (await api('GET', '/job_runs/keeper')).status === 404);
  });
});
