/** Scenario 2: submit latency, submit of a 1-index run → its instance running (spawn as reference). */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { job, openBench, percentile, runs, size, sleep, type Scenario, type ScenarioResult, type ToolResult, ms } from '../lib.js';

export async function submitLatency(): Promise<ScenarioResult> {
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

export const scenario2: Scenario = {
  id: 2,
  run: submitLatency,
  cols: [
    { key: 'p50', label: 'p50', fmt: ms },
    { key: 'p99', label: 'p99', fmt: ms },
  ],
  ratioKey: 'p50',
};
