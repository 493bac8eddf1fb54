/**
 * Limits of the process driver (cgroups, RSS watch, scratch-dir watch) and survival of a
 * client crash. The cgroup cases need writable cgroups (root on a cgroup v1 or delegated v2
 * host); they are skipped with the reason otherwise.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptExit, Driver, InstanceSpec } from '../../src/drivers/driver.js';
import { createProcessDriver, shutdownLauncher } from '../../src/drivers/process/driver.js';
import { DEFAULT_CGROUP_ROOT, detectLimits } from '../../src/launcher/cgroups.js';
import { makeTestSpec, readLog, waitFor } from '../conformance/driver-conformance.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-process-limits-'));
const cgroupParent = `cejobs-test-${process.pid}`;
const probe = detectLimits({ requested: 'auto', parent: cgroupParent });
const cgroupsUsable = probe.mode !== 'rss-watch';
if (!cgroupsUsable) console.log(`process.limits: cgroup cases skipped: ${probe.reason}`);

const MB = 1024 * 1024;

function spec(dir: string, label: string, argv: string[], limits: Partial<InstanceSpec['limits']> = {}): InstanceSpec {
  return makeTestSpec(dir, label, argv, {
    limits: { cpuMillis: 1000, memoryBytes: 1024 * MB, ephemeralStorageBytes: 1024 * MB, ...limits },
  });
}

/** Allocates and touches 300 MB, then stays alive. */
const HOG = [
  process.execPath,
  '-e',
  'const keep = []; for (let i = 0; i < 30; i++) keep.push(Buffer.alloc(10 * 1024 * 1024, 1)); console.log("allocated"); setInterval(() => {}, 1000);',
];

interface Harness {
  dir: string;
  launcherDir: string;
  driver: Driver;
  exits: AttemptExit[];
  exitOf(id: string): Promise<AttemptExit>;
}

async function harness(name: string, options: { limitMode?: 'auto' | 'rss-watch' } = {}): Promise<Harness> {
  const dir = path.join(root, name);
  const launcherDir = path.join(dir, 'launcher');
  const driver = await createProcessDriver({
    launcherDir,
    idleExitMs: 5_000,
    cgroupParent,
    watchMs: 100,
    ...(options.limitMode ? { limitMode: options.limitMode } : {}),
  });
  const exits: AttemptExit[] = [];
  driver.subscribe((e) => exits.push(e));
  return {
    dir,
    launcherDir,
    driver,
    exits,
    exitOf: (id) => waitFor(`the exit of ${id}`, () => exits.find((e) => e.attemptId === id)),
  };
}

const harnesses: Harness[] = [];

afterAll(async () => {
  for (const h of harnesses) {
    await h.driver.close();
    await shutdownLauncher(h.launcherDir, { force: true });
  }
  for (const c of ['memory', 'cpu', 'pids']) {
    try {
      fs.rmdirSync(path.join(DEFAULT_CGROUP_ROOT, c, cgroupParent));
    } catch {
      // not there
    }
  }
  if (probe.mode === 'cgroup-v2') {
    for (const u of [DEFAULT_CGROUP_ROOT, path.join(DEFAULT_CGROUP_ROOT, 'unified')]) {
      try {
        fs.rmdirSync(path.join(u, cgroupParent));
      } catch {
        // not there
      }
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

describe('process driver: rss-watch mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('rss', { limitMode: 'rss-watch' });
    harnesses.push(h);
  });

  it('reports rss-watch and unenforced cpu', () => {
    expect(h.driver.capabilities.limits.memory).toEqual({ enforced: true, how: 'rss-watch' });
    expect(h.driver.capabilities.limits.cpu.enforced).toBe(false);
    expect(h.driver.capabilities.limits.cpu.how).toMatch(/not enforced/);
    expect(h.driver.capabilities.limits.ephemeralStorage).toEqual({ enforced: true, how: 'scratch-dir-watch' });
  });

  it('kills a memory hog: oom-killed, measured by RSS watch', async () => {
    const s = spec(h.dir, 'hog', HOG, { memoryBytes: 100 * MB });
    await h.driver.start(s);
    const exit = await h.exitOf(s.attemptId);
    expect(exit.outcome.kind).toBe('oom-killed');
    if (exit.outcome.kind === 'oom-killed') expect(exit.outcome.message).toMatch(/RSS watch/);
  });

  it('kills a workload that outgrows its ephemeral storage', async () => {
    const s = spec(h.dir, 'disk', ['/bin/sh', '-c', 'head -c 5000000 /dev/zero > big; echo wrote; while true; do sleep 0.1; done'], {
      ephemeralStorageBytes: 1 * MB,
    });
    await h.driver.start(s);
    const exit = await h.exitOf(s.attemptId);
    expect(exit.outcome.kind).toBe('storage-exceeded');
    expect(readLog(s.logPath).some((r) => r.stream === 'system' && /ephemeral storage/.test(r.text))).toBe(true);
  });
});

describe.skipIf(!cgroupsUsable)(`process driver: cgroups (${probe.mode})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('cgroup');
    harnesses.push(h);
  });

  it('reports the cgroup mode', () => {
    expect(h.driver.capabilities.limits.memory).toEqual({ enforced: true, how: probe.mode });
    expect(h.driver.capabilities.limits.cpu).toEqual({ enforced: true, how: probe.mode });
  });

  it('a memory hog is OOM-killed by the kernel', async () => {
    const s = spec(h.dir, 'hog', HOG, { memoryBytes: 100 * MB });
    await h.driver.start(s);
    const exit = await h.exitOf(s.attemptId);
    expect(exit.outcome.kind).toBe('oom-killed');
    expect(readLog(s.logPath).some((r) => r.text === 'allocated')).toBe(false);
  });

  /** The directory of the attempt's cgroup for `controller` (v1) or its unified cgroup (v2). */
  function cgroupDirOf(pid: number, controller: 'cpu' | 'memory'): string {
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    if (probe.mode === 'cgroup-v1') {
      const line = lines.find((l) => l.split(':')[1]!.split(',').includes(controller))!;
      return path.join(DEFAULT_CGROUP_ROOT, controller, line.split(':')[2]!);
    }
    const unified = fs.existsSync(path.join(DEFAULT_CGROUP_ROOT, 'unified')) ? path.join(DEFAULT_CGROUP_ROOT, 'unified') : DEFAULT_CGROUP_ROOT;
    return path.join(unified, lines.find((l) => l.startsWith('0::'))!.slice(3));
  }
  const quotaFile = (dir: string) => path.join(dir, probe.mode === 'cgroup-v1' ? 'cpu.cfs_quota_us' : 'cpu.max');
  const quotaOf = (cpuMillis: number) => (probe.mode === 'cgroup-v1' ? `${cpuMillis * 100}` : `${cpuMillis * 100} 100000`);

  it('writes the cpu quota, and a pooled cgroup gets the limits of its next attempt', async () => {
    const loop = ['/bin/sh', '-c', 'echo ready; while true; do sleep 0.1; done'];
    const first = spec(h.dir, 'cpu', loop, { cpuMillis: 250 });
    const handle = await h.driver.start(first);
    await waitFor('"ready" in the log', () => readLog(first.logPath).some((r) => r.text === 'ready'));
    const dir = cgroupDirOf(handle.data.pid as number, 'cpu');
    expect(path.basename(dir)).toMatch(/^pool-\d+-\d+$/);
    expect(path.dirname(dir).endsWith(cgroupParent)).toBe(true);
    expect(fs.readFileSync(quotaFile(dir), 'utf8').trim()).toBe(quotaOf(250));
    await h.driver.stop({ attemptId: first.attemptId }, { graceMs: 1000 });
    await h.exitOf(first.attemptId);
    await h.driver.release({ attemptId: first.attemptId });
    // Released: empty, kept for reuse (or removed when the pool is full).
    if (fs.existsSync(dir)) expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim()).toBe('');

    const second = spec(h.dir, 'cpu2', loop, { cpuMillis: 500 });
    const handle2 = await h.driver.start(second);
    await waitFor('"ready" in the log', () => readLog(second.logPath).some((r) => r.text === 'ready'));
    const dir2 = cgroupDirOf(handle2.data.pid as number, 'cpu');
    expect(dir2).toBe(dir); // the pooled cgroup, reused
    expect(fs.readFileSync(quotaFile(dir2), 'utf8').trim()).toBe(quotaOf(500));
    await h.driver.stop({ attemptId: second.attemptId }, { graceMs: 1000 });
    await h.exitOf(second.attemptId);
    await h.driver.release({ attemptId: second.attemptId });
  });

  it('a pooled cgroup removed behind its back is not reused: the next attempt gets a fresh one', async () => {
    const loop = ['/bin/sh', '-c', 'echo ready; while true; do sleep 0.1; done'];
    const first = spec(h.dir, 'gone1', loop, { cpuMillis: 300 });
    const handle = await h.driver.start(first);
    await waitFor('"ready" in the log', () => readLog(first.logPath).some((r) => r.text === 'ready'));
    const dirs = (['cpu', 'memory'] as const).map((c) => cgroupDirOf(handle.data.pid as number, c));
    await h.driver.stop({ attemptId: first.attemptId }, { graceMs: 1000 });
    await h.exitOf(first.attemptId);
    await h.driver.release({ attemptId: first.attemptId });
    for (const d of new Set(dirs)) if (fs.existsSync(d)) fs.rmdirSync(d); // an admin cleans up
    const second = spec(h.dir, 'gone2', ['/bin/sh', '-c', 'echo ran'], { cpuMillis: 300 });
    await h.driver.start(second);
    expect((await h.exitOf(second.attemptId)).outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    await h.driver.release({ attemptId: second.attemptId });
  });

  it('at start, a launcher removes only the pooled cgroups of launchers that are gone', () => {
    const setup = detectLimits({ requested: 'auto', parent: cgroupParent });
    const parents =
      probe.mode === 'cgroup-v1'
        ? ['memory', 'cpu', 'pids'].map((c) => path.join(DEFAULT_CGROUP_ROOT, c, cgroupParent)).filter((d) => fs.existsSync(d))
        : [path.join(fs.existsSync(path.join(DEFAULT_CGROUP_ROOT, 'unified')) ? path.join(DEFAULT_CGROUP_ROOT, 'unified') : DEFAULT_CGROUP_ROOT, cgroupParent)];
    const deadPid = 4_000_000; // above pid_max: never alive
    const othersLive = `pool-${process.ppid}-77`; // a live process: another launcher's pool
    const leftByDead = `pool-${deadPid}-1`;
    for (const p of parents) for (const n of [othersLive, leftByDead]) fs.mkdirSync(path.join(p, n));
    setup.removeStale(new Set());
    for (const p of parents) {
      expect(fs.existsSync(path.join(p, leftByDead))).toBe(false);
      expect(fs.existsSync(path.join(p, othersLive))).toBe(true);
      fs.rmdirSync(path.join(p, othersLive));
    }
  });

  it('an OOM kill in a pooled cgroup is not charged to the attempt that reuses it', async () => {
    const hog = spec(h.dir, 'hog2', HOG, { memoryBytes: 100 * MB });
    await h.driver.start(hog);
    expect((await h.exitOf(hog.attemptId)).outcome.kind).toBe('oom-killed');
    await h.driver.release({ attemptId: hog.attemptId });
    const next = spec(h.dir, 'after-hog', ['/bin/sh', '-c', 'exit 3'], { memoryBytes: 100 * MB });
    await h.driver.start(next);
    expect((await h.exitOf(next.attemptId)).outcome).toEqual({ kind: 'exited', exitCode: 3, signal: null });
    await h.driver.release({ attemptId: next.attemptId });
  });

  it('kills a workload that outgrows its ephemeral storage', async () => {
    const s = spec(h.dir, 'disk', ['/bin/sh', '-c', 'head -c 5000000 /dev/zero > big; while true; do sleep 0.1; done'], {
      ephemeralStorageBytes: 1 * MB,
    });
    await h.driver.start(s);
    expect((await h.exitOf(s.attemptId)).outcome.kind).toBe('storage-exceeded');
  });

  it('still kills it when it writes only after its scratch sat empty long enough to be stat-checked', async () => {
    // Empty for 3 s: the walks after the first 2 s only stat the directory, until the file appears.
    const s = spec(h.dir, 'late-disk', ['/bin/sh', '-c', 'sleep 3; mkdir sub; head -c 5000000 /dev/zero > sub/big; while true; do sleep 0.1; done'], {
      ephemeralStorageBytes: 1 * MB,
    });
    await h.driver.start(s);
    expect((await h.exitOf(s.attemptId)).outcome.kind).toBe('storage-exceeded');
  });
});

describe('process driver: a client crash does not kill instances', () => {
  it('survives a SIGKILLed client, then is stopped by a new one', async () => {
    const dir = path.join(root, 'crash');
    const launcherDir = path.join(dir, 'launcher');
    fs.mkdirSync(dir, { recursive: true });
    const s = spec(dir, 'survivor', ['/bin/sh', '-c', 'trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done']);
    // A separate Node process plays the server: it starts the attempt, prints the handle, and is SIGKILLed.
    const script = path.join(dir, 'client.mts');
    const driverModule = new URL('../../src/drivers/process/driver.ts', import.meta.url).href;
    fs.writeFileSync(
      script,
      `import { createProcessDriver } from ${JSON.stringify(driverModule)};
const d = await createProcessDriver({ launcherDir: ${JSON.stringify(launcherDir)}, idleExitMs: 5000 });
const h = await d.start(${JSON.stringify(s)});
process.stdout.write(JSON.stringify(h) + '\\n');
setInterval(() => {}, 1000);
`,
    );
    const tsx = path.join(path.dirname(new URL(import.meta.url).pathname), '../../node_modules/tsx/dist/loader.mjs');
    const child = spawn(process.execPath, ['--import', tsx, script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += String(c)));
    const handle = JSON.parse(await waitFor('the client to print the handle', () => (out.includes('\n') ? out : null)));
    const pid = handle.data.pid as number;
    expect(pid).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await waitFor('the client to die', () => child.exitCode !== null || child.signalCode !== null);
    process.kill(pid, 0); // still alive

    const driver = await createProcessDriver({ launcherDir, idleExitMs: 5_000 });
    const exits: AttemptExit[] = [];
    driver.subscribe((e) => exits.push(e));
    try {
      expect(await driver.recover({ attemptId: s.attemptId, handle })).toEqual({ state: 'running' });
      process.kill(pid, 0);
      await waitFor('"ready" in the log', () => readLog(s.logPath).some((r) => r.text === 'ready'));
      await driver.stop({ attemptId: s.attemptId, handle }, { graceMs: 10_000 });
      const exit = await waitFor('the exit', () => exits.find((e) => e.attemptId === s.attemptId));
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      await driver.release({ attemptId: s.attemptId });
    } finally {
      await driver.close();
      await shutdownLauncher(launcherDir, { force: true });
    }
  });
});
