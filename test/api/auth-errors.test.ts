import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerToken, tokenMatches, UNAUTHORIZED_BODY } from '../../src/api/auth.js';
import { makeApi, HOST, TOKEN, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

const digest = (s: string) => crypto.createHash('sha256').update(s).digest();

describe('authentication', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['a token one character short', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['a longer token with the right prefix', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('answers 401 with the fixed body for %s', async (_what, headers) => {
    h = await makeApi();
    for (const url of ['/v2/projects', '/v2/openapi.json', '/v2/server', '/v2/projects/default/changes', '/v2/no-such-route']) {
      const r = await h.app.inject({ method: 'GET', url, headers: { host: HOST, ...headers } });
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual(UNAUTHORIZED_BODY);
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    const post = await h.app.inject({ method: 'POST', url: '/v2/projects', headers: { host: HOST, ...headers }, payload: { name: 'x' } });
    expect(post.statusCode).toBe(401);
    expect(h.engine.listProjects().map((p) => p.name)).toEqual(['default']);
  });

  it('accepts the token (scheme case-insensitive)', async () => {
    h = await makeApi();
    const r = await h.app.inject({ method: 'GET', url: '/v2/projects', headers: { host: HOST, authorization: `bearer ${TOKEN}` } });
    expect(r.statusCode).toBe(200);
  });

  it('compares digests of equal length whatever the input (constant-time path)', () => {
    const expected = digest(TOKEN);
    expect(tokenMatches(TOKEN, expected)).toBe(true);
    for (const given of [undefined, '', 'x', TOKEN.slice(0, -1), `${TOKEN}x`, 'é'.repeat(10_000)]) {
      expect(tokenMatches(given, expected)).toBe(false);
    }
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(['Bearer abc'])).toBeUndefined();
  });
});

describe('HTTP-level errors', () => {
  it('accepts ?version=YYYY-MM-DD on every route and refuses a malformed one naming version', async () => {
    h = await makeApi();
    expect((await h.req({ method: 'GET', url: '/v2/projects?version=2024-05-13' })).statusCode).toBe(200);
    expect((await h.req({ method: 'GET', url: '/v2/server?version=2026-05-14' })).statusCode).toBe(200);
    for (const bad of ['bogus', '2024-13-01', '2024-02-30', '2024-5-1', '']) {
      const r = await h.req({ method: 'GET', url: `/v2/projects?version=${bad}` });
      expect(r.statusCode).toBe(400);
      expect(r.json().errors[0]).toMatchObject({ code: 'invalid_field', target: { type: 'field', name: 'version' } });
      expect(r.json().trace).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers 404 route_not_found for unknown routes and 405 with Allow for a wrong method', async () => {
    h = await makeApi();
    const nf = await h.req({ method: 'GET', url: '/v2/nope' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toMatchObject({ errors: [{ code: 'route_not_found' }], status_code: 404 });
    const na = await h.req({ method: 'PUT', url: '/v2/projects/default/jobs/x' });
    expect(na.statusCode).toBe(405);
    expect(na.json().errors[0].code).toBe('method_not_allowed');
    expect(na.headers.allow).toBe('GET, PATCH, DELETE');
    const head = await h.req({ method: 'HEAD', url: '/v2/projects' });
    expect(head.statusCode).toBe(405);
  });

  it('refuses bodies that are not JSON (400 invalid_json), other media types (415) and big bodies (413)', async () => {
    h = await makeApi();
    const bad = await h.req({ method: 'POST', url: '/v2/projects/default/jobs', payload: '{"name": ', headers: { 'content-type': 'application/json' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0]).toMatchObject({ code: 'invalid_json', target: { name: 'body' } });
    const proto = await h.req({ method: 'POST', url: '/v2/projects/default/jobs', payload: '{"__proto__": {"x": 1}, "name": "a"}', headers: { 'content-type': 'application/json' } });
    expect(proto.statusCode).toBe(400);
    expect(proto.json().errors[0].code).toBe('invalid_json');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await h.req({ method: 'POST', url: '/v2/projects/default/jobs', payload: 'name=a', headers: { 'content-type': type } });
      expect(r.statusCode).toBe(415);
      expect(r.json().errors[0].code).toBe('unsupported_media_type');
    }
    // merge-patch is for PATCH only
    const mp = await h.req({ method: 'POST', url: '/v2/projects/default/jobs', payload: '{"name":"a"}', headers: { 'content-type': 'application/merge-patch+json' } });
    expect(mp.statusCode).toBe(415);
    const big = await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'a', run_arguments: ['x'.repeat(1_100_000)] } });
    expect(big.statusCode).toBe(413);
    expect(big.json().errors[0].code).toBe('payload_too_large');
  });

  it('refuses a missing or non-object body naming body', async () => {
    h = await makeApi();
    for (const payload of ['[]', '"job"', 'null', '42', 'true']) {
      const r = await h.req({ method: 'POST', url: '/v2/projects/default/jobs', payload, headers: { 'content-type': 'application/json' } });
      expect(r.statusCode).toBe(400);
      expect(r.json().errors[0].target).toEqual({ type: 'field', name: 'body' });
    }
    const none = await h.req({ method: 'POST', url: '/v2/projects/default/jobs' });
    expect(none.statusCode).toBe(400);
    expect(none.json().errors[0]).toMatchObject({ code: 'missing_field', target: { name: 'body' } });
  });

  it('answers a bad percent-encoding with 400', async () => {
    h = await makeApi();
    const r = await h.req({ method: 'GET', url: '/v2/projects/%zz' });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0].code).toBe('invalid_request');
  });

  it('turns an internal failure into a bare 500 with a trace id and reports the real error', async () => {
    h = await makeApi({
      engine: (e) =>
        new Proxy(e, {
          get(target, prop, receiver) {
            if (prop === 'listProjects') return () => { throw new Error('database is on fire at /secret/path'); };
            return Reflect.get(target, prop, receiver) as unknown;
          },
        }),
    });
    const r = await h.req({ method: 'GET', url: '/v2/projects' });
    expect(r.statusCode).toBe(500);
    const body = r.json();
    expect(body.errors).toEqual([{ code: 'internal_error', message: expect.not.stringContaining('fire') }]);
    expect(r.body).not.toContain('secret');
    expect(h.internalErrors).toHaveLength(1);
    expect(h.internalErrors[0]!.trace).toBe(body.trace);
    expect(String(h.internalErrors[0]!.error)).toContain('fire');
  });
});
