import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { FakeApi } from './fake-api.js';
import type { ApiJobRun } from '../../src/client/types.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.close();
});

describe('delete commands', () => {
  beforeEach(() => {
    h.api.addJob({ name: 'hello', image_reference: 'x' });
    h.api.addRun({ name: 'r1', job_name: 'hello' });
    h.api.addRun({ name: 'r2', job_name: 'hello' });
  });

  it('refuse without a terminal and without --force (exit 2, hint)', async () => {
    const r = await h.run(['job', 'delete', '--name', 'hello']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('use --force (-f)');
    expect(r.stderr).toContain("Run 'ce job delete --help' for usage.");
    expect(h.api.jobs.size).toBe(1);
  });

  it('prompt on a terminal and delete on y', async () => {
    const no = await h.run(['job', 'delete', '-n', 'hello'], { isTTY: true, stdinText: 'n\n', env: { NO_COLOR: '1' } });
    expect(no.stdout).toBe('Are you sure you want to delete job hello? [y/N]> Not deleted.\n');
    expect(h.api.jobs.size).toBe(1);
    const yes = await h.run(['job', 'delete', '-n', 'hello'], { isTTY: true, stdinText: 'y\n', env: { NO_COLOR: '1' } });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toBe("Are you sure you want to delete job hello? [y/N]> Deleting job 'hello'...\nOK\n");
    expect(h.api.jobs.size).toBe(0);
  });

  it('-f deletes; --orphan-job-runs is passed', async () => {
    const r = await h.run(['job', 'delete', '-n', 'hello', '-f', '--orphan-job-runs']);
    expect(r.stdout).toBe("Deleting job 'hello'...\nOK\n");
    expect(h.api.requests.at(-1)!.query.get('orphan_job_runs')).toBe('true');
  });

  it('a missing resource fails unless --ignore-not-found/--inf', async () => {
    const r = await h.run(['jobrun', 'delete', '-n', 'ghost', '-f']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("FAILED\nJob run 'ghost' was not found.\n");
    const ok = await h.run(['jobrun', 'delete', '-n', 'ghost', '-f', '--inf']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("Job run 'ghost' was not found.\nOK\n");
    expect((await h.run(['job', 'delete', '-n', 'ghost', '--force', '--ignore-not-found'])).code).toBe(0);
  });

  it('jobrun delete --job deletes every run of the job', async () => {
    const r = await h.run(['jobrun', 'delete', '--job', 'hello', '-f']);
    expect(r.stdout).toBe("Deleting job run 'r1'...\nDeleting job run 'r2'...\nOK\n");
    expect(h.api.runs.size).toBe(0);
  });

  it('jobrun delete matches the walkthrough output', async () => {
    const r = await h.run(['jobrun', 'delete', '--name', 'r1', '-f']);
    expect(r.stdout).toBe("Deleting job run 'r1'...\nOK\n");
  });
});

describe('projects', () => {
  it('create selects the project; job commands then use it', async () => {
    const r = await h.run(['project', 'create', '--name', 'batch']);
    expect(r.stdout).toBe("Creating project 'batch'...\nNow selecting project 'batch'.\nOK\n");
    expect(JSON.parse(fs.readFileSync(path.join(h.home, 'cli.json'), 'utf8'))).toMatchObject({ project: 'batch' });
    await h.run(['job', 'create', '-n', 'j']);
    expect(h.api.requests.at(-1)!.path).toBe('/v2/projects/batch/jobs');
    const cur = await h.run(['project', 'current']);
    expect(cur.stdout).toContain('Name:       batch\nID:         batch-id-0000\nSubdomain:  batch-sub\nRegion:     local\n');
  });

  it('--no-select keeps the selection; select by name or id; unknown project fails', async () => {
    await h.run(['project', 'create', '-n', 'other', '--no-select']);
    expect(fs.existsSync(path.join(h.home, 'cli.json'))).toBe(false);
    expect((await h.run(['project', 'select', '--id', 'other-id-0000'])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(h.home, 'cli.json'), 'utf8')).project).toBe('other');
    const bad = await h.run(['project', 'select', '-n', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Project 'nope' was not found.");
    const list = await h.run(['project', 'list', '-q']);
    expect(list.stdout).toMatch(/default\s+default-id-0000\s+active\s+false/);
    expect(list.stdout).toMatch(/other\s+other-id-0000\s+active\s+true/);
  });

  it('deleting the selected project selects default', async () => {
    await h.run(['project', 'create', '-n', 'tmp']);
    const r = await h.run(['project', 'delete', '-n', 'tmp', '-f']);
    expect(r.stdout).toBe("Deleting project 'tmp'...\nProject 'default' is selected now.\nOK\n");
    expect(JSON.parse(fs.readFileSync(path.join(h.home, 'cli.json'), 'utf8')).project).toBe('default');
  });
});

describe('jobrun submit --wait', () => {
  beforeEach(() => {
    h.api.addJob({ name: 'j', image_reference: 'x', scale_array_spec: '0-3' });
  });

  const progress = (name: string, status: 'running' | 'completed' | 'failed', succeeded: number, failed: number): Partial<ApiJobRun> => ({
    status,
    status_details: {
      requested: 0, pending: 0, running: 4 - succeeded - failed, succeeded, failed, unknown: 0,
      ...(failed ? { failed_indices: '3' } : {}),
      indices_details: failed ? { '3': { status: 'failed', retries: 3, last_failure_reason: 'ContainerExitedCode1' } } : {},
    },
    name,
  });

  it('follows the change stream to completion (exit 0)', async () => {
    const drive = (async () => {
      while (!h.api.runs.has('default-id-0000/w1')) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      h.api.updateRun('w1', progress('w1', 'running', 2, 0));
      await new Promise((r) => setTimeout(r, 100));
      h.api.updateRun('w1', progress('w1', 'completed', 4, 0));
    })();
    const started = Date.now();
    const r = await h.run(['jobrun', 'submit', '-n', 'w1', '-j', 'j', '--wait']);
    await drive;
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(4000); // woken by the stream, not the 5 s safety poll
    expect(r.stdout).toContain("Submitting job run 'w1'...\nWaiting for job run 'w1' to complete... 0/4 done\n");
    expect(r.stdout).toContain("Waiting for job run 'w1' to complete... 2/4 done\n");
    expect(r.stdout).toContain("Waiting for job run 'w1' to complete... 4/4 done\nJob run 'w1' completed: 4/4 indices succeeded.\nOK\n");
    expect(h.api.requests.some((x) => x.path.endsWith('/changes') && x.query.get('job_run') === 'w1')).toBe(true);
  });

  it('exits 1 when the run fails, naming the failed indices', async () => {
    const drive = (async () => {
      while (!h.api.runs.has('default-id-0000/w2')) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      h.api.updateRun('w2', progress('w2', 'failed', 3, 1));
    })();
    const r = await h.run(['jobrun', 'submit', '-n', 'w2', '-j', 'j', '-w']);
    await drive;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('4/4 done, 1 failed\n');
    expect(r.stderr).toContain("FAILED\nJob run 'w2' failed: 1 of 4 indices failed.\n");
    expect(r.stderr).toContain('ContainerExitedCode1');
  });

  it('polls when the change stream is unavailable', async () => {
    h.api.changesStatus = 500;
    const drive = (async () => {
      while (!h.api.runs.has('default-id-0000/w3')) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 150));
      h.api.updateRun('w3', progress('w3', 'completed', 4, 0));
    })();
    const r = await h.run(['jobrun', 'submit', '-n', 'w3', '-j', 'j', '--wait', '-q']);
    await drive;
    expect(r.code).toBe(0);
    expect(h.api.requests.filter((x) => x.method === 'GET' && x.path.endsWith('/job_runs/w3')).length).toBeGreaterThan(1);
  });

  it('gives up after --wait-timeout (exit 1)', async () => {
    const r = await h.run(['jobrun', 'submit', '-n', 'w4', '-j', 'j', '--wait', '--wto', '1', '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Timed out after 1 seconds waiting for job run 'w4' to complete (--wait-timeout); it is still pending.");
  });

  it('draws one updating line on a terminal', async () => {
    const drive = (async () => {
      while (!h.api.runs.has('default-id-0000/w5')) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      h.api.updateRun('w5', progress('w5', 'completed', 4, 0));
    })();
    const r = await h.run(['jobrun', 'submit', '-n', 'w5', '-j', 'j', '--wait'], { isTTY: true, env: { NO_COLOR: '1' } });
    await drive;
    expect(r.stdout).toContain("\r\x1b[KWaiting for job run 'w5' to complete... 0/4 done\r\x1b[KWaiting for job run 'w5' to complete... 4/4 done\n");
  });

  it('--no-wait/--nw wins when given after --wait', async () => {
    const r = await h.run(['jobrun', 'submit', '-n', 'w6', '-j', 'j', '--wait', '--nw']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('Waiting');
  });
});

describe('connection', () => {
  it('starts a server when none answers, then connects', async () => {
    const other = await new FakeApi().start();
    let started = 0;
    try {
      const r = await h.run(['job', 'list', '-q'], {
        env: { CEJOBS_API: undefined, CEJOBS_TOKEN: undefined },
        options: {
          startServer: async (home) => {
            started++;
            fs.writeFileSync(path.join(home, 'server.json'), JSON.stringify({ url: other.url, pid: 1 }));
            fs.writeFileSync(path.join(home, 'token'), other.token);
          },
        },
      });
      expect(started).toBe(1);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('starting a local one in the background');
      expect(r.stdout).toBe('No jobs were found.\n');
    } finally {
      await other.close();
    }
  });

  it('does not auto-start with CEJOBS_NO_AUTOSTART, or when CEJOBS_API does not answer', async () => {
    const no = await h.run(['job', 'list'], { env: { CEJOBS_API: undefined, CEJOBS_TOKEN: undefined, CEJOBS_NO_AUTOSTART: '1' } });
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/FAILED\nno cejobs server to connect to: missing .*server\.json/);
    const dead = await h.run(['job', 'list'], { env: { CEJOBS_API: 'http://127.0.0.1:1' } });
    expect(dead.code).toBe(1);
    expect(dead.stderr).toContain('(CEJOBS_API) does not answer');
  });

  it('explains a rejected token', async () => {
    const r = await h.run(['job', 'list'], { env: { CEJOBS_TOKEN: 'wrong' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused the token');
  });
});
