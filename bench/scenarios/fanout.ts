/**
 * Scenario 1: array fan-out of /bin/true, cejobs against xargs -P and GNU parallel; and, with
 * `--chart` or `--concurrency 1,2,4,...`, instances/s by concurrency drawn into
 * docs/benchmarks-fanout.svg.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  benchDir, chartConcurrency, int, job, median, openBench, quick, runs, sec, sh, size, which,
  type Bench, type Scenario, type ScenarioResult, type ToolResult,
} from '../lib.js';

/** Wall time of `count` × /bin/true submitted to `b`, from the first submit to all completed (runs of ≤ 1000 indices). */
async function fanoutOn(b: Bench, count: number): Promise<number> {
  const t0 = performance.now();
  // a run has at most 1000 indices: more instances are submitted as runs of ≤ 1000, all at once
  const names: string[] = [];
  for (let from = 0; from < count; from += 1000) {
    const spec = `${from}-${Math.min(count, from + 1000) - 1}`;
    names.push(b.engine.submitRun('default', job({ run_commands: ['/bin/true'], scale_array_spec: spec })).name);
  }
  const done = await Promise.all(names.map((nm) => b.engine.waitForRun('default', nm)));
  const wall = performance.now() - t0;
  for (const d of done) if (d.status !== 'completed') throw new Error(`fan-out run ended ${d.status}`);
  return wall;
}

/**
 * A server admitting `n` instances at once, warmed up the way a server users submit to is: it
 * has run work before. One untimed run of `warmup` instances first: the JIT compilers of both
 * processes take a few thousand instances to settle (the first run on a new server is ~25 %
 * slower; scenario 1 reports it too).
 */
async function withServer<T>(n: number, warmup: number, use: (b: Bench) => Promise<T>): Promise<T> {
  const b = await openBench(n * 125);
  try {
    await fanoutOn(b, warmup);
    return await use(b);
  } finally {
    await b.done();
  }
}

async function shFanout(tool: 'xargs' | 'parallel', count: number, n: number): Promise<number> {
  const cmd =
    tool === 'xargs'
      ? `seq 0 ${count - 1} | xargs -P ${n} -I{} /bin/true`
      : `seq 0 ${count - 1} | parallel --will-cite -j ${n} /bin/true`;
  const r = await sh(cmd);
  if (r.code !== 0) throw new Error(`${tool}: ${r.stderr}`);
  return r.ms;
}

export async function fanout(): Promise<ScenarioResult> {
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
  const hasParallel = !!which('parallel');
  if (!hasParallel) pa.skipped = 'GNU parallel is not installed (apt-get install -y parallel failed or not root)';
  const point = (wall: number) => ({ wallMs: wall, perSec: count / (wall / 1000) });
  // Timed runs on one warm server, each next to a run of each peer. At least 5: this VM's speed
  // drifts by ±20 % within minutes (both tools move together), so runs are compared in pairs too.
  const timedRuns = quick ? runs : Math.max(runs, 5);
  await withServer(n, count, async (b) => {
    for (let r = 0; r < timedRuns; r++) {
      cj.runs.push(point(await fanoutOn(b, count)));
      xa.runs.push(point(await shFanout('xargs', count, n)));
      if (hasParallel) pa.runs.push(point(await shFanout('parallel', count, n)));
      console.error(`  scenario 1 run ${r + 1}/${timedRuns} done`);
    }
  });
  // And the first run of a new server (warmed by 2N instances only), for the record.
  const fresh: number[] = [];
  for (let r = 0; r < runs; r++) fresh.push(await withServer(n, 2 * n, (b) => fanoutOn(b, count)));
  const freshWall = median(fresh);
  const xargsWall = median(xa.runs.map((x) => x.wallMs!));
  s.notes!.push(
    `cejobs timed on one server after an untimed run of ${count}; a new server's first run (after ${2 * n} instances): ` +
      `${sec(freshWall)}, ${int(count / (freshWall / 1000))}/s, ${(freshWall / xargsWall).toFixed(2)}× xargs' wall`,
  );
  // Each cejobs run against the peer runs right after it: the median of these ratios is the
  // comparison least moved by the VM's drift (the table's ratio is of medians taken apart).
  const paired = (peer: ToolResult) => peer.runs.map((p, i) => cj.runs[i]!.wallMs! / p.wallMs!);
  const pairs: Record<string, number[]> = { xargs: paired(xa), ...(hasParallel ? { parallel: paired(pa) } : {}) };
  s.notes!.push(
    'run by run (each cejobs run against the peer runs right after it), median of the ratios: ' +
      Object.entries(pairs)
        .map(([tool, rs]) => `cejobs/${tool} ${median(rs).toFixed(2)}× (${rs.map((x) => x.toFixed(2)).join(', ')})`)
        .join('; '),
  );
  s.data = { freshServer: fresh.map(point), pairedWallRatios: pairs };
  if (chartConcurrency) s.data = { ...(s.data as object), chart: await chart(chartConcurrency, hasParallel) };
  return s;
}

// ---------------------------------------------------------------- the chart

interface ChartPoint {
  n: number;
  /** instances/s per tool. */
  perSec: Record<string, number>;
}
export interface FanoutChart {
  count: number;
  points: ChartPoint[];
  svg: string;
}

async function chart(ns: number[], hasParallel: boolean): Promise<FanoutChart> {
  const count = size.chartCount;
  const points: ChartPoint[] = [];
  for (const n of ns) {
    const perSec: Record<string, number> = {};
    perSec.cejobs = count / ((await withServer(n, count, (b) => fanoutOn(b, count))) / 1000);
    perSec.xargs = count / ((await shFanout('xargs', count, n)) / 1000);
    if (hasParallel) perSec.parallel = count / ((await shFanout('parallel', count, n)) / 1000);
    points.push({ n, perSec });
    console.error(`  scenario 1 chart: N=${n} ${Object.entries(perSec).map(([k, v]) => `${k} ${Math.round(v)}/s`).join(', ')}`);
  }
  const file = path.join(benchDir, '..', 'docs', 'benchmarks-fanout.svg');
  const svg = renderSvg(count, points);
  fs.writeFileSync(file, svg);
  console.error(`  scenario 1 chart: ${path.relative(process.cwd(), file)}`);
  return { count, points, svg: path.relative(process.cwd(), file) };
}

const COLORS: Record<string, string> = { cejobs: '#0f62fe', xargs: '#6f6f6f', parallel: '#da1e28' };

/** A line chart, log2 x axis (concurrency), log10 y axis (instances/s), hand-written SVG. */
export function renderSvg(count: number, points: ChartPoint[]): string {
  const W = 640, H = 400, L = 70, R = 130, T = 40, B = 50;
  const tools = [...new Set(points.flatMap((p) => Object.keys(p.perSec)))];
  const xs = points.map((p) => Math.log2(p.n));
  const xMin = Math.min(...xs), xMax = Math.max(...xs, xMin + 1);
  const values = points.flatMap((p) => Object.values(p.perSec)).filter((v) => Number.isFinite(v) && v > 0);
  const yLo = Math.floor(Math.log10(Math.max(1, Math.min(...values))));
  const yHi = Math.max(yLo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const x = (n: number) => L + ((Math.log2(n) - xMin) / (xMax - xMin)) * (W - L - R);
  const y = (v: number) => T + (1 - (Math.log10(v) - yLo) / (yHi - yLo)) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">Array fan-out: instances/s by concurrency (${count} × /bin/true per point)</text>`);
  for (let e = yLo; e <= yHi; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) > yHi + 1e-9) break;
      out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${m === 1 ? '#d0d0d0' : '#eeeeee'}"/>`);
      out.push(`<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
    }
  }
  for (const p of points) {
    out.push(`<line x1="${x(p.n).toFixed(1)}" x2="${x(p.n).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x(p.n).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${p.n}</text>`);
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#161616"/>`);
  out.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#161616"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">concurrency (instances at a time)</text>`);
  out.push(`<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">instances/s (log scale)</text>`);
  tools.forEach((tool, i) => {
    const color = COLORS[tool] ?? '#8a3ffc';
    const pts = points.filter((p) => (p.perSec[tool] ?? 0) > 0).map((p) => `${x(p.n).toFixed(1)},${y(p.perSec[tool]!).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const pt of pts) {
      const [cx, cy] = pt.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
    const ly = T + 10 + i * 20;
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${tool}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export const scenario1: Scenario = {
  id: 1,
  run: fanout,
  cols: [
    { key: 'wallMs', label: 'wall', fmt: sec },
    { key: 'perSec', label: 'instances/s', fmt: int },
  ],
  ratioKey: 'wallMs',
};
