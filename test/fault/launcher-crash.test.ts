/**
 * The launcher dies while the server stays up (process driver, real processes): the client
 * starts a new launcher by itself, and every instance the old one had must still end — an
 * instance whose process ended while no launcher watched it is reported lost and runs again
 * without using a retry, instead of staying `running` for ever; starts in flight when the
 * launcher died are asked of the new launcher again (a start is idempotent per attempt id)
 * instead of failing and using a retry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { openLocalEngine } from '../../src/server/local.js';
import { until } from './helpers.js';

const homes: string[] = [];

afterAll(async () => {
  for (const home of homes) {
    await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
    fs.rmSync(home, { recursive: true, force: true });
  }
});

const launcherPid = (home: string): number => Number(fs.readFileSync(path.join(home, 'launcher', 'launcher.pid'), 'utf8'));

describe('the launcher dies under a running server (process driver)', () => {
  it('an instance that ended while no launcher ran is rerun without using a retry', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-launcher-crash-'));
    homes.push(home);
    const marks = path.join(home, 'marks');
    fs.mkdirSync(marks);
    const engine = await openLocalEngine({ home, warn: () => {}, secretKey: Buffer.alloc(32, 5), process: { idleExitMs: 60_000 } });
    try {
      // The first attempt of each index leaves its pid and sleeps; the second one succeeds.
      const script = `m=${marks}/$JOB_INDEX; if [ -e $m.pid ]; then exit 0; fi; echo $$ > $m.tmp; mv $m.tmp $m.pid; exec sleep 300`;
      const run = engine.submitRun('default', {
        run_commands: ['/bin/sh', '-c', script],
        scale_array_spec: '0-3',
        scale_retry_limit: 0,
        scale_cpu_limit: '0.125',
        scale_memory_limit: '0.25G',
      });
      const pidFiles = [0, 1, 2, 3].map((i) => path.join(marks, `${i}.pid`));
      await until('every first attempt runs', () => pidFiles.every((f) => fs.existsSync(f)), 20_000);
      const oldLauncher = launcherPid(home);

      // The launcher and the workloads die together: they end while no launcher watches them.
      process.kill(oldLauncher, 'SIGKILL');
      for (const f of pidFiles) process.kill(Number(fs.readFileSync(f, 'utf8')), 'SIGKILL');

      const done = await engine.waitForRun('default', run.name);
      expect(done.status).toBe('completed');
      expect(launcherPid(home)).not.toBe(oldLauncher);
      const instances = engine.listInstances('default', run.name);
      expect(instances.map((i) => [i.index, i.retry, i.state])).toEqual([0, 1, 2, 3].map((i) => [i, 0, 'succeeded']));
      for (const i of instances) expect(i.attempts).toBe(2);
      const lost = engine.listEvents('default', run.name).filter((e) => e.reason === 'InstanceLost');
      expect(lost).toHaveLength(4);
      expect(lost[0]!.message).toMatch(/exit status is unknown/);
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('starts in flight when the launcher died are asked of the next launcher, not failed', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-launcher-crash-'));
    homes.push(home);
    const engine = await openLocalEngine({ home, warn: () => {}, secretKey: Buffer.alloc(32, 5), process: { idleExitMs: 60_000 } });
    try {
      // Warm: the launcher runs, so the kill below lands among the starts of the big run.
      await engine.waitForRun('default', engine.submitRun('default', { run_commands: ['/bin/true'], scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' }).name);
      const oldLauncher = launcherPid(home);
      const run = engine.submitRun('default', {
        run_commands: ['/bin/true'],
        scale_array_spec: '0-199',
        scale_retry_limit: 0,
        scale_cpu_limit: '0.125',
        scale_memory_limit: '0.25G',
      });
      await until('the run is under way', () => engine.listInstances('default', run.name).some((i) => i.state === 'succeeded'), 20_000, 5);
      process.kill(oldLauncher, 'SIGKILL');
      const done = await engine.waitForRun('default', run.name);
      // No instance failed for the launcher's death: retries stayed unused, and an instance
      // whose process had ended unseen was rerun (lost), not failed.
      expect(done.status).toBe('completed');
      const instances = engine.listInstances('default', run.name);
      expect(instances).toHaveLength(200);
      expect(instances.every((i) => i.retry === 0 && i.state === 'succeeded')).toBe(true);
      expect(engine.listEvents('default', run.name).filter((e) => e.reason === 'Failed')).toEqual([]);
    } finally {
      await engine.close();
    }
  }, 60_000);
});
