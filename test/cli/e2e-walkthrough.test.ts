/**
 * End to end: `ce` (in-process) against a real server (src/server/serve.ts, process driver)
 * found through the state home's server.json, following the daemon walkthrough of the seed
 * page with `ce` for `ibmcloud ce` (and a command, since the process driver pulls no image),
 * then an array task run with --wait, a failing index and `resubmit --failed`. (`SLEEP=1`: the
 * helloworld sample otherwise sleeps 60 s before its first greeting in daemon mode.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startServer } from '../../src/server/serve.js';

const sample = fileURLToPath(new URL('../../samples/helloworld/helloworld.mjs', import.meta.url));
let home: string;
let server: Awaited<ReturnType<typeof startServer>>;

async function ce(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CEJOBS_HOME: home, CEJOBS_NO_AUTOSTART: '1', PATH: process.env.PATH },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-e2e-cli-'));
  server = await startServer({ home, driver: 'process', log: () => undefined });
});

afterAll(async () => {
  await ce('jobrun', 'delete', '--name', 'myjobrun-daemon', '-f', '--inf');
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('daemon walkthrough (seed 001)', () => {
  it('ce job create --name myjob-daemon ... --mode daemon', async () => {
    const r = await ce('job', 'create', '--name', 'myjob-daemon', '--image', 'icr.io/codeengine/helloworld', '--mode', 'daemon', '--cmd', process.execPath, '--arg', sample, '--env', 'SLEEP=1');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("Creating job 'myjob-daemon'...\nOK\n");
  });

  it('ce job get --name myjob-daemon', async () => {
    const r = await ce('job', 'get', '--name', 'myjob-daemon');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Name: {10}myjob-daemon/);
    expect(r.stdout).toMatch(/Project Name: {2}default/);
    expect(r.stdout).toMatch(/Image: +icr\.io\/codeengine\/helloworld/);
    expect(r.stdout).toMatch(/Mode: +daemon/);
    expect(r.stdout).toMatch(/Array Indices: +0\n/);
  });

  it('ce jobrun submit --name myjobrun-daemon --job myjob-daemon', async () => {
    const r = await ce('jobrun', 'submit', '--name', 'myjobrun-daemon', '--job', 'myjob-daemon');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("Submitting job run 'myjobrun-daemon'...\nRun 'ce jobrun get -n myjobrun-daemon' to check the job run status.\nOK\n");
  });

  it('ce jobrun get --name myjobrun-daemon shows a running instance', async () => {
    const out = await until('a running instance', async () => {
      const r = await ce('jobrun', 'get', '--name', 'myjobrun-daemon');
      return /myjobrun-daemon-0-0\s+1\/1\s+Running/.test(r.stdout) ? r.stdout : undefined;
    });
    expect(out).toMatch(/Job Ref: +myjob-daemon/);
    expect(out).toMatch(/JOB_ARRAY_SIZE Value: +1/);
  });

  it('ce jobrun logs --name myjobrun-daemon', async () => {
    const out = await until('the greeting', async () => {
      const r = await ce('jobrun', 'logs', '--name', 'myjobrun-daemon');
      return r.stdout.includes("I'm a daemon job! Index: 0") ? r.stdout : undefined;
    });
    expect(out).toContain('myjobrun-daemon-0-0/myjob-daemon:\n');
    expect(out).toContain('JOB_MODE=daemon');
    expect(out).toContain('CE_JOBRUN=myjobrun-daemon');
  });

  it('ce jobrun delete --name myjobrun-daemon -f, then ce job delete --name myjob-daemon -f', async () => {
    const r = await ce('jobrun', 'delete', '--name', 'myjobrun-daemon', '-f');
    expect(r.stdout).toBe("Deleting job run 'myjobrun-daemon'...\nOK\n");
    const j = await ce('job', 'delete', '--name', 'myjob-daemon', '-f');
    expect(j.stdout).toBe("Deleting job 'myjob-daemon'...\nOK\n");
    expect((await ce('job', 'list', '-q')).stdout).toBe('No jobs were found.\n');
  });
});

describe('array task runs', () => {
  it('submit --wait succeeds (exit 0) and lists the run', async () => {
    await ce('job', 'create', '-n', 'arr', '--cmd', process.execPath, '--arg', sample, '--array-size', '3', '--cpu', '0.125', '-m', '0.25G');
    const r = await ce('jobrun', 'submit', '--job', 'arr', '--name', 'arr-1', '--wait', '--wto', '60');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Job run 'arr-1' completed: 3/3 indices succeeded.\nOK\n");
    const list = await ce('jobrun', 'list', '-q');
    expect(list.stdout).toMatch(/arr-1\s+0\s+0\s+0\s+0\s+3\s+0\s+\S+/);
    const logs = await ce('jobrun', 'logs', '-n', 'arr-1', '--raw', '-q');
    expect(logs.stdout).toContain("I'm a task job! Index: 2 of 3");
    const follow = await ce('jobrun', 'logs', '-f', '-n', 'arr-1', '-q');
    expect(follow.code).toBe(0);
    for (const i of [0, 1, 2]) expect(follow.stdout).toContain(`arr-1-${i}-0/arr:\n`);
    const jobs = await ce('job', 'list', '-q');
    expect(jobs.stdout).toMatch(/arr\s+\S+\s+arr-1\s+\S+/);
  });

  it('a failing index fails --wait (exit 1); resubmit --failed reruns only it', async () => {
    await ce('job', 'create', '-n', 'flaky', '--cmd', '/bin/sh', '--arg', '-c', '--arg', 'test "$JOB_INDEX" != 1 || exit 3; echo "ok $JOB_INDEX of $JOB_ARRAY_SIZE"', '--array-size', '3', '-r', '0', '--cpu', '0.125', '-m', '0.25G');
    const r = await ce('jobrun', 'submit', '-j', 'flaky', '-n', 'flaky-1', '-w', '--wto', '60');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Job run 'flaky-1' failed: 1 of 3 indices failed.");
    expect(r.stderr).toContain('ContainerExitedCode3');
    const again = await ce('jobrun', 'resubmit', '--jobrun', 'flaky-1', '--failed', '--name', 'flaky-2', '-o', 'json');
    expect(again.code).toBe(0);
    const run = JSON.parse(again.stdout);
    expect(run).toMatchObject({ name: 'flaky-2', job_name: 'flaky', scale_array_spec: '1', scale_array_size_variable_override: 3 });
    const get = await ce('jobrun', 'get', '-n', 'flaky-2', '-o', 'jsonpath={.scale_array_spec} {.scale_array_size_variable_override}');
    expect(get.stdout).toBe('1 3\n');
  });
});
