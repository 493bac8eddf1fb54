/** Scenarios 3 and 4: daemon restarts and supervision footprint, cejobs against pm2. */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  idleCpu, int, job, median, mib, ms, openBench, pct, percentile, pm2, pm2List, pm2Runs, quick, rssBytes, runs, sec, size, sleep,
  type Scenario, type ScenarioResult, type ToolResult,
} from '../lib.js';

export async function daemonRestarts(): Promise<ScenarioResult> {
  const k = size.restarts;
  const s: ScenarioResult = {
    id: 3,
    title: `daemon restarts, command exits 1 at once, backoff 0 — start-to-start over ~${k} restarts`,
    tools: [],
    notes: [],
  };
  const cj: ToolResult = { tool: 'cejobs', runs: [] };
  const pm: ToolResult = { tool: 'pm2', runs: [] };
  s.tools.push(cj, pm);
  for (let r = 0; r < runs; r++) {
    const b = await openBench(1_000_000, { backoff: { initialMs: 0 } });
    try {
      const starts: number[] = [];
      let name = '';
      const enough = new Promise<void>((resolve) => {
        const off = b.engine.on('event', (e) => {
          if (e.runName === name && e.instanceName && e.reason === 'Started') {
            starts.push(performance.now());
            if (starts.length > k) {
              off();
              resolve();
            }
          }
        });
      });
      name = b.engine.submitRun(
        'default',
        job({ run_mode: 'daemon', run_commands: ['/bin/sh', '-c', 'exit 1'], scale_array_spec: '0' }),
      ).name;
      const timedOut = await Promise.race([enough.then(() => false), sleep(120_000).then(() => true)]);
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
      cj.runs.push({ startToStartMs: median(gaps), p99Ms: percentile(gaps, 99), restarts: gaps.length });
      if (timedOut) s.notes!.push(`cejobs run ${r + 1}: only ${gaps.length} restarts within 120 s`);
      b.engine.deleteRun('default', name);
    } finally {
      await b.done();
    }
    console.error(`  scenario 3 cejobs run ${r + 1}/${runs} done`);
  }
  await pm2Runs(pm, 'scenario 3', async (home) => {
    const script = path.join(home, 'crash.js');
    fs.writeFileSync(script, 'process.exit(1);\n');
    pm2(home, ['start', script, '--name', 'crash', '--max-restarts', '1000000', '--restart-delay', '0']);
    await sleep(2000); // let it reach a steady restart rhythm
    const r1 = pm2List(home)[0]!.pm2_env.restart_time;
    const t1 = performance.now();
    // a fixed window, long enough for ~k restarts at pm2's pace
    await sleep(quick ? 5000 : 15_000);
    const r2 = pm2List(home)[0]!.pm2_env.restart_time;
    const n = r2 - r1;
    return { startToStartMs: n > 0 ? (performance.now() - t1) / n : NaN, restarts: n };
  });
  if (!pm.skipped) {
    s.notes!.push(
      'pm2: `pm2 start crash.js --max-restarts 1000000 --restart-delay 0` (crash.js: process.exit(1)); start-to-start = window / growth of restart_time over a fixed window (jlist before and after); its p99 is not measured',
    );
  }
  return s;
}

// ---------------------------------------------------------------- scenario 4: supervision footprint

export async function footprint(): Promise<ScenarioResult> {
  const k = size.daemons;
  const s: ScenarioResult = {
    id: 4,
    title: `supervision footprint, ${k} daemon instances of \`sleep 300\``,
    tools: [],
    notes: [
      'cejobs: "supervisor RSS" = the launcher (<home>/launcher/launcher.pid), "control RSS" = this process (engine in-process); idle CPU in % of one core over the window, after all are running',
      `"at 30 s": the supervisor's idle CPU over the same window, from 30 s after all are running (right after starting 500 processes, V8's garbage collector and JIT compiler still work for some seconds)`,
      'pm2: "supervisor RSS" = the pm2 daemon (PM2_HOME/pm2.pid); no separate control process stays resident',
    ],
  };
  const cj: ToolResult = { tool: 'cejobs', runs: [] };
  const pm: ToolResult = { tool: 'pm2', runs: [] };
  s.tools.push(cj, pm);
  for (let r = 0; r < runs; r++) {
    const b = await openBench(1_000_000);
    try {
      const seen = new Set<string>();
      let name = '';
      const t0 = performance.now();
      const all = new Promise<number>((resolve) => {
        const off = b.engine.on('instance', (c) => {
          if (c.runName === name && c.state === 'running') {
            seen.add(c.instanceName);
            if (seen.size >= k) {
              off();
              resolve(performance.now());
            }
          }
        });
      });
      name = b.engine.submitRun(
        'default',
        job({ run_mode: 'daemon', run_commands: ['/bin/sleep', '300'], scale_array_spec: `0-${k - 1}` }),
      ).name;
      const t1 = await Promise.race([all, sleep(300_000).then(() => NaN)]);
      await b.engine.settle();
      await sleep(500);
      const launcherPid = Number(fs.readFileSync(path.join(b.engine.layout.launcherDir, 'launcher.pid'), 'utf8').trim());
      const [serverCpu, launcherCpu] = await idleCpu(['self', launcherPid], size.idleMs);
      const steady = await steadyIdleCpu(launcherPid, t1);
      cj.runs.push({
        startAllMs: t1 - t0,
        controlRss: rssBytes('self'),
        supervisorRss: rssBytes(launcherPid),
        controlIdleCpu: serverCpu!,
        supervisorIdleCpu: launcherCpu!,
        supervisorSteadyCpu: steady,
      });
    } finally {
      await b.done();
    }
    console.error(`  scenario 4 cejobs run ${r + 1}/${runs} done`);
  }
  await pm2Runs(pm, 'scenario 4', async (home) => {
    const eco = path.join(home, 'eco.json');
    const apps = Array.from({ length: k }, (_, i) => ({ name: `s${i}`, script: '/bin/sleep', args: '300', interpreter: 'none', autorestart: true }));
    fs.writeFileSync(eco, JSON.stringify({ apps }));
    const t0 = performance.now();
    pm2(home, ['start', eco]);
    let online = 0;
    for (let tries = 0; tries < 600; tries++) {
      online = pm2List(home).filter((p) => p.pm2_env.status === 'online').length;
      if (online >= k) break;
      await sleep(250);
    }
    const t1 = online >= k ? performance.now() : NaN;
    await sleep(500);
    const pid = Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim());
    const [cpu] = await idleCpu([pid], size.idleMs);
    const steady = await steadyIdleCpu(pid, t1);
    return { startAllMs: t1 - t0, supervisorRss: rssBytes(pid), supervisorIdleCpu: cpu!, supervisorSteadyCpu: steady };
  });
  return s;
}

/** Idle CPU of `pid` over the idle window starting 30 s after `allRunningAt` (not with --quick). */
async function steadyIdleCpu(pid: number, allRunningAt: number): Promise<number> {
  if (quick || !Number.isFinite(allRunningAt)) return NaN;
  await sleep(Math.max(0, allRunningAt + 30_000 - performance.now()));
  const [cpu] = await idleCpu([pid], size.idleMs);
  return cpu!;
}

export const scenario3: Scenario = {
  id: 3,
  run: daemonRestarts,
  cols: [
    { key: 'startToStartMs', label: 'start-to-start', fmt: ms },
    { key: 'p99Ms', label: 'p99', fmt: ms },
    { key: 'restarts', label: 'restarts seen', fmt: int },
  ],
  ratioKey: 'startToStartMs',
};

export const scenario4: Scenario = {
  id: 4,
  run: footprint,
  cols: [
    { key: 'startAllMs', label: 'start all', fmt: sec },
    { key: 'supervisorRss', label: 'supervisor RSS', fmt: mib },
    { key: 'controlRss', label: 'control RSS', fmt: mib },
    { key: 'supervisorIdleCpu', label: 'supervisor idle CPU', fmt: pct },
    { key: 'supervisorSteadyCpu', label: 'at 30 s', fmt: pct },
    { key: 'controlIdleCpu', label: 'control idle CPU', fmt: pct },
  ],
  ratioKey: 'startAllMs',
};
