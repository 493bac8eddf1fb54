/**
 * Issue 7's benchmark harness (measurement only): cejobs (library API, process driver, fresh
 * state home per run) against xargs, GNU parallel and pm2.
 *
 *     npm run bench                     # every scenario, 3 runs each, medians
 *     npm run bench -- --runs 5
 *     npm run bench -- --quick          # 1 small round, to check the harness works
 *     npm run bench -- --only 1,3       # some scenarios only
 *
 * Prints one table of medians per scenario and writes everything (every run's numbers) to
 * bench/results/<ISO date>.json. Nothing here is part of `npm test`.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openLocalEngine } from '../src/server/local.js';
import { shutdownLauncher } from '../src/drivers/process/driver.js';
import type { Engine } from '../src/engine/engine.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = path.join(benchDir, '.tools');
const resultsDir = path.join(benchDir, 'results');

// ---------------------------------------------------------------- arguments

function flagValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const quick = process.argv.includes('--quick');
const runs = quick ? 1 : Math.max(1, Number(flagValue('--runs') ?? 3));
const only = flagValue('--only')?.split(',').map(Number);
const size = quick
  ? { fanout: 200, fanoutN: 16, submits: 10, restarts: 15, daemons: 50, idleMs: 2000 }
  : { fanout: 2000, fanoutN: 16, submits: 50, restarts: 50, daemons: 500, idleMs: 5000 };

// ---------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function sh(command: string): Promise<{ code: number | null; ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, ms: performance.now() - t0, stderr }));
  });
}
function which(cmd: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuTicks(pid: number | 'self'): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}
function rssBytes(pid: number | 'self'): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
/** CPU used by each pid over `ms`, in % of one core. */
async function idleCpu(pids: (number | 'self')[], ms: number): Promise<number[]> {
  const before = pids.map(cpuTicks);
  const t0 = performance.now();
  await sleep(ms);
  const secs = (performance.now() - t0) / 1000;
  return pids.map((p, i) => ((cpuTicks(p) - before[i]!) / CLK_TCK / secs) * 100);
}

// ---------------------------------------------------------------- cejobs engine per run

interface Bench {
  engine: Engine;
  home: string;
  done(): Promise<void>;
}
async function openBench(cpuMillis: number, settings: Record<string, unknown> = {}): Promise<Bench> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-bench-'));
  const capacity = { cpuMillis, memoryBytes: 1e15 };
  const warnings: string[] = [];
  const engine = await openLocalEngine({
    home,
    driver: 'process',
    process: { capacity, idleExitMs: 600_000 },
    settings: { capacity, ...settings },
    secretKey: crypto.randomBytes(32),
    warn: (m, e) => warnings.length < 5 && warnings.push(`${m}${e ? `: ${(e as Error).message}` : ''}`),
  });
  return {
    engine,
    home,
    async done() {
      await engine.close();
      await shutdownLauncher(engine.layout.launcherDir, { force: true });
      fs.rmSync(home, { recursive: true, force: true });
      if (warnings.length) console.error(`  (engine warnings: ${warnings.join('; ')})`);
    },
  };
}

const job = (spec: Record<string, unknown>) => ({ scale_cpu_limit: '0.125', scale_memory_limit: '0.25G', ...spec });

// ---------------------------------------------------------------- pm2

const pm2Bin = path.join(toolsDir, 'node_modules', '.bin', 'pm2');
let pm2Skip: string | undefined;
function ensurePm2(): string | undefined {
  if (fs.existsSync(pm2Bin)) return undefined;
  if (pm2Skip !== undefined) return pm2Skip;
  console.error('  installing pm2 into bench/.tools ...');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', toolsDir, 'pm2@latest'], { encoding: 'utf8' });
  pm2Skip = r.status === 0 && fs.existsSync(pm2Bin) ? undefined : `npm install pm2 failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return pm2Skip;
}
function pm2Env(home: string): NodeJS.ProcessEnv {
  return { ...process.env, PM2_HOME: home, PM2_DISCRETE_MODE: 'true' };
}
function pm2(home: string, args: string[]): string {
  const r = spawnSync(pm2Bin, args, { env: pm2Env(home), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`pm2 ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
interface Pm2Proc {
  name: string;
  pm2_env: { status: string; restart_time: number };
}
function pm2List(home: string): Pm2Proc[] {
  const out = pm2(home, ['jlist']);
  return JSON.parse(out.slice(out.indexOf('['))) as Pm2Proc[];
}
function pm2Kill(home: string): void {
  spawnSync(pm2Bin, ['kill'], { env: pm2Env(home), encoding: 'utf8' });
  fs.rmSync(home, { recursive: true, force: true });
}

// ---------------------------------------------------------------- results model

type Metrics = Record<string, number>;
interface ToolResult {
  tool: string;
  runs: Metrics[];
  skipped?: string;
}
interface ScenarioResult {
  id: number;
  title: string;
  tools: ToolResult[];
  notes?: string[];
}

function medians(t: ToolResult): Metrics {
  const keys = new Set(t.runs.flatMap((r) => Object.keys(r)));
  return Object.fromEntries([...keys].map((k) => [k, median(t.runs.map((r) => r[k] ?? NaN))]));
}

interface Column {
  key: string;
  label: string;
  fmt: (v: number) => string;
}
const sec = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : '—');
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : '—');
const int = (v: number) => (Number.isFinite(v) ? `${Math.round(v)}` : '—');
const mib = (v: number) => (Number.isFinite(v) ? `${(v / 1024 / 1024).toFixed(1)} MiB` : '—');
const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} %` : '—');

/** `ratioKey`: the metric compared, cejobs/tool (lower is better for times). */
function table(s: ScenarioResult, cols: Column[], ratioKey: string): string {
  const cj = s.tools.find((t) => t.tool === 'cejobs');
  const cjv = cj && !cj.skipped ? medians(cj)[ratioKey] ?? NaN : NaN;
  const header = ['tool', ...cols.map((c) => c.label), `cejobs/tool (${cols.find((c) => c.key === ratioKey)?.label ?? ratioKey})`];
  const rows: string[][] = [header];
  const skipped: string[] = [];
  for (const t of s.tools) {
    if (t.skipped) {
      rows.push([t.tool, ...cols.map(() => 'skipped'), '']);
      skipped.push(`  ${t.tool} skipped: ${t.skipped}`);
      continue;
    }
    const m = medians(t);
    const v = m[ratioKey] ?? NaN;
    const ratio = t.tool === 'cejobs' ? '—' : Number.isFinite(cjv / v) ? `${(cjv / v).toFixed(cjv / v < 10 ? 2 : 1)}×` : '—';
    rows.push([t.tool, ...cols.map((c) => c.fmt(m[c.key] ?? NaN)), ratio]);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const n = Math.max(...s.tools.map((t) => t.runs.length));
  const lines = [`Scenario ${s.id}: ${s.title}   (median of ${n})`];
  for (const r of rows) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  lines.push(...skipped, ...(s.notes ?? []).map((x) => `  note: ${x}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------- scenario 1: array fan-out

async function fanout(): Promise<ScenarioResult> {
  const { fanout: count, fanoutN: n } = size;
  const s: ScenarioResult = {
    id: 1,
    title: `array fan-out, ${count} × /bin/true, ${n} at a time`,
    tools: [],
    notes: count > 1000 ? [`cejobs: a run has at most 1000 indices, so ${Math.ceil(count / 1000)} runs of ≤ 1000 indices are submitted together; wall = first submit → all completed`] : [],
  };
  const cj: ToolResult = { tool: 'cejobs', runs: [] };
  const xa: ToolResult = { tool: 'xargs', runs: [] };
  const pa: ToolResult = { tool: 'parallel', runs: [] };
  s.tools.push(cj, xa, pa);
  const parallelBin = which('parallel');
  if (!parallelBin) pa.skipped = 'GNU parallel is not installed (apt-get install -y parallel failed or not root)';
  for (let r = 0; r < runs; r++) {
    const b = await openBench(n * 125);
    try {
      const t0 = performance.now();
      // a run has at most 1000 indices: 2000 instances are submitted as runs of ≤ 1000, all at once
      const names: string[] = [];
      for (let from = 0; from < count; from += 1000) {
        const spec = `${from}-${Math.min(count, from + 1000) - 1}`;
        names.push(b.engine.submitRun('default', job({ run_commands: ['/bin/true'], scale_array_spec: spec })).name);
      }
      const done = await Promise.all(names.map((nm) => b.engine.waitForRun('default', nm)));
      const wall = performance.now() - t0;
      for (const d of done) if (d.status !== 'completed') throw new Error(`fan-out run ended ${d.status}`);
      cj.runs.push({ wallMs: wall, perSec: count / (wall / 1000) });
    } finally {
      await b.done();
    }
    const x = await sh(`seq 0 ${count - 1} | xargs -P ${n} -I{} /bin/true`);
    if (x.code !== 0) throw new Error(`xargs: ${x.stderr}`);
    xa.runs.push({ wallMs: x.ms, perSec: count / (x.ms / 1000) });
    if (parallelBin) {
      const p = await sh(`seq 0 ${count - 1} | parallel --will-cite -j ${n} /bin/true`);
      if (p.code !== 0) throw new Error(`parallel: ${p.stderr}`);
      pa.runs.push({ wallMs: p.ms, perSec: count / (p.ms / 1000) });
    }
    console.error(`  scenario 1 run ${r + 1}/${runs} done`);
  }
  return s;
}

// ---------------------------------------------------------------- scenario 2: submit latency

async function submitLatency(): Promise<ScenarioResult> {
  const k = size.submits;
  const s: ScenarioResult = {
    id: 2,
    title: `submit latency, ${k} × 1-index run → first instance running`,
    tools: [],
    notes: ['reference row: node child_process.spawn of /bin/true → its "spawn" event, in this process'],
  };
  const cj: ToolResult = { tool: 'cejobs', runs: [] };
  const sp: ToolResult = { tool: 'spawn', runs: [] };
  s.tools.push(cj, sp);
  for (let r = 0; r < runs; r++) {
    const b = await openBench(1_000_000);
    const lat: number[] = [];
    try {
      for (let i = 0; i < k; i++) {
        let name = '';
        const t0 = performance.now();
        const running = new Promise<number>((resolve) => {
          const off = b.engine.on('instance', (c) => {
            if (c.runName === name && c.state === 'running') {
              off();
              resolve(performance.now());
            }
          });
        });
        name = b.engine.submitRun('default', job({ run_commands: ['/bin/sleep', '1'], scale_array_spec: '0' })).name;
        const t1 = await Promise.race([running, sleep(30_000).then(() => NaN)]);
        lat.push(t1 - t0);
      }
    } finally {
      await b.done();
    }
    cj.runs.push({ p50: percentile(lat, 50), p99: percentile(lat, 99) });
    const sl: number[] = [];
    for (let i = 0; i < k; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const c = spawn('/bin/true', { stdio: 'ignore' });
        c.on('spawn', () => {
          sl.push(performance.now() - t0);
          c.on('exit', () => resolve());
        });
        c.on('error', reject);
      });
    }
    sp.runs.push({ p50: percentile(sl, 50), p99: percentile(sl, 99) });
    console.error(`  scenario 2 run ${r + 1}/${runs} done`);
  }
  return s;
}

// ---------------------------------------------------------------- scenario 3: daemon restarts

async function daemonRestarts(): Promise<ScenarioResult> {
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
  const skip = ensurePm2();
  if (skip) pm.skipped = skip;
  else {
    for (let r = 0; r < runs; r++) {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2-bench-'));
      try {
        const script = path.join(home, 'crash.js');
        fs.writeFileSync(script, 'process.exit(1);\n');
        pm2(home, ['start', script, '--name', 'crash', '--max-restarts', '1000000', '--restart-delay', '0']);
        await sleep(2000); // let it reach a steady restart rhythm
        const r1 = pm2List(home)[0]!.pm2_env.restart_time;
        const t1 = performance.now();
        // a fixed window, long enough for ~k restarts at pm2's pace
        const window = quick ? 5000 : 15_000;
        await sleep(window);
        const r2 = pm2List(home)[0]!.pm2_env.restart_time;
        const t2 = performance.now();
        const n = r2 - r1;
        pm.runs.push({ startToStartMs: n > 0 ? (t2 - t1) / n : NaN, restarts: n });
      } finally {
        pm2Kill(home);
      }
      console.error(`  scenario 3 pm2 run ${r + 1}/${runs} done`);
    }
    s.notes!.push(
      'pm2: `pm2 start crash.js --max-restarts 1000000 --restart-delay 0` (crash.js: process.exit(1)); start-to-start = window / growth of restart_time over a fixed window (jlist before and after); its p99 is not measured',
    );
  }
  return s;
}

// ---------------------------------------------------------------- scenario 4: supervision footprint

async function footprint(): Promise<ScenarioResult> {
  const k = size.daemons;
  const s: ScenarioResult = {
    id: 4,
    title: `supervision footprint, ${k} daemon instances of \`sleep 300\``,
    tools: [],
    notes: [
      'cejobs: "supervisor RSS" = the launcher (<home>/launcher/launcher.pid), "control RSS" = this process (engine in-process); idle CPU in % of one core over the window, after all are running',
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
      cj.runs.push({
        startAllMs: t1 - t0,
        controlRss: rssBytes('self'),
        supervisorRss: rssBytes(launcherPid),
        controlIdleCpu: serverCpu!,
        supervisorIdleCpu: launcherCpu!,
      });
    } finally {
      await b.done();
    }
    console.error(`  scenario 4 cejobs run ${r + 1}/${runs} done`);
  }
  const skip = ensurePm2();
  if (skip) pm.skipped = skip;
  else {
    for (let r = 0; r < runs; r++) {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2-bench-'));
      try {
        const eco = path.join(home, 'eco.json');
        const apps = Array.from({ length: k }, (_, i) => ({
          name: `s${i}`,
          script: '/bin/sleep',
          args: '300',
          interpreter: 'none',
          autorestart: true,
        }));
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
        pm.runs.push({ startAllMs: t1 - t0, supervisorRss: rssBytes(pid), supervisorIdleCpu: cpu! });
      } finally {
        pm2Kill(home);
      }
      console.error(`  scenario 4 pm2 run ${r + 1}/${runs} done`);
    }
  }
  return s;
}

// ---------------------------------------------------------------- main

const scenarios: [number, () => Promise<ScenarioResult>, Column[], string][] = [
  [
    1,
    fanout,
    [
      { key: 'wallMs', label: 'wall', fmt: sec },
      { key: 'perSec', label: 'instances/s', fmt: int },
    ],
    'wallMs',
  ],
  [
    2,
    submitLatency,
    [
      { key: 'p50', label: 'p50', fmt: ms },
      { key: 'p99', label: 'p99', fmt: ms },
    ],
    'p50',
  ],
  [
    3,
    daemonRestarts,
    [
      { key: 'startToStartMs', label: 'start-to-start', fmt: ms },
      { key: 'p99Ms', label: 'p99', fmt: ms },
      { key: 'restarts', label: 'restarts seen', fmt: int },
    ],
    'startToStartMs',
  ],
  [
    4,
    footprint,
    [
      { key: 'startAllMs', label: 'start all', fmt: sec },
      { key: 'supervisorRss', label: 'supervisor RSS', fmt: mib },
      { key: 'controlRss', label: 'control RSS', fmt: mib },
      { key: 'supervisorIdleCpu', label: 'supervisor idle CPU', fmt: pct },
      { key: 'controlIdleCpu', label: 'control idle CPU', fmt: pct },
    ],
    'startAllMs',
  ],
];

async function main(): Promise<void> {
  const machine = {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    memoryBytes: os.totalmem(),
    cpuModel: os.cpus()[0]?.model,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    parallel: which('parallel') ? spawnSync('parallel', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] : undefined,
  };
  console.log(
    `cejobs bench — ${machine.date}, ${machine.nproc} CPUs (${machine.cpuModel}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}, runs=${runs}${quick ? ' (quick)' : ''}\n`,
  );
  const results: { scenario: ScenarioResult; table: string }[] = [];
  for (const [id, fn, cols, ratioKey] of scenarios) {
    if (only && !only.includes(id)) continue;
    const scenario = await fn();
    const t = table(scenario, cols, ratioKey);
    console.log(t + '\n');
    results.push({ scenario, table: t });
  }
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${machine.date.replace(/:/g, '-')}.json`);
  const out = {
    machine,
    options: { runs, quick, size },
    scenarios: results.map(({ scenario, table: t }) => ({
      ...scenario,
      medians: Object.fromEntries(scenario.tools.filter((x) => !x.skipped).map((x) => [x.tool, medians(x)])),
      table: t,
    })),
  };
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`results: ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
