/**
 * Issue 7's benchmark harness (measurement only): cejobs (library API, fresh state home per
 * run) against xargs, GNU parallel, pm2, a file redirect, a bare node:http server and a
 * `podman run` loop.
 *
 *     npm run bench                     # every scenario, 3 runs each, medians
 *     npm run bench -- --runs 5
 *     npm run bench -- --quick          # 1 small round, to check the harness works
 *     npm run bench -- --only 1,3       # some scenarios only
 *     npm run bench -- --only 1 --chart # scenario 1 plus instances/s at N = 1,2,4,8,16,32
 *     npm run bench -- --home-dir /dev/shm   # state homes on another file system
 *                                       # (--concurrency 1,4,16 for other points) → docs/benchmarks-fanout.svg
 *
 * Scenario 7 needs Podman and root; it takes /tmp/cejobs-container-tests.lock (flock) itself
 * while its private Podman runs, like the container tests.
 *
 * Prints one table of medians per scenario and writes everything (every run's numbers) to
 * bench/results/<ISO date>.json. Nothing here is part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { homeBase, medians, only, quick, resultsDir, runs, size, table, which, type Scenario, type ScenarioResult } from './lib.js';
import { scenario1 } from './scenarios/fanout.js';
import { scenario2 } from './scenarios/submit.js';
import { scenario3, scenario4 } from './scenarios/daemons.js';
import { scenario5 } from './scenarios/logs.js';
import { scenario6 } from './scenarios/api.js';
import { scenario7 } from './scenarios/containers.js';

const scenarios: Scenario[] = [scenario1, scenario2, scenario3, scenario4, scenario5, scenario6, scenario7];

async function main(): Promise<void> {
  const machine = {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    memoryBytes: os.totalmem(),
    cpuModel: os.cpus()[0]?.model,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    parallel: which('parallel') ? spawnSync('parallel', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] : undefined,
    podman: which('podman') ? spawnSync('podman', ['--version'], { encoding: 'utf8' }).stdout.trim() : undefined,
    homeDir: homeBase,
    homeFs: spawnSync('stat', ['-f', '-c', '%T', homeBase], { encoding: 'utf8' }).stdout.trim(),
  };
  console.log(
    `cejobs bench — ${machine.date}, ${machine.nproc} CPUs (${machine.cpuModel}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}, runs=${runs}${quick ? ' (quick)' : ''}, state homes in ${machine.homeDir} (${machine.homeFs})\n`,
  );
  const results: { scenario: ScenarioResult; table: string }[] = [];
  for (const sc of scenarios) {
    if (only && !only.includes(sc.id)) continue;
    const scenario = await sc.run();
    const t = table(scenario, sc.cols, sc.ratioKey);
    console.log(t + '\n');
    results.push({ scenario, table: t });
  }
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${machine.date.replace(/:/g, '-')}.json`);
  const out = {
    machine,
    argv: process.argv.slice(2),
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
