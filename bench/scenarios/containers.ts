/**
 * Scenario 7: containers. `size.containers` instances of the busybox test image running `true`,
 * `size.containerN` at a time: cejobs' container driver against `podman run --rm --network none`
 * under `xargs -P`, both on one private Podman (its own --root/--runroot in a temp dir, the
 * service on a private socket; no dockerd, no registry), started as test/setup/containers.ts
 * does. The Podman part holds /tmp/cejobs-container-tests.lock (flock) for its whole duration,
 * as the container tests do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildRootfs, FIXTURES, get, run, startDaemon, stopDaemon, TEST_IMAGE, waitUntil, which } from '../../test/setup/containers.js';
import { CLK_TCK, cpuTicks, int, job, openBench, runs, sec, sh, size, type Scenario, type ScenarioResult, type ToolResult } from '../lib.js';

const LOCK = '/tmp/cejobs-container-tests.lock';

/** Takes the container-tests lock with flock(1); resolves with its release. */
async function takeLock(): Promise<() => Promise<void>> {
  const holder: ChildProcess = spawn('flock', [LOCK, '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.on('error', reject);
    holder.on('exit', (code) => reject(new Error(`flock ${LOCK} exited ${code}`)));
    holder.stdout!.once('data', () => resolve());
  });
  holder.removeAllListeners('exit');
  return () =>
    new Promise<void>((resolve) => {
      holder.once('exit', () => resolve());
      holder.stdin!.end();
    });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function containers(): Promise<ScenarioResult> {
  const count = size.containers;
  const n = size.containerN;
  const s: ScenarioResult = {
    id: 7,
    title: `containers, ${count} × \`true\` in ${TEST_IMAGE}, ${n} at a time, one private Podman`,
    tools: [],
    notes: [
      `loop: seq ${count} | xargs -P ${n} -I{} podman --root R --runroot RR run --rm --network none ${TEST_IMAGE} true (the same storage as the service cejobs uses)`,
      'cejobs: container driver on the Podman service socket, network none, one run of indices 0..count-1; wall = submit → run completed (containers removed by the driver)',
      'cejobs CPU = user+system of this process (engine + container driver) over the run; podman service CPU = of `podman system service` (the loop does not use it)',
      'target: wall ≤ 1.0× the loop',
    ],
  };
  const cj: ToolResult = { tool: 'cejobs', runs: [] };
  const loop: ToolResult = { tool: 'podman loop', runs: [] };
  s.tools.push(cj, loop);
  const podman = which('podman');
  const why = !podman ? 'podman is not installed (apt-get install podman runc)' : process.getuid?.() !== 0 ? 'needs root (a private Podman root)' : !which('flock') ? 'flock is not installed' : undefined;
  if (why) {
    cj.skipped = loop.skipped = why;
    return s;
  }
  const release = await takeLock();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-bench-ct-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: path.join(FIXTURES, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(FIXTURES, 'registries.conf'),
  };
  const podmanArgs = ['--root', path.join(tmp, 'podman', 'root'), '--runroot', path.join(tmp, 'podman', 'run')];
  let service: ChildProcess | undefined;
  try {
    const tar = buildRootfs(tmp);
    run(podman!, [...podmanArgs, 'import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', tar, TEST_IMAGE], env);
    const sock = path.join(tmp, 'podman.sock');
    const logFile = path.join(tmp, 'podman.log');
    service = startDaemon(podman!, [...podmanArgs, 'system', 'service', '--time=0', `unix://${sock}`], logFile, env);
    await waitUntil('the Podman service', async () => (await get(sock, '/_ping')) === 200, 20_000, service, logFile);
    const podmanCmd = [podman!, ...podmanArgs].map(q).join(' ');
    const envPrefix = `CONTAINERS_CONF=${q(env.CONTAINERS_CONF!)} CONTAINERS_REGISTRIES_CONF=${q(env.CONTAINERS_REGISTRIES_CONF!)}`;
    // Warm-up: the first container of a fresh root sets things up (and checks the image runs).
    const warm = await sh(`${envPrefix} ${podmanCmd} run --rm --network none ${TEST_IMAGE} true`);
    if (warm.code !== 0) throw new Error(`podman run failed: ${warm.stderr.trim()}`);
    for (let r = 0; r < runs; r++) {
      const b = await openBench(n * 125, {}, { driver: 'container', container: { socketPath: sock, network: 'none', engine: 'podman' } });
      try {
        const cpu0 = process.cpuUsage();
        const svc0 = cpuTicks(service.pid!);
        const t0 = performance.now();
        const name = b.engine.submitRun('default', job({ image_reference: TEST_IMAGE, run_commands: ['true'], scale_array_spec: `0-${count - 1}` })).name;
        const done = await b.engine.waitForRun('default', name);
        const wall = performance.now() - t0;
        if (done.status !== 'completed') throw new Error(`scenario 7: run ended ${done.status}`);
        const cpu = process.cpuUsage(cpu0);
        cj.runs.push({
          wallMs: wall,
          perSec: count / (wall / 1000),
          controlCpuMs: (cpu.user + cpu.system) / 1000,
          serviceCpuMs: ((cpuTicks(service.pid!) - svc0) / CLK_TCK) * 1000,
        });
      } finally {
        await b.done();
      }
      const x = await sh(`seq ${count} | ${envPrefix} xargs -P ${n} -I{} ${podmanCmd} run --rm --network none ${TEST_IMAGE} true`);
      if (x.code !== 0) throw new Error(`podman loop: ${x.stderr.trim().split('\n').pop()}`);
      loop.runs.push({ wallMs: x.ms, perSec: count / (x.ms / 1000) });
      console.error(`  scenario 7 run ${r + 1}/${runs} done`);
    }
  } finally {
    try {
      run(podman!, [...podmanArgs, 'rm', '--all', '--force', '--time', '0'], env);
    } catch {
      // nothing left to remove
    }
    await stopDaemon(service);
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
    await release();
  }
  return s;
}

export const scenario7: Scenario = {
  id: 7,
  run: containers,
  cols: [
    { key: 'wallMs', label: 'wall', fmt: sec },
    { key: 'perSec', label: 'containers/s', fmt: int },
    { key: 'controlCpuMs', label: 'cejobs CPU', fmt: (v) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : '—') },
    { key: 'serviceCpuMs', label: 'podman service CPU', fmt: (v) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : '—') },
  ],
  ratioKey: 'wallMs',
};
