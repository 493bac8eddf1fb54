import { afterEach, describe, expect, it } from 'vitest';
import { makeApi, BASE, SMALL, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

const runs = '/v2/projects/default/job_runs';

describe('job runs', () => {
  it('submits from a job (202) and standalone, with status and status_details', async () => {
    h = await makeApi({ driver: { script: () => ({ runForMs: 100, exitCode: 0 }) } });
    await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'j', image_reference: 'icr.io/x/y', scale_array_spec: '0-2', ...SMALL } });
    const r = await h.req({ method: 'POST', url: runs, json: { job_name: 'j', scale_array_spec: '0-1' } });
    expect(r.statusCode).toBe(202);
    const run = r.json();
    expect(run).toMatchObject({
      job_name: 'j',
      resource_type: 'job_run_v2',
      status: 'pending',
      scale_array_spec: '0-1',
      image_reference: 'icr.io/x/y',
      href: `${BASE}/v2/projects/${run.project_id}/job_runs/${run.name}`,
    });
    expect(run.status_details).toMatchObject({ requested: 2, running: 0, succeeded: 0, failed: 0 });
    const s = await h.req({ method: 'POST', url: runs, json: { name: 'solo', run_commands: ['x'], ...SMALL } });
    expect(s.statusCode).toBe(202);
    expect(s.json().job_name).toBeUndefined();
    await h.tick();
    await h.tick(100);
    const done = (await h.req({ method: 'GET', url: `${runs}/${run.name}` })).json();
    expect(done.status).toBe('completed');
    expect(done.status_details).toMatchObject({ succeeded: 2, succeeded_indices: '0-1' });
    expect(done.status_details.indices_details['0'].status).toBe('succeeded');
  });

  it('refuses overriding the job image (400), an unknown job (404 naming job_name), a taken name (409)', async () => {
    h = await makeApi();
    await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'j', image_reference: 'icr.io/x/y' } });
    const img = await h.req({ method: 'POST', url: runs, json: { job_name: 'j', image_reference: 'icr.io/other' } });
    expect(img.statusCode).toBe(400);
    expect(img.json().errors[0]).toMatchObject({ code: 'image_override_not_allowed', target: { name: 'image_reference' } });
    const nf = await h.req({ method: 'POST', url: runs, json: { job_name: 'nope' } });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().errors[0]).toMatchObject({ code: 'not_found', target: { name: 'job_name' } });
    await h.req({ method: 'POST', url: runs, json: { job_name: 'j', name: 'dup' } });
    expect((await h.req({ method: 'POST', url: runs, json: { job_name: 'j', name: 'dup' } })).statusCode).toBe(409);
    const standalone = await h.req({ method: 'POST', url: runs, json: {} });
    expect(standalone.statusCode).toBe(400);
    expect(standalone.json().errors[0].code).toBe('missing_field');
  });

  it('lists with the job_name filter and pagination; deletes (202 → 404)', async () => {
    h = await makeApi({ driver: { script: () => ({}) } });
    await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'j', ...SMALL } });
    await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'k', ...SMALL } });
    for (const n of ['r1', 'r2', 'r3']) await h.req({ method: 'POST', url: runs, json: { job_name: 'j', name: n } });
    await h.req({ method: 'POST', url: runs, json: { job_name: 'k', name: 'r0' } });
    const p1 = (await h.req({ method: 'GET', url: `${runs}?job_name=j&limit=2` })).json();
    expect(p1.job_runs.map((r: { name: string }) => r.name)).toEqual(['r1', 'r2']);
    expect(p1.first.href).toBe(`${BASE}/v2/projects/default/job_runs?job_name=j&limit=2`);
    const p2 = (await h.req({ method: 'GET', url: p1.next.href.slice(BASE.length) })).json();
    expect(p2.job_runs.map((r: { name: string }) => r.name)).toEqual(['r3']);
    expect(p2.next).toBeUndefined();
    expect((await h.req({ method: 'GET', url: runs })).json().job_runs).toHaveLength(4);
    expect((await h.req({ method: 'GET', url: `${runs}?job_name=Bad_Name` })).json().errors[0].target.name).toBe('job_name');
    await h.tick();
    expect(h.runtime.running()).toHaveLength(4);
    const d = await h.req({ method: 'DELETE', url: `${runs}/r1` });
    expect(d.statusCode).toBe(202);
    expect(d.body).toBe('');
    expect((await h.req({ method: 'GET', url: `${runs}/r1` })).statusCode).toBe(404);
    await h.tick();
    expect(h.runtime.running()).toHaveLength(3);
    expect((await h.req({ method: 'DELETE', url: `${runs}/r1` })).statusCode).toBe(404);
    expect((await h.req({ method: 'GET', url: `${runs}/${'a'.repeat(54)}` })).json().errors[0].target.name).toBe('job_run_name');
  });
});
