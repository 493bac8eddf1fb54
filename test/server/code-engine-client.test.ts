/**
 * A client written against IBM Code Engine's v2 API, the way its SDKs call it (every request
 * with `?version=`, JSON bodies, `If-Match` + merge-patch on PATCH, pagination by following
 * `next.start`), works unchanged against a cejobs server given its URL and bearer token.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/serve.js';

const VERSION = '2025-01-15';
let server: RunningServer;
let home: string;

/** A minimal Code Engine v2 client, as the SDKs build requests. */
class CodeEngineV2 {
  constructor(
    private readonly serviceUrl: string,
    private readonly bearer: string,
  ) {}

  async request(method: string, p: string, options: { query?: Record<string, string | number>; body?: unknown; headers?: Record<string, string> } = {}) {
    const url = new URL(`${this.serviceUrl}${p}`);
    url.searchParams.set('version', VERSION);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${this.bearer}`, ...options.headers };
    if (options.body !== undefined) headers['Content-Type'] ??= 'application/json';
    const res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, result: text ? JSON.parse(text) : undefined };
  }

  listProjects = (limit?: number, start?: string) =>
    this.request('GET', '/projects', { query: { ...(limit ? { limit } : {}), ...(start ? { start } : {}) } });
  createProject = (name: string) => this.request('POST', '/projects', { body: { name, resource_group_id: 'b91e849cedb04e7e92bd68c040c672dc' } });
  getProject = (id: string) => this.request('GET', `/projects/${id}`);
  deleteProject = (id: string) => this.request('DELETE', `/projects/${id}`);
  listJobs = (pid: string, limit?: number, start?: string) =>
    this.request('GET', `/projects/${pid}/jobs`, { query: { ...(limit ? { limit } : {}), ...(start ? { start } : {}) } });
  createJob = (pid: string, body: unknown) => this.request('POST', `/projects/${pid}/jobs`, { body });
  getJob = (pid: string, name: string) => this.request('GET', `/projects/${pid}/jobs/${name}`);
  updateJob = (pid: string, name: string, ifMatch: string, patch: unknown) =>
    this.request('PATCH', `/projects/${pid}/jobs/${name}`, {
      body: patch,
      headers: { 'If-Match': ifMatch, 'Content-Type': 'application/merge-patch+json' },
    });
  deleteJob = (pid: string, name: string) => this.request('DELETE', `/projects/${pid}/jobs/${name}`);
  listJobRuns = (pid: string, jobName?: string) => this.request('GET', `/projects/${pid}/job_runs`, { query: jobName ? { job_name: jobName } : {} });
  createJobRun = (pid: string, body: unknown) => this.request('POST', `/projects/${pid}/job_runs`, { body });
  getJobRun = (pid: string, name: string) => this.request('GET', `/projects/${pid}/job_runs/${name}`);
  deleteJobRun = (pid: string, name: string) => this.request('DELETE', `/projects/${pid}/job_runs/${name}`);
}

let ce: CodeEngineV2;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-ce-client-'));
  server = await startServer({ home, driver: 'fake', log: () => {} });
  ce = new CodeEngineV2(`${server.url}/v2`, server.token);
});

afterAll(async () => {
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('a Code Engine v2 API client against cejobs', () => {
  it('manages projects', async () => {
    const created = await ce.createProject('my-project');
    expect(created.status).toBe(202);
    expect(created.result).toMatchObject({ name: 'my-project', resource_type: 'project_v2', status: 'active' });
    expect(created.result.id).toMatch(/^[0-9a-f-]{36}$/);
    const got = await ce.getProject(created.result.id);
    expect(got.status).toBe(200);
    expect(got.result.href).toBe(`${server.url}/v2/projects/${created.result.id}`);
    const list = await ce.listProjects();
    expect(list.result.projects.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['default', 'my-project']));
    expect(list.result.first.href).toContain('/v2/projects');
    expect((await ce.deleteProject(created.result.id)).status).toBe(202);
  });

  it('creates, reads, pages through, updates with If-Match and deletes jobs', async () => {
    const pid = (await ce.listProjects()).result.projects.find((p: { name: string }) => p.name === 'default').id;
    for (const name of ['job-a', 'job-b', 'job-c']) {
      const r = await ce.createJob(pid, { image_reference: 'icr.io/codeengine/helloworld', name, run_commands: ['/bin/true'] });
      expect(r.status).toBe(201);
      expect(r.result).toMatchObject({
        name,
        resource_type: 'job_v2',
        run_mode: 'task',
        scale_array_spec: '0',
        scale_cpu_limit: '1',
        scale_memory_limit: '4G',
        scale_ephemeral_storage_limit: '400M',
        scale_max_execution_time: 7200,
        scale_retry_limit: 3,
      });
    }
    // pagination: follow next.start until there is no next
    const names: string[] = [];
    let start: string | undefined;
    do {
      const page = await ce.listJobs(pid, 2, start);
      expect(page.status).toBe(200);
      expect(page.result.limit).toBe(2);
      names.push(...page.result.jobs.map((j: { name: string }) => j.name));
      start = page.result.next?.start;
    } while (start);
    expect(names).toEqual(['job-a', 'job-b', 'job-c']);

    const job = await ce.getJob(pid, 'job-b');
    const etag = job.result.entity_tag as string;
    expect(job.headers.get('etag')).toContain(etag);
    const updated = await ce.updateJob(pid, 'job-b', etag, { scale_array_spec: '0-4', scale_cpu_limit: '0.5', scale_memory_limit: '2G' });
    expect(updated.status).toBe(200);
    expect(updated.result).toMatchObject({ scale_array_spec: '0-4', scale_cpu_limit: '0.5', scale_memory_limit: '2G' });
    const stale = await ce.updateJob(pid, 'job-b', etag, { scale_retry_limit: 1 });
    expect(stale.status).toBe(412);
    expect(stale.result.errors[0].code).toBe('precondition_failed');
    expect(stale.result.status_code).toBe(412);

    const bad = await ce.createJob(pid, { image_reference: 'icr.io/codeengine/helloworld', name: 'Bad_Name' });
    expect(bad.status).toBe(400);
    expect(bad.result.errors[0].message).toContain('Bad_Name');

    for (const name of ['job-a', 'job-c']) expect((await ce.deleteJob(pid, name)).status).toBe(202);
    expect((await ce.getJob(pid, 'job-a')).status).toBe(404);
  });

  it('submits job runs from a job, lists them by job and reads their status', async () => {
    const pid = 'default';
    const run = await ce.createJobRun(pid, { job_name: 'job-b', name: 'job-b-run-1' });
    expect(run.status).toBe(202);
    expect(run.result).toMatchObject({ name: 'job-b-run-1', job_name: 'job-b', resource_type: 'job_run_v2', scale_array_spec: '0-4' });
    let status = '';
    for (let i = 0; i < 200 && status !== 'completed'; i++) {
      status = (await ce.getJobRun(pid, 'job-b-run-1')).result.status;
      if (status !== 'completed') await new Promise((r) => setTimeout(r, 25));
    }
    const done = (await ce.getJobRun(pid, 'job-b-run-1')).result;
    expect(done.status).toBe('completed');
    expect(done.status_details).toMatchObject({ succeeded: 5, failed: 0, succeeded_indices: '0-4' });
    const byJob = await ce.listJobRuns(pid, 'job-b');
    expect(byJob.result.job_runs.map((r: { name: string }) => r.name)).toEqual(['job-b-run-1']);
    const image = await ce.createJobRun(pid, { job_name: 'job-b', image_reference: 'docker.io/library/busybox' });
    expect(image.status).toBe(400);
    expect((await ce.deleteJobRun(pid, 'job-b-run-1')).status).toBe(202);
    expect((await ce.deleteJob(pid, 'job-b')).status).toBe(202);
  });
});
