/**
 * Soak (`npm run soak`; not part of `npm test`): a real background server (`ce server start`,
 * process driver) gets 50 runs of 100 indices submitted concurrently while 20 API clients poll
 * runs, instances, events and lists and follow logs. Checks: every run completes, no request
 * fails (no 5xx, no error other than an expected 404 of a deleted run), no process of the runs
 * is left, and the server's file descriptors and RSS are sampled before, at the peak and
 * after. Prints a summary and writes it to docs/soak.md.
 *
 *     npm run soak                 # defaults: SOAK_RUNS=50 SOAK_INDICES=100 SOAK_CLIENTS=20
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { apiOf, ce, processesWithEnv, readRecord, sleep } from '../fault/helpers.js';

const RUNS = Number(process.env.SOAK_RUNS ?? 50);
const INDICES = Number(process.env.SOAK_INDICES ?? 100);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 20);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-soak-'));
const api = apiOf(home);

interface Sample {
  fds: number;
  /** fds that are not sockets (the soak's own keep-alive connections are sockets). */
  files: number;
  rssMiB: number;
}
function sample(pid: number): Sample {
  const names = fs.readdirSync(`/proc/${pid}/fd`);
  const fds = names.length;
  let files = 0;
  for (const n of names) {
    try {
      if (!fs.readlinkSync(`/proc/${pid}/fd/${n}`).startsWith('socket:')) files++;
    } catch {
      // closed meanwhile
    }
  }
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { fds, files, rssMiB: Math.round(Number(rss) / 102.4) / 10 };
}

const errors: string[] = [];
const counts = { requests: 0, follows: 0, followLines: 0, notFound: 0 };

async function call(method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  counts.requests++;
  try {
    const r = await api(method, p, body);
    if (r.status === 404) counts.notFound++;
    else if (r.status >= 400) errors.push(`${method} ${p}: ${r.status} ${r.text.slice(0, 200)}`);
    return r;
  } catch (e) {
    errors.push(`${method} ${p}: ${(e as Error).message}`);
    return { status: 0, json: undefined };
  }
}

async function follow(run: string): Promise<void> {
  counts.follows++;
  const { url } = readRecord(home);
  const token = fs.readFileSync(path.join(home, 'token'), 'utf8').trim();
  try {
    const res = await fetch(`${url}/v2/projects/default/job_runs/${run}/logs?follow=true&tail=5`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(120_000),
    });
    if (res.status !== 200) {
      if (res.status !== 429) errors.push(`follow ${run}: ${res.status}`);
      await res.body?.cancel();
      return;
    }
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) {
        JSON.parse(l);
        counts.followLines++;
      }
    }
  } catch (e) {
    errors.push(`follow ${run}: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const started = await ce(home, ['server', 'start']);
  if (started.code !== 0) throw new Error(`ce server start failed: ${started.stdout}${started.stderr}`);
  const pid = readRecord(home).pid;
  const projectId = (await call('GET', '')).json.id as string;
  await sleep(500);
  const before = sample(pid);
  console.log(`soak: server pid ${pid}, ${RUNS} runs × ${INDICES} indices, ${CLIENTS} clients; before: ${JSON.stringify(before)}`);

  const names = Array.from({ length: RUNS }, (_, i) => `soak-${i}`);
  let done = false;
  let peak: Sample = before;
  const sampler = (async () => {
    while (!done) {
      const s = sample(pid);
      if (s.rssMiB > peak.rssMiB) peak = { ...s };
      if (s.fds > peak.fds) peak = { ...peak, fds: s.fds };
      if (s.files > peak.files) peak = { ...peak, files: s.files };
      await sleep(250);
    }
  })();
  const submitStart = Date.now();
  await Promise.all(
    names.map((name) =>
      call('POST', '/job_runs', {
        name,
        run_commands: ['/bin/sh', '-c', 'echo "hello $JOB_INDEX of $JOB_ARRAY_SIZE"; echo "err $JOB_INDEX" >&2'],
        scale_array_spec: `0-${INDICES - 1}`,
        scale_cpu_limit: '0.125',
        scale_memory_limit: '0.25G',
      }),
    ),
  );
  const submitted = Date.now() - submitStart;

  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    let i = 0;
    while (!done) {
      const run = names[(c * 7 + i) % names.length]!;
      switch (i % 6) {
        case 0:
          await call('GET', `/job_runs/${run}`);
          break;
        case 1:
          await call('GET', `/job_runs/${run}/instances`);
          break;
        case 2:
          await call('GET', `/job_runs/${run}/events`);
          break;
        case 3:
          await call('GET', `/job_runs?limit=${1 + (i % 100)}`);
          break;
        case 4:
          if (c % 4 === 0) await follow(run);
          else await call('GET', `/job_runs/${run}/logs?tail=3`);
          break;
        default:
          await call('GET', '/jobs');
      }
      i++;
      await sleep(20);
    }
  });

  const statuses = new Map<string, string>();
  while (statuses.size < RUNS || [...statuses.values()].some((s) => s !== 'completed' && s !== 'failed')) {
    await sleep(1000);
    for (const n of names) {
      const r = await call('GET', `/job_runs/${n}`);
      if (r.json?.status) statuses.set(n, r.json.status);
    }
    if (Date.now() - t0 > 20 * 60_000) throw new Error('soak: runs did not finish within 20 minutes');
  }
  const ranFor = Date.now() - submitStart;
  done = true;
  await Promise.all(clients);
  await sampler;
  const atEnd = sample(pid);

  let succeeded = 0;
  for (const n of names) succeeded += (await call('GET', `/job_runs/${n}`)).json.status_details.succeeded as number;
  const failedRuns = [...statuses.values()].filter((s) => s !== 'completed').length;
  const leftover = processesWithEnv({ CE_PROJECT_ID: projectId }).length;

  const deleteStart = Date.now();
  await Promise.all(names.map((n) => call('DELETE', `/job_runs/${n}`)));
  // a deleted run leaves the lists at once; it is purged (logs, work dirs) once nothing of it lives
  const logsDir = path.join(home, 'logs');
  const remaining = (): number => (fs.existsSync(logsDir) ? fs.readdirSync(logsDir).length : 0);
  while (remaining() > 0 && Date.now() - deleteStart < 120_000) await sleep(200);
  const purgedIn = Date.now() - deleteStart;
  await sleep(2000);
  const after = sample(pid);
  const logDirs = fs.existsSync(path.join(home, 'logs')) ? fs.readdirSync(path.join(home, 'logs')).length : 0;
  if (logDirs > 0 || after.files > before.files + 5) {
    const dirs = fs.readdirSync(path.join(home, 'logs')).slice(0, 3);
    for (const d of dirs) console.log(`left: logs/${d}: ${fs.readdirSync(path.join(home, 'logs', d)).slice(0, 5).join(', ')}`);
    const work = fs.existsSync(path.join(home, 'work')) ? fs.readdirSync(path.join(home, 'work')).length : 0;
    console.log(`left: ${work} work dirs; fds: ${fs.readdirSync(`/proc/${pid}/fd`).map((f) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${f}`); } catch { return '?'; } }).filter((l) => !l.startsWith('/dev/')).join(' ').slice(0, 2000)}`);
    const runs = (await call('GET', '/job_runs?limit=100')).json;
    console.log(`left: runs listed: ${runs?.job_runs?.length}`);
  }

  await ce(home, ['server', 'stop']);
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  fs.rmSync(home, { recursive: true, force: true });

  const ok =
    errors.length === 0 && failedRuns === 0 && succeeded === RUNS * INDICES && leftover === 0 && logDirs === 0 && after.files <= before.files + 5;
  const summary = [
    '# Soak',
    '',
    'What `npm run soak` (test/soak/soak.ts) measured on the machine below, with the process driver:',
    `${RUNS} runs of ${INDICES} indices (\`/bin/sh -c 'echo …; echo … >&2'\`, cpu 0.125, memory 0.25G) submitted`,
    `concurrently to a real background server (\`ce server start\`) while ${CLIENTS} API clients polled runs, instances,`,
    'events and lists and followed logs (every fourth client follows NDJSON logs to the end).',
    '',
    '| figure | value |',
    '|---|---|',
    `| machine | ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()} |`,
    `| instances | ${RUNS * INDICES} (${succeeded} succeeded) |`,
    `| runs completed | ${RUNS - failedRuns} of ${RUNS} |`,
    `| submit of all runs | ${submitted} ms |`,
    `| submit to last run finished | ${(ranFor / 1000).toFixed(1)} s (${Math.round((RUNS * INDICES) / (ranFor / 1000))} instances/s) |`,
    `| API requests | ${counts.requests} (404 of deleted runs: ${counts.notFound}) |`,
    `| log follows | ${counts.follows} (${counts.followLines} NDJSON lines) |`,
    `| errors | ${errors.length}${errors.length ? `: ${errors.slice(0, 5).join('; ')}` : ''} |`,
    `| processes of the runs left after they finished | ${leftover} |`,
    `| deletes of all runs until every log directory was purged | ${(purgedIn / 1000).toFixed(1)} s; ${logDirs} left |`,
    `| server fds before / peak / at end / after deletes | ${before.fds} / ${peak.fds} / ${atEnd.fds} / ${after.fds} (sockets included: the clients' keep-alive connections) |`,
    `| server fds that are not sockets, before / peak / after | ${before.files} / ${peak.files} / ${after.files} |`,
    `| server RSS MiB before / peak / at end / after deletes | ${before.rssMiB} / ${peak.rssMiB} / ${atEnd.rssMiB} / ${after.rssMiB} |`,
    `| verdict | ${ok ? 'pass' : 'FAIL'} |`,
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}. RSS after the deletes stays above the start because V8 keeps the heap it grew`,
    'into (it is not a leak unless it grows from one soak to the next); the fds that are not sockets return to where they started.',
    '',
  ].join('\n');
  console.log(summary);
  if (!process.env.SOAK_NO_WRITE) fs.writeFileSync(path.join(REPO, 'docs', 'soak.md'), summary);
  process.exitCode = ok ? 0 : 1;
}

main().catch(async (e) => {
  console.error(e);
  await ce(home, ['server', 'stop']).catch(() => {});
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  process.exitCode = 1;
});
