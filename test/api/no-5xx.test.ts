/**
 * A table-driven sweep of malformed input over every POST/PATCH route and over path and query
 * parameters: every answer must be a 4xx with the error body (a 5xx is a bug).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApi, SMALL, type ApiHarness } from './harness.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await makeApi({ driver: { script: () => ({}) } });
  await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'j', ...SMALL } });
  await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { job_name: 'j', name: 'r' } });
  await h.tick();
});
afterAll(async () => h?.close());

const garbage: [string, unknown][] = [
  ['numbers for strings', { name: 1, job_name: 2, image_reference: 3, scale_cpu_limit: 1, scale_array_spec: 7, instance: 9 }],
  ['strings for numbers', { name: 'x1', scale_max_execution_time: '10', scale_retry_limit: 'three', run_as_user: '0' }],
  ['nested garbage', { name: { a: [1, { b: null }] }, run_env_variables: [{ type: { x: 1 } }, 5, null, 'x'], run_volume_mounts: [[[]]] }],
  ['nulls everywhere', { name: null, job_name: null, run_commands: [null], run_env_variables: null, instance: null }],
  ['huge strings', { name: 'a'.repeat(100_000), run_commands: ['b'.repeat(200_000)], job_name: 'c'.repeat(70_000) }],
  ['unicode', { name: 'jöb-😀', run_commands: ['\u0000\uFFFF\uD800'], run_env_variables: [{ name: 'ÄÖ', value: '\u202E' }], instance: 'ü' }],
  ['path traversal names', { name: '../x', job_name: '../../etc/passwd', instance: '../r-0-0', image_reference: '/../..' }],
  ['huge numbers', { name: 'n', scale_max_execution_time: 1e308, scale_retry_limit: -1e308, scale_array_size_variable_override: 2 ** 64 }],
  ['bad array specs', { name: 'n', scale_array_spec: '0-99999999999999999999' }],
  ['prototype-ish keys', { name: 'n', constructor: { prototype: { x: 1 } }, toString: 'x', hasOwnProperty: 1 }],
  ['deep nesting', { name: 'n', run_env_variables: [JSON.parse('['.repeat(500) + ']'.repeat(500))] }],
  ['many keys', Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))],
  ['an array', [1, 2, 3]],
  ['a string', 'hello'],
  ['null', null],
  ['a number', 12],
];

const bodyRoutes: { method: 'POST' | 'PATCH'; url: string; headers?: Record<string, string> }[] = [
  { method: 'POST', url: '/v2/projects' },
  { method: 'POST', url: '/v2/projects/default/jobs' },
  { method: 'PATCH', url: '/v2/projects/default/jobs/j', headers: { 'if-match': '*' } },
  { method: 'POST', url: '/v2/projects/default/job_runs' },
  { method: 'POST', url: '/v2/projects/default/job_runs/r/restart' },
];

describe('no 5xx for bad input', () => {
  for (const route of bodyRoutes) {
    it(`${route.method} ${route.url}`, async () => {
      for (const [what, body] of garbage) {
        const r = await h.req({ method: route.method, url: route.url, json: body, headers: route.headers });
        expect(r.statusCode, `${what}: ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(r.statusCode, what).toBeLessThan(500);
        expect(r.json().errors.length, what).toBeGreaterThan(0);
      }
      for (const raw of ['{', '{"a":}', '\u0000', '[1,', '{"name": "x"}garbage', '']) {
        const r = await h.req({ method: route.method, url: route.url, payload: raw, headers: { 'content-type': 'application/json', ...route.headers } });
        expect(r.statusCode).toBeLessThan(500);
        // an empty body is "no body": an error except where the body is optional (restart)
        if (raw !== '' || !route.url.endsWith('/restart')) expect(r.statusCode, JSON.stringify(raw)).toBeGreaterThanOrEqual(400);
      }
    });
  }

  it('path and query parameters', async () => {
    const segments = ['..', '..%2F..%2Fetc', '%2e%2e', 'a'.repeat(2000), '%00', '%F0%9F%98%80', 'UPPER', '-x-', '%20', 'x%2Fy', "'%3B--"];
    const urls: string[] = [];
    for (const s of segments) {
      urls.push(
        `/v2/projects/${s}`,
        `/v2/projects/${s}/jobs`,
        `/v2/projects/default/jobs/${s}`,
        `/v2/projects/default/job_runs/${s}`,
        `/v2/projects/default/job_runs/${s}/logs`,
        `/v2/projects/default/job_runs/r/logs?instance=${s}`,
        `/v2/projects/default/job_runs/r/events?instance=${s}`,
        `/v2/projects/default/jobs?start=${s}`,
        `/v2/projects/default/job_runs?job_name=${s}`,
        `/v2/projects/default/changes?job_run=${s}`,
        `/v2/projects?limit=${s}`,
        `/v2/server?version=${s}`,
      );
    }
    urls.push('/v2/projects/default/job_runs/r/logs?tail=99999999999999999999', '/v2/projects?limit[]=1', '/v2/projects?limit=1&limit=2');
    for (const url of urls) {
      const r = await h.req({ method: 'GET', url });
      expect(r.statusCode, url).toBeLessThan(500);
      if (r.statusCode >= 400) expect(r.json().errors.length, url).toBeGreaterThan(0);
      else expect(url).not.toContain('changes'); // nothing here should open a stream
    }
    for (const url of urls.filter((u) => !u.includes('?')).slice(0, 40)) {
      for (const method of ['DELETE', 'PATCH', 'POST', 'PUT'] as const) {
        const r = await h.req({ method, url, json: {}, headers: { 'if-match': '*' } });
        expect(r.statusCode, `${method} ${url}`).toBeLessThan(500);
      }
    }
    expect(h.internalErrors).toEqual([]);
  });

  it('wrong headers', async () => {
    for (const ifMatch of ['', ' ', ',', '"', 'W/', '"a", "b"', 'x'.repeat(5000)]) {
      const r = await h.req({ method: 'PATCH', url: '/v2/projects/default/jobs/j', json: {}, headers: { 'if-match': ifMatch } });
      expect(r.statusCode, JSON.stringify(ifMatch)).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
    }
    for (const type of ['application/json; charset=latin1', 'APPLICATION/JSON', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      const r = await h.req({ method: 'POST', url: '/v2/projects/default/jobs', payload: '{"name":"ct"}', headers: { 'content-type': type } });
      expect(r.statusCode, type).toBeLessThan(500);
    }
    expect(h.internalErrors).toEqual([]);
  });
});
