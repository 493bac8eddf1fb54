import { afterEach, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../src/api/app.js';
import { SCHEMAS } from '../../src/api/schemas.js';
import { makeApi, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

describe('server info and OpenAPI', () => {
  it('GET /v2/server returns the server info', async () => {
    h = await makeApi();
    const r = await h.req({ method: 'GET', url: '/v2/server' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ version: '0.1.0', driver: 'fake', pid: process.pid, state_home: '/tmp/x', url: 'http://127.0.0.1:4000' });
    expect(r.json().capabilities.limits.cpu).toEqual({ enforced: true, how: 'fake' });
  });

  it('serves an OpenAPI 3.1 document whose paths are exactly the registered routes', async () => {
    h = await makeApi();
    const r = await h.req({ method: 'GET', url: '/v2/openapi.json?version=2024-05-13' });
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([a-z_]+)\}/g, ':$1')}`))
      .sort();
    const registered = registeredRoutes(h.app)
      .map((x) => `${x.method} ${x.url}`)
      .sort();
    expect(registered.length).toBeGreaterThanOrEqual(20);
    expect(documented).toEqual(registered);
    // every route the contract lists is there
    for (const route of [
      'GET /v2/projects', 'POST /v2/projects', 'GET /v2/projects/:project_id', 'DELETE /v2/projects/:project_id',
      'GET /v2/projects/:project_id/jobs', 'POST /v2/projects/:project_id/jobs', 'GET /v2/projects/:project_id/jobs/:job_name',
      'PATCH /v2/projects/:project_id/jobs/:job_name', 'DELETE /v2/projects/:project_id/jobs/:job_name',
      'GET /v2/projects/:project_id/job_runs', 'POST /v2/projects/:project_id/job_runs',
      'GET /v2/projects/:project_id/job_runs/:job_run_name', 'DELETE /v2/projects/:project_id/job_runs/:job_run_name',
      'GET /v2/projects/:project_id/job_runs/:job_run_name/instances', 'GET /v2/projects/:project_id/job_runs/:job_run_name/events',
      'GET /v2/projects/:project_id/job_runs/:job_run_name/logs', 'POST /v2/projects/:project_id/job_runs/:job_run_name/restart',
      'GET /v2/projects/:project_id/changes', 'GET /v2/server', 'GET /v2/openapi.json',
    ]) expect(documented).toContain(route);
  });

  it('describes parameters, bodies, responses and every referenced schema', async () => {
    h = await makeApi();
    const doc = (await h.req({ method: 'GET', url: '/v2/openapi.json' })).json();
    const patch = doc.paths['/v2/projects/{project_id}/jobs/{job_name}'].patch;
    expect(Object.keys(patch.requestBody.content)).toEqual(['application/merge-patch+json', 'application/json']);
    expect(patch.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/JobPatch' });
    expect(patch.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      'path:project_id', 'path:job_name', 'query:version', 'header:If-Match',
    ]);
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404', '412', '415', '428', '500']));
    const create = doc.paths['/v2/projects/{project_id}/jobs'].post;
    expect(create.responses['201'].headers).toHaveProperty('ETag');
    const list = doc.paths['/v2/projects/{project_id}/job_runs'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['project_id', 'version', 'job_name', 'limit', 'start']);
    for (const name of ['Project', 'Job', 'JobPrototype', 'JobPatch', 'JobRun', 'JobRunPrototype', 'Instance', 'Event', 'Error']) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
    expect(Object.keys(doc.components.schemas.Job.properties)).toEqual(
      expect.arrayContaining(['entity_tag', 'href', 'image_reference', 'scale_retry_limit', 'run_env_variables', 'last_job_run']),
    );
    expect(Object.keys(doc.components.schemas.JobRun.properties)).toEqual(expect.arrayContaining(['status', 'status_details', 'job_name']));
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) expect(Object.keys(SCHEMAS), ref).toContain(ref);
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
