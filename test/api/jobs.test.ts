import { afterEach, describe, expect, it } from 'vitest';
import { makeApi, BASE, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

const jobs = '/v2/projects/default/jobs';

describe('jobs', () => {
  it('creates a job: 201, ETag, defaults filled in, href', async () => {
    h = await makeApi();
    const r = await h.req({ method: 'POST', url: jobs, json: { name: 'hello', run_commands: ['echo'] } });
    expect(r.statusCode).toBe(201);
    const job = r.json();
    expect(r.headers.etag).toBe(job.entity_tag);
    expect(job).toMatchObject({
      name: 'hello',
      resource_type: 'job_v2',
      run_mode: 'task',
      run_commands: ['echo'],
      run_arguments: [],
      run_as_user: 0,
      run_service_account: 'default',
      scale_array_spec: '0',
      scale_cpu_limit: '1',
      scale_memory_limit: '4G',
      scale_ephemeral_storage_limit: '400M',
      scale_max_execution_time: 7200,
      scale_retry_limit: 3,
      href: `${BASE}/v2/projects/${job.project_id}/jobs/hello`,
    });
    expect(job.last_job_run).toBeUndefined();
    const dup = await h.req({ method: 'POST', url: jobs, json: { name: 'hello' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].code).toBe('already_exists');
  });

  it.each([
    ['cpu/memory pair', { scale_cpu_limit: '1', scale_memory_limit: '3G' }, 'invalid_resources', 'scale_memory_limit'],
    ['daemon + retry limit', { run_mode: 'daemon', scale_retry_limit: 2 }, 'not_allowed_in_daemon_mode', 'scale_retry_limit'],
    ['bad array spec', { scale_array_spec: '5-2' }, 'invalid_array_spec', 'scale_array_spec'],
    ['unknown field', { scale_cpu: '1' }, 'unknown_field', 'scale_cpu'],
    ['wrong type', { run_commands: 'echo' }, 'invalid_field', 'run_commands'],
    ['wrong type (number for string)', { image_reference: 42 }, 'invalid_field', 'image_reference'],
    ['max execution time out of range', { scale_max_execution_time: 0 }, 'invalid_field', 'scale_max_execution_time'],
    ['over 10 KiB', { run_arguments: Array.from({ length: 50 }, () => 'x'.repeat(250)) }, 'object_too_large', undefined],
    ['bad name', { name: 'Bad_Name' }, 'invalid_name', 'name'],
    ['read-only field', { id: 'x' }, 'unknown_field', 'id'],
  ])('refuses %s with 400 naming the field', async (_what, fields, code, field) => {
    h = await makeApi();
    const r = await h.req({ method: 'POST', url: jobs, json: { name: 'j', ...fields } });
    expect(r.statusCode).toBe(400);
    const entry = r.json().errors.find((e: { code: string }) => e.code === code);
    expect(entry, JSON.stringify(r.json())).toBeDefined();
    if (field) expect(entry.target).toEqual({ type: 'field', name: field });
  });

  it('refuses a job without a name', async () => {
    h = await makeApi();
    const r = await h.req({ method: 'POST', url: jobs, json: { run_commands: ['x'] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0]).toMatchObject({ code: 'missing_field', target: { name: 'name' } });
  });

  it('gets a job with its ETag and last_job_run; 404 for an unknown one; 400 for a bad name', async () => {
    h = await makeApi();
    await h.req({ method: 'POST', url: jobs, json: { name: 'j' } });
    const g = await h.req({ method: 'GET', url: `${jobs}/j` });
    expect(g.statusCode).toBe(200);
    expect(g.headers.etag).toBe(g.json().entity_tag);
    expect(g.json().last_job_run).toBeUndefined();
    const run = (await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { job_name: 'j' } })).json();
    const g2 = (await h.req({ method: 'GET', url: `${jobs}/j` })).json();
    expect(g2.last_job_run).toEqual({ name: run.name, created_at: run.created_at });
    const nf = await h.req({ method: 'GET', url: `${jobs}/nope` });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().errors[0].message).toContain('nope');
    const bad = await h.req({ method: 'GET', url: `${jobs}/Bad_Name` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].target.name).toBe('job_name');
  });

  it('lists jobs across 3 pages with absolute hrefs', async () => {
    h = await makeApi();
    for (const n of ['a', 'b', 'c', 'd', 'e']) await h.req({ method: 'POST', url: jobs, json: { name: n } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { job_name: 'c', name: 'c-run' } });
    const p1 = (await h.req({ method: 'GET', url: `${jobs}?limit=2` })).json();
    expect(p1.jobs.map((j: { name: string }) => j.name)).toEqual(['a', 'b']);
    expect(p1.limit).toBe(2);
    expect(p1.first.href).toBe(`${BASE}/v2/projects/default/jobs?limit=2`);
    expect(p1.next.href).toBe(`${BASE}/v2/projects/default/jobs?limit=2&start=${p1.next.start}`);
    expect(p1.jobs[0].href).toMatch(new RegExp(`^${BASE}/v2/projects/[0-9a-f-]+/jobs/a$`));
    const p2 = (await h.req({ method: 'GET', url: `${jobs}?limit=2&start=${p1.next.start}` })).json();
    expect(p2.jobs.map((j: { name: string }) => j.name)).toEqual(['c', 'd']);
    expect(p2.jobs[0].last_job_run.name).toBe('c-run');
    const p3 = (await h.req({ method: 'GET', url: p2.next.href.slice(BASE.length) })).json();
    expect(p3.jobs.map((j: { name: string }) => j.name)).toEqual(['e']);
    expect(p3.next).toBeUndefined();
    expect((await h.req({ method: 'GET', url: jobs })).json().limit).toBe(50);
    for (const q of ['limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'limit=1.5', 'start=%2F%2F', 'limit=']) {
      const r = await h.req({ method: 'GET', url: `${jobs}?${q}` });
      expect(r.statusCode, q).toBe(400);
      expect(['limit', 'start']).toContain(r.json().errors[0].target.name);
    }
  });

  it('patches with If-Match: 200 with a new ETag, 412 when stale, 428 when missing, * always', async () => {
    h = await makeApi();
    const created = await h.req({ method: 'POST', url: jobs, json: { name: 'j', scale_array_spec: '0-3', run_commands: ['a'] } });
    const tag = created.headers.etag as string;
    const patch = (ifMatch: string | undefined, body: unknown, type = 'application/merge-patch+json') =>
      h.req({
        method: 'PATCH',
        url: `${jobs}/j`,
        payload: JSON.stringify(body),
        headers: { 'content-type': type, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) },
      });
    const missing = await patch(undefined, { scale_array_spec: '0-1' });
    expect(missing.statusCode).toBe(428);
    expect(missing.json().errors[0]).toMatchObject({ code: 'precondition_required', target: { name: 'If-Match' } });
    const ok = await patch(tag, { scale_array_spec: '0-1' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().scale_array_spec).toBe('0-1');
    expect(ok.headers.etag).toBe(ok.json().entity_tag);
    expect(ok.headers.etag).not.toBe(tag);
    const stale = await patch(tag, { scale_array_spec: '0-2' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().errors[0].code).toBe('precondition_failed');
    const quoted = await patch(`"${ok.headers.etag as string}"`, { run_arguments: ['x'] }, 'application/json');
    expect(quoted.statusCode).toBe(200);
    const star = await patch('*', { scale_array_spec: null, run_commands: null, run_mode: 'daemon' });
    expect(star.statusCode).toBe(200);
    // merge-patch: null resets to the default; switching to daemon drops task-only fields
    expect(star.json()).toMatchObject({ scale_array_spec: '0', run_commands: [], run_arguments: ['x'], run_mode: 'daemon' });
    expect(star.json().scale_retry_limit).toBeUndefined();
    const invalid = await patch('*', { scale_retry_limit: 2 });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().errors[0].code).toBe('not_allowed_in_daemon_mode');
    const named = await patch('*', { name: 'other' });
    expect(named.statusCode).toBe(400);
    expect(named.json().errors[0].target.name).toBe('name');
    expect((await patch('*', { run_mode: 'task' }, 'text/plain')).statusCode).toBe(415);
    const nf = await h.req({ method: 'PATCH', url: `${jobs}/nope`, json: {}, headers: { 'if-match': '*' } });
    expect(nf.statusCode).toBe(404);
  });

  it('deletes a job (202, empty) and then 404; orphan_job_runs keeps its runs', async () => {
    h = await makeApi();
    await h.req({ method: 'POST', url: jobs, json: { name: 'j' } });
    await h.req({ method: 'POST', url: jobs, json: { name: 'k' } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { job_name: 'j', name: 'jr' } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { job_name: 'k', name: 'kr' } });
    await h.tick();
    const d = await h.req({ method: 'DELETE', url: `${jobs}/j` });
    expect(d.statusCode).toBe(202);
    expect(d.body).toBe('');
    expect((await h.req({ method: 'GET', url: `${jobs}/j` })).statusCode).toBe(404);
    expect((await h.req({ method: 'DELETE', url: `${jobs}/j` })).statusCode).toBe(404);
    await h.tick();
    expect((await h.req({ method: 'GET', url: '/v2/projects/default/job_runs/jr' })).statusCode).toBe(404);
    expect((await h.req({ method: 'DELETE', url: `${jobs}/k?orphan_job_runs=true` })).statusCode).toBe(202);
    await h.tick();
    expect((await h.req({ method: 'GET', url: '/v2/projects/default/job_runs/kr' })).statusCode).toBe(200);
    expect((await h.req({ method: 'DELETE', url: `${jobs}/k?orphan_job_runs=yes` })).json().errors[0].target.name).toBe('orphan_job_runs');
  });
});
