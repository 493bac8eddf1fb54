/**
 * Scenario 6: the HTTP API under load, with `size.apiRuns` completed runs in history. The real
 * server (`startServer`: token, engine, Fastify app) on 127.0.0.1; autocannon in its own
 * process (so the load generator does not share the server's event loop) against a GET of one
 * run and a GET of a list page of 100. Peer: a bare node:http server answering the very same
 * JSON bodies from memory — the ceiling of Node on this machine, not a competing product.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { startServer } from '../../src/server/serve.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { benchDir, homeBase, int, job, ms, runs, size, sleep, type Scenario, type ScenarioResult, type ToolResult } from '../lib.js';

const autocannonBin = path.join(benchDir, '..', 'node_modules', '.bin', 'autocannon');
const CONNECTIONS = 32;

interface Load {
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** autocannon -c connections -d seconds, in a child process; its JSON summary. */
function autocannon(url: string, token: string, seconds: number, connections = CONNECTIONS): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(autocannonBin, ['-c', String(connections), '-d', String(seconds), '-j', '-H', `authorization=Bearer ${token}`, url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err.trim().split('\n').pop()}`));
      const r = JSON.parse(out) as {
        requests: { average: number };
        latency: { p50: number; p99: number };
        non2xx: number;
        errors: number;
      };
      resolve({ reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
    });
  });
}

/**
 * Runs `load` while watching this process (where both servers run): the event loop's delay
 * p99 and max (ms), and the total time of GC pauses (ms).
 */
async function watched<T>(load: () => Promise<T>): Promise<{ result: T; eldP99: number; eldMax: number; gcMs: number; gcMaxMs: number }> {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcMaxMs = Math.max(gcMaxMs, e.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  eld.enable();
  try {
    const result = await load();
    return { result, eldP99: eld.percentile(99) / 1e6, eldMax: eld.max / 1e6, gcMs, gcMaxMs };
  } finally {
    eld.disable();
    gc.disconnect();
  }
}

/** A node:http server answering `bodies[path]` (and 404 else). */
async function bareServer(bodies: Map<string, string>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function apiLoad(): Promise<ScenarioResult> {
  const count = size.apiRuns;
  const seconds = size.apiSeconds;
  const s: ScenarioResult = {
    id: 6,
    title: `API under load, ${count} completed runs in history, ${CONNECTIONS} connections × ${seconds} s per URL`,
    tools: [],
    notes: [
      'get = GET /v2/projects/<id>/job_runs/<name>; list = GET /v2/projects/<id>/job_runs?limit=100 (first page); bearer token on every request',
      'load: autocannon in a child process (-c 32 -d N -j; "@10": -c 10); req/s = its average, latencies its p50/p99 (whole ms: autocannon\'s resolution)',
      'during the get at 32 connections: the event-loop delay (p99, max) and the GC pauses (total, longest) of the process serving (monitorEventLoopDelay, PerformanceObserver gc)',
      'peer "node:http": a bare node:http server returning the same bodies (fetched once from cejobs) from memory — the ceiling, not a product',
      'target: get ≥ 2000 req/s and p99 ≤ 10 ms',
    ],
  };
  const cj: ToolResult = { tool: 'cejobs', runs: [] };
  const bare: ToolResult = { tool: 'node:http', runs: [] };
  s.tools.push(cj, bare);
  if (!fs.existsSync(autocannonBin)) {
    cj.skipped = bare.skipped = 'autocannon is not installed (npm install)';
    return s;
  }
  const home = fs.mkdtempSync(path.join(homeBase, 'cejobs-bench-api-'));
  const capacity = { cpuMillis: 32 * 125, memoryBytes: 1e15 };
  const serverLog: string[] = [];
  const srv = await startServer({
    home,
    driver: 'process',
    process: { capacity, idleExitMs: 600_000 },
    settings: { capacity },
    log: (l) => serverLog.length < 5 && serverLog.push(l),
  });
  try {
    // Seed: real runs through the engine, 1 index of /bin/true each, 32 at a time.
    const t0 = performance.now();
    const names: string[] = [];
    for (let i = 0; i < count; i++) names.push(srv.engine.submitRun('default', job({ run_commands: ['/bin/true'], scale_array_spec: '0' })).name);
    for (const nm of names) {
      const r = await srv.engine.waitForRun('default', nm);
      if (r.status !== 'completed') throw new Error(`seed run ${nm} ended ${r.status}`);
    }
    const seedMs = performance.now() - t0;
    // Let the engine and launcher finish the seeding's aftermath before measuring.
    await srv.engine.settle();
    const idle = await watched(() => sleep(2000));
    s.notes!.push(`after seeding, idle for 2 s: event-loop delay p99 ${idle.eldP99.toFixed(1)} ms, max ${idle.eldMax.toFixed(1)} ms`);
    s.notes!.push(`seeded ${count} runs (1 index of /bin/true each, through the engine, 32 at a time) in ${(seedMs / 1000).toFixed(1)} s`);
    console.error(`  scenario 6: seeded ${count} runs in ${(seedMs / 1000).toFixed(1)} s`);

    const projectId = srv.engine.getProject('default').id;
    const paths = {
      get: `/v2/projects/${projectId}/job_runs/${names[Math.floor(count / 2)]}`,
      list: `/v2/projects/${projectId}/job_runs?limit=100`,
    };
    const bodies = new Map<string, string>();
    for (const p of Object.values(paths)) {
      const res = await fetch(srv.url + p, { headers: { authorization: `Bearer ${srv.token}` } });
      if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
      bodies.set(p, await res.text());
    }
    const listBody = JSON.parse(bodies.get(paths.list)!) as { job_runs: unknown[] };
    if (listBody.job_runs.length !== 100) throw new Error(`list page has ${listBody.job_runs.length} runs, not 100`);
    s.notes!.push(`body sizes: get ${bodies.get(paths.get)!.length} B, list ${bodies.get(paths.list)!.length} B`);
    const peer = await bareServer(bodies);
    try {
      for (let r = 0; r < runs; r++) {
        for (const [tool, base] of [
          [cj, srv.url],
          [bare, peer.url],
        ] as const) {
          const { result: g, eldP99, eldMax, gcMs, gcMaxMs } = await watched(() => autocannon(base + paths.get, srv.token, seconds));
          const g10 = await autocannon(base + paths.get, srv.token, seconds, 10);
          const l = await autocannon(base + paths.list, srv.token, seconds);
          tool.runs.push({
            getReqPerSec: g.reqPerSec,
            getP50: g.p50,
            getP99: g.p99,
            getLoopDelayP99: eldP99,
            getLoopDelayMax: eldMax,
            getGcMs: gcMs,
            getGcMaxMs: gcMaxMs,
            get10ReqPerSec: g10.reqPerSec,
            get10P99: g10.p99,
            listReqPerSec: l.reqPerSec,
            listP50: l.p50,
            listP99: l.p99,
            failed: g.non2xx + g.errors + g10.non2xx + g10.errors + l.non2xx + l.errors,
          });
        }
        console.error(`  scenario 6 run ${r + 1}/${runs} done`);
      }
    } finally {
      await peer.close();
    }
  } finally {
    await srv.close();
    await shutdownLauncher(srv.engine.layout.launcherDir, { force: true }).catch(() => {});
    fs.rmSync(home, { recursive: true, force: true });
    if (serverLog.length) console.error(`  (server log: ${serverLog.join('; ')})`);
  }
  return s;
}

const rps = (v: number) => (Number.isFinite(v) ? `${Math.round(v)}/s` : '—');

export const scenario6: Scenario = {
  id: 6,
  run: apiLoad,
  cols: [
    { key: 'getReqPerSec', label: 'get req/s', fmt: rps },
    { key: 'getP50', label: 'get p50', fmt: ms },
    { key: 'getP99', label: 'get p99', fmt: ms },
    { key: 'getLoopDelayP99', label: 'loop delay p99/max', fmt: ms },
    { key: 'getLoopDelayMax', label: '', fmt: ms },
    { key: 'getGcMs', label: 'GC total/longest', fmt: ms },
    { key: 'getGcMaxMs', label: '', fmt: ms },
    { key: 'get10ReqPerSec', label: 'get req/s @10', fmt: rps },
    { key: 'get10P99', label: 'get p99 @10', fmt: ms },
    { key: 'listReqPerSec', label: 'list req/s', fmt: rps },
    { key: 'listP50', label: 'list p50', fmt: ms },
    { key: 'listP99', label: 'list p99', fmt: ms },
    { key: 'failed', label: 'non-2xx+errors', fmt: int },
  ],
  ratioKey: 'getReqPerSec',
};
