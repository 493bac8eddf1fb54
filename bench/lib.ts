/**
 * Shared parts of the benchmark harness (`bench/run.ts`): arguments, timing and /proc helpers,
 * a cejobs engine per run, pm2, and the results model with its table.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openLocalEngine, type LocalEngineOptions } from '../src/server/local.js';
import { shutdownLauncher } from '../src/drivers/process/driver.js';
import type { Engine } from '../src/engine/engine.js';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const toolsDir = path.join(benchDir, '.tools');
export const resultsDir = path.join(benchDir, 'results');

// ---------------------------------------------------------------- arguments

export function flagValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
export const quick = process.argv.includes('--quick');
export const runs = quick ? 1 : Math.max(1, Number(flagValue('--runs') ?? 3));
export const only = flagValue('--only')?.split(',').map(Number);
/**
 * `--home-dir DIR`: where state homes (and scenario 5's redirect target) are made; the
 * temporary directory by default. Its file system shows in the figures: every instance makes a
 * directory and SQLite commits, so a slow disk costs cejobs what it does not cost xargs.
 */
export const homeBase = path.resolve(flagValue('--home-dir') ?? os.tmpdir());
/** `--concurrency 1,2,4` (or `--chart`: 1,2,4,8,16,32): the points of scenario 1's chart. */
export const chartConcurrency = flagValue('--concurrency')?.split(',').map(Number) ?? (process.argv.includes('--chart') ? [1, 2, 4, 8, 16, 32] : undefined);
export const size = quick
  ? { fanout: 200, fanoutN: 16, chartCount: 100, submits: 10, restarts: 15, daemons: 50, idleMs: 2000, logBytes: 50_000_000, apiRuns: 1000, apiSeconds: 2, containers: 20, containerN: 4 }
  : { fanout: 2000, fanoutN: 16, chartCount: 500, submits: 50, restarts: 50, daemons: 500, idleMs: 5000, logBytes: 500_000_000, apiRuns: 10_000, apiSeconds: 5, containers: 50, containerN: 8 };

// ---------------------------------------------------------------- helpers

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function sh(command: string): Promise<{ code: number | null; ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, ms: performance.now() - t0, stderr }));
  });
}
export function which(cmd: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
export function cpuTicks(pid: number | 'self'): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}
export function rssBytes(pid: number | 'self'): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
/** CPU used by each pid over `ms`, in % of one core. */
export async function idleCpu(pids: (number | 'self')[], ms: number): Promise<number[]> {
  const before = pids.map(cpuTicks);
  const t0 = performance.now();
  await sleep(ms);
  const secs = (performance.now() - t0) / 1000;
  return pids.map((p, i) => ((cpuTicks(p) - before[i]!) / CLK_TCK / secs) * 100);
}

// ---------------------------------------------------------------- cejobs engine per run

export interface Bench {
  engine: Engine;
  home: string;
  done(): Promise<void>;
}
/**
 * A cejobs engine on a fresh temporary state home, admitting `cpuMillis` at once (the process
 * driver by default; `local` overrides the driver and its options).
 */
export async function openBench(
  cpuMillis: number,
  settings: Record<string, unknown> = {},
  local: Pick<LocalEngineOptions, 'driver' | 'container'> = {},
): Promise<Bench> {
  const home = fs.mkdtempSync(path.join(homeBase, 'cejobs-bench-'));
  const capacity = { cpuMillis, memoryBytes: 1e15 };
  const warnings: string[] = [];
  const engine = await openLocalEngine({
    home,
    driver: 'process',
    process: { capacity, idleExitMs: 600_000 },
    ...local,
    settings: { capacity, ...settings },
    secretKey: crypto.randomBytes(32),
    warn: (m, e) => warnings.length < 5 && warnings.push(`${m}${e ? `: ${(e as Error).message}` : ''}`),
  });
  return {
    engine,
    home,
    async done() {
      await engine.close();
      if (engine.driver.name === 'process') await shutdownLauncher(engine.layout.launcherDir, { force: true });
      fs.rmSync(home, { recursive: true, force: true });
      if (warnings.length) console.error(`  (engine warnings: ${warnings.join('; ')})`);
    },
  };
}

export const job = (spec: Record<string, unknown>) => ({ scale_cpu_limit: '0.125', scale_memory_limit: '0.25G', ...spec });

// ---------------------------------------------------------------- pm2

export const pm2Bin = path.join(toolsDir, 'node_modules', '.bin', 'pm2');
let pm2Skip: string | undefined;
export function ensurePm2(): string | undefined {
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
export function pm2(home: string, args: string[]): string {
  const r = spawnSync(pm2Bin, args, { env: pm2Env(home), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`pm2 ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
export interface Pm2Proc {
  name: string;
  pm2_env: { status: string; restart_time: number };
}
export function pm2List(home: string): Pm2Proc[] {
  const out = pm2(home, ['jlist']);
  return JSON.parse(out.slice(out.indexOf('['))) as Pm2Proc[];
}
export function pm2Kill(home: string): void {
  spawnSync(pm2Bin, ['kill'], { env: pm2Env(home), encoding: 'utf8' });
  fs.rmSync(home, { recursive: true, force: true });
}

/**
 * `runs` measurements of pm2, each with a fresh PM2_HOME (its daemon killed after): pm2 is
 * installed first, or the tool is marked skipped with the reason.
 */
export async function pm2Runs(tool: ToolResult, label: string, measure: (home: string) => Promise<Metrics>): Promise<void> {
  const skip = ensurePm2();
  if (skip) {
    tool.skipped = skip;
    return;
  }
  for (let r = 0; r < runs; r++) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2-bench-'));
    try {
      tool.runs.push(await measure(home));
    } finally {
      pm2Kill(home);
    }
    console.error(`  ${label} pm2 run ${r + 1}/${runs} done`);
  }
}

// ---------------------------------------------------------------- results model

export type Metrics = Record<string, number>;
export interface ToolResult {
  tool: string;
  runs: Metrics[];
  skipped?: string;
}
export interface ScenarioResult {
  id: number;
  title: string;
  tools: ToolResult[];
  notes?: string[];
  /** Anything else the scenario measured (kept in the JSON as is). */
  data?: unknown;
}

export function medians(t: ToolResult): Metrics {
  const keys = new Set(t.runs.flatMap((r) => Object.keys(r)));
  return Object.fromEntries([...keys].map((k) => [k, median(t.runs.map((r) => r[k] ?? NaN))]));
}

export interface Column {
  key: string;
  label: string;
  fmt: (v: number) => string;
}
export const sec = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : '—');
export const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : '—');
export const int = (v: number) => (Number.isFinite(v) ? `${Math.round(v)}` : '—');
export const mib = (v: number) => (Number.isFinite(v) ? `${(v / 1024 / 1024).toFixed(1)} MiB` : '—');
export const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} %` : '—');

/** `ratioKey`: the metric compared, cejobs/tool (lower is better for times). */
export function table(s: ScenarioResult, cols: Column[], ratioKey: string): string {
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

/** A scenario as `run.ts` runs it: the measurement, and the columns of its table. */
export interface Scenario {
  id: number;
  run: () => Promise<ScenarioResult>;
  cols: Column[];
  /** The metric of the ratio column, cejobs/tool. */
  ratioKey: string;
}
