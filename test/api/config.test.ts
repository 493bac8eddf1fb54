/**
 * Config maps and secrets over HTTP (docs/api.md "Config maps and secrets"): every route and
 * error, pagination, reveal vs REDACTED, the format filter, and a redaction sweep over every
 * route's responses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BASE, makeApi, SMALL, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

const P = '/v2/projects/default';
const SECRET_VALUE = 's3cr3t-VALUE-1234';
const CMD = { run_commands: ['/bin/true'] };

describe('config maps', () => {
  it('create 201 + ETag, get + ETag, replace with If-Match, delete 202', async () => {
    h = await makeApi();
    const created = await h.req({ method: 'POST', url: `${P}/config_maps`, json: { name: 'app', data: { A: '1', 'b.c': 'two' } } });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({
      name: 'app',
      project_id: h.engine.getProject('default').id,
      region: 'local',
      resource_type: 'config_map_v2',
      data: { A: '1', 'b.c': 'two' },
      href: `${BASE}/v2/projects/${h.engine.getProject('default').id}/config_maps/app`,
    });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.created_at).toMatch(/Z$/);
    expect(created.headers.etag).toBe(c.entity_tag);

    const got = await h.req({ method: 'GET', url: `${P}/config_maps/app` });
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe(c.entity_tag);
    expect(got.json()).toEqual(c);

    const noTag = await h.req({ method: 'PUT', url: `${P}/config_maps/app`, json: { data: {} } });
    expect(noTag.statusCode).toBe(428);
    expect(noTag.json().errors[0]).toMatchObject({ code: 'precondition_required', target: { name: 'If-Match' } });
    expect(noTag.json().errors[0].message).toContain('entity_tag of the config map');
    const stale = await h.req({ method: 'PUT', url: `${P}/config_maps/app`, json: { data: {} }, headers: { 'if-match': '"1"' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().errors[0].code).toBe('precondition_failed');
    const put = await h.req({ method: 'PUT', url: `${P}/config_maps/app`, json: { data: { B: '2' } }, headers: { 'if-match': `"${c.entity_tag}"` } });
    expect(put.statusCode).toBe(200);
    expect(put.json().data).toEqual({ B: '2' });
    expect(put.headers.etag).toBe(put.json().entity_tag);
    expect(put.json().entity_tag).not.toBe(c.entity_tag);
    const star = await h.req({ method: 'PUT', url: `${P}/config_maps/app`, json: { data: { C: '3' } }, headers: { 'if-match': '*' } });
    expect(star.json().data).toEqual({ C: '3' });
    const listTag = await h.req({ method: 'PUT', url: `${P}/config_maps/app`, json: { data: {} }, headers: { 'if-match': `"9", "${star.json().entity_tag}"` } });
    expect(listTag.statusCode).toBe(200);

    const del = await h.req({ method: 'DELETE', url: `${P}/config_maps/app` });
    expect(del.statusCode).toBe(202);
    expect(del.body).toBe('');
    expect((await h.req({ method: 'GET', url: `${P}/config_maps/app` })).statusCode).toBe(404);
    expect((await h.req({ method: 'DELETE', url: `${P}/config_maps/app` })).statusCode).toBe(404);
    expect((await h.req({ method: 'PUT', url: `${P}/config_maps/app`, json: { data: {} }, headers: { 'if-match': '*' } })).statusCode).toBe(404);
  });

  it('errors: 409, 400 naming the field, 400 for a bad name in the path before the lookup, 404 project, 415', async () => {
    h = await makeApi();
    await h.req({ method: 'POST', url: `${P}/config_maps`, json: { name: 'app' } });
    const dup = await h.req({ method: 'POST', url: `${P}/config_maps`, json: { name: 'app' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].code).toBe('already_exists');

    const cases: [unknown, string, string][] = [
      [{ data: {} }, 'missing_field', 'name'],
      [{ name: 'Bad_Name' }, 'invalid_name', 'name'],
      [{ name: 'c', data: { 'bad key': 'x' } }, 'invalid_field', 'data.bad key'],
      [{ name: 'c', data: { k: 5 } }, 'invalid_field', 'data.k'],
      [{ name: 'c', data: 'x' }, 'invalid_field', 'data'],
      [{ name: 'c', extra: true }, 'unknown_field', 'extra'],
    ];
    for (const [body, code, field] of cases) {
      const r = await h.req({ method: 'POST', url: `${P}/config_maps`, json: body });
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().errors[0], JSON.stringify(body)).toMatchObject({ code, target: { type: 'field', name: field } });
    }
    const badName = await h.req({ method: 'GET', url: `${P}/config_maps/Bad_Name` });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().errors[0]).toMatchObject({ code: 'invalid_field', target: { name: 'config_map_name' } });
    expect((await h.req({ method: 'DELETE', url: `${P}/config_maps/-x` })).json().errors[0].target.name).toBe('config_map_name');
    expect((await h.req({ method: 'GET', url: '/v2/projects/nope/config_maps' })).statusCode).toBe(404);
    const media = await h.req({ method: 'POST', url: `${P}/config_maps`, payload: '{"name":"x"}', headers: { 'content-type': 'text/plain' } });
    expect(media.statusCode).toBe(415);
    const putMissing = await h.req({ method: 'PUT', url: `${P}/config_maps/app`, json: {}, headers: { 'if-match': '*' } });
    expect(putMissing.json().errors[0]).toMatchObject({ code: 'missing_field', target: { name: 'data' } });
    const patch = await h.req({ method: 'PATCH', url: `${P}/config_maps/app`, json: {} });
    expect(patch.statusCode).toBe(405);
    expect(patch.headers.allow).toBe('GET, PUT, DELETE');
  });

  it('lists with pagination', async () => {
    h = await makeApi();
    for (const n of ['c', 'a', 'b']) await h.req({ method: 'POST', url: `${P}/config_maps`, json: { name: n, data: { n } } });
    const first = (await h.req({ method: 'GET', url: `${P}/config_maps?limit=2` })).json();
    expect(first.config_maps.map((c: { name: string }) => c.name)).toEqual(['a', 'b']);
    expect(first.limit).toBe(2);
    expect(first.first.href).toBe(`${BASE}${P}/config_maps?limit=2`);
    expect(first.next.href).toBe(`${BASE}${P}/config_maps?limit=2&start=${first.next.start}`);
    const second = (await h.req({ method: 'GET', url: `${P}/config_maps?limit=2&start=${first.next.start}` })).json();
    expect(second.config_maps.map((c: { name: string }) => c.name)).toEqual(['c']);
    expect(second.next).toBeUndefined();
    expect((await h.req({ method: 'GET', url: `${P}/config_maps` })).json().limit).toBe(50);
    expect((await h.req({ method: 'GET', url: `${P}/config_maps?limit=0` })).json().errors[0].target.name).toBe('limit');
  });
});

describe('secrets', () => {
  it('create 201 redacted + ETag, get redacted unless reveal=true, replace, delete', async () => {
    h = await makeApi();
    const created = await h.req({ method: 'POST', url: `${P}/secrets`, json: { name: 'login', format: 'basic_auth', data: { username: 'u', password: SECRET_VALUE } } });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(SECRET_VALUE);
    const s = created.json();
    expect(s).toMatchObject({ name: 'login', format: 'basic_auth', resource_type: 'secret_v2', data: { username: 'REDACTED', password: 'REDACTED' } });
    expect(s.href).toMatch(/\/secrets\/login$/);
    expect(created.headers.etag).toBe(s.entity_tag);

    const got = await h.req({ method: 'GET', url: `${P}/secrets/login` });
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe(s.entity_tag);
    expect(got.json().data).toEqual({ username: 'REDACTED', password: 'REDACTED' });
    expect((await h.req({ method: 'GET', url: `${P}/secrets/login?reveal=false` })).json().data.password).toBe('REDACTED');
    const revealed = await h.req({ method: 'GET', url: `${P}/secrets/login?reveal=true` });
    expect(revealed.json().data).toEqual({ username: 'u', password: SECRET_VALUE });
    expect((await h.req({ method: 'GET', url: `${P}/secrets/login?reveal=yes` })).json().errors[0].target.name).toBe('reveal');

    expect((await h.req({ method: 'PUT', url: `${P}/secrets/login`, json: { data: {} } })).statusCode).toBe(428);
    expect((await h.req({ method: 'PUT', url: `${P}/secrets/login`, json: { data: {} }, headers: { 'if-match': '1' } })).statusCode).toBe(412);
    const wrongFormat = await h.req({ method: 'PUT', url: `${P}/secrets/login`, json: { format: 'generic', data: {} }, headers: { 'if-match': '*' } });
    expect(wrongFormat.statusCode).toBe(400);
    expect(wrongFormat.json().errors[0]).toMatchObject({ code: 'invalid_field', target: { name: 'format' } });
    const missingKey = await h.req({ method: 'PUT', url: `${P}/secrets/login`, json: { data: { username: 'x' } }, headers: { 'if-match': '*' } });
    expect(missingKey.json().errors[0]).toMatchObject({ code: 'missing_field', target: { name: 'data.password' } });
    const put = await h.req({ method: 'PUT', url: `${P}/secrets/login`, json: { data: { username: 'v', password: 'new-PASS-0000' } }, headers: { 'if-match': s.entity_tag } });
    expect(put.statusCode).toBe(200);
    expect(put.body).not.toContain('new-PASS-0000');
    expect(put.headers.etag).toBe(put.json().entity_tag);
    expect((await h.req({ method: 'GET', url: `${P}/secrets/login?reveal=true` })).json().data.password).toBe('new-PASS-0000');

    expect((await h.req({ method: 'DELETE', url: `${P}/secrets/login` })).statusCode).toBe(202);
    expect((await h.req({ method: 'GET', url: `${P}/secrets/login` })).statusCode).toBe(404);
    expect((await h.req({ method: 'GET', url: `${P}/secrets/UPPER` })).json().errors[0].target.name).toBe('secret_name');
  });

  it('errors of a secret body name the field and never echo a value', async () => {
    h = await makeApi();
    const cases: [unknown, number, string, string][] = [
      [{ name: 's', format: 'nope', data: {} }, 400, 'invalid_field', 'format'],
      [{ name: 's', format: 'registry', data: { username: 'u', password: SECRET_VALUE } }, 400, 'missing_field', 'data.server'],
      [{ name: 's', format: 'basic_auth', data: { username: 'u', password: 'p', pin: SECRET_VALUE } }, 400, 'unknown_field', 'data.pin'],
      [{ name: 's', password: SECRET_VALUE }, 400, 'unknown_field', 'password'],
      [{ name: 's', data: { 'bad key': SECRET_VALUE } }, 400, 'invalid_field', 'data.bad key'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await h.req({ method: 'POST', url: `${P}/secrets`, json: body });
      expect(r.statusCode, JSON.stringify(body)).toBe(status);
      expect(r.json().errors[0]).toMatchObject({ code, target: { name: field } });
      expect(r.body).not.toContain(SECRET_VALUE);
    }
    await h.req({ method: 'POST', url: `${P}/secrets`, json: { name: 's', data: {} } });
    expect((await h.req({ method: 'POST', url: `${P}/secrets`, json: { name: 's', data: {} } })).statusCode).toBe(409);
  });

  it('lists with pagination, format filter and reveal', async () => {
    h = await makeApi();
    for (const [name, format, data] of [
      ['r1', 'registry', { username: 'u', password: 'reg-PASS-1', server: 'us.icr.io' }],
      ['g1', 'generic', { k: 'gen-VALUE-1' }],
      ['g2', 'generic', { k: 'gen-VALUE-2' }],
      ['t1', 'tls', { tls_cert: 'c', tls_key: 'tls-KEY-1' }],
    ] as const) {
      expect((await h.req({ method: 'POST', url: `${P}/secrets`, json: { name, format, data } })).statusCode).toBe(201);
    }
    const all = await h.req({ method: 'GET', url: `${P}/secrets` });
    expect(all.json().secrets.map((s: { name: string; format: string }) => `${s.name}:${s.format}`)).toEqual(['g1:generic', 'g2:generic', 'r1:registry', 't1:tls']);
    for (const v of ['reg-PASS-1', 'gen-VALUE-1', 'tls-KEY-1']) expect(all.body).not.toContain(v);
    const generic = (await h.req({ method: 'GET', url: `${P}/secrets?format=generic&limit=1` })).json();
    expect(generic.secrets.map((s: { name: string }) => s.name)).toEqual(['g1']);
    expect(generic.next.href).toBe(`${BASE}${P}/secrets?format=generic&limit=1&start=${generic.next.start}`);
    const next = (await h.req({ method: 'GET', url: generic.next.href.slice(BASE.length) })).json();
    expect(next.secrets.map((s: { name: string }) => s.name)).toEqual(['g2']);
    expect(next.next).toBeUndefined();
    expect((await h.req({ method: 'GET', url: `${P}/secrets?format=registry` })).json().secrets.map((s: { name: string }) => s.name)).toEqual(['r1']);
    const badFormat = await h.req({ method: 'GET', url: `${P}/secrets?format=hmac` });
    expect(badFormat.statusCode).toBe(400);
    expect(badFormat.json().errors[0].target.name).toBe('format');
    const revealed = await h.req({ method: 'GET', url: `${P}/secrets?format=tls&reveal=true` });
    expect(revealed.json().secrets[0].data).toEqual({ tls_cert: 'c', tls_key: 'tls-KEY-1' });
    expect(revealed.json().first.href).toContain('reveal=true');
  });

  it('without a secret key: 503 secrets_unavailable with a clear message; config maps still work', async () => {
    h = await makeApi({ secretKey: null });
    const r = await h.req({ method: 'POST', url: `${P}/secrets`, json: { name: 's', data: { k: SECRET_VALUE } } });
    expect(r.statusCode).toBe(503);
    expect(r.json().errors[0].code).toBe('secrets_unavailable');
    expect(r.json().errors[0].message).toContain('no secret key is configured');
    expect(r.body).not.toContain(SECRET_VALUE);
    expect(h.internalErrors).toEqual([]);
    expect((await h.req({ method: 'POST', url: `${P}/config_maps`, json: { name: 'c' } })).statusCode).toBe(201);
    expect((await h.req({ method: 'GET', url: `${P}/secrets` })).statusCode).toBe(200);
  });

  it('no 5xx for malformed bodies and parameters', async () => {
    h = await makeApi();
    await h.req({ method: 'POST', url: `${P}/config_maps`, json: { name: 'c' } });
    await h.req({ method: 'POST', url: `${P}/secrets`, json: { name: 's', data: {} } });
    const garbage: unknown[] = [
      { name: 1, data: [1] },
      { name: null, data: null, format: null },
      { name: 'x'.repeat(100_000) },
      { name: 'n', data: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])) },
      { name: 'n', data: { k: { deep: [[[]]] } }, format: { x: 1 } },
      [1, 2],
      'str',
      null,
      7,
    ];
    const routes = [
      { method: 'POST' as const, url: `${P}/config_maps` },
      { method: 'PUT' as const, url: `${P}/config_maps/c`, headers: { 'if-match': '*' } },
      { method: 'POST' as const, url: `${P}/secrets` },
      { method: 'PUT' as const, url: `${P}/secrets/s`, headers: { 'if-match': '*' } },
    ];
    for (const route of routes) {
      for (const body of garbage) {
        const r = await h.req({ ...route, json: body });
        expect(r.statusCode, `${route.method} ${route.url} ${JSON.stringify(body)?.slice(0, 80)}`).toBeGreaterThanOrEqual(400);
        expect(r.statusCode).toBeLessThan(500);
      }
      for (const raw of ['{', '', '[1,']) {
        const r = await h.req({ ...route, payload: raw, headers: { 'content-type': 'application/json', ...route.headers } });
        expect(r.statusCode).toBeGreaterThanOrEqual(400);
        expect(r.statusCode).toBeLessThan(500);
      }
    }
    for (const seg of ['..', '%2e%2e', 'a'.repeat(300), '%00', 'UPPER', '-x-', 'x%2Fy']) {
      for (const url of [`${P}/config_maps/${seg}`, `${P}/secrets/${seg}`, `${P}/secrets?format=${seg}`, `${P}/config_maps?start=${seg}`]) {
        const r = await h.req({ method: 'GET', url });
        expect(r.statusCode, url).toBeLessThan(500);
      }
    }
    expect(h.internalErrors).toEqual([]);
  });

  it('is in the OpenAPI document with PUT, If-Match and the reveal and format parameters', async () => {
    h = await makeApi();
    const doc = (await h.req({ method: 'GET', url: '/v2/openapi.json' })).json();
    const put = doc.paths['/v2/projects/{project_id}/secrets/{secret_name}'].put;
    expect(put.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`)).toEqual(['path:project_id', 'path:secret_name', 'query:version', 'header:If-Match']);
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '412', '428']));
    const list = doc.paths['/v2/projects/{project_id}/secrets'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['project_id', 'version', 'limit', 'start', 'format', 'reveal']);
    expect(doc.paths['/v2/projects/{project_id}/config_maps'].post.responses['201'].headers).toHaveProperty('ETag');
    for (const name of ['ConfigMap', 'ConfigMapPrototype', 'ConfigMapReplace', 'ConfigMapList', 'Secret', 'SecretPrototype', 'SecretReplace', 'SecretList']) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
  });
});

describe('redaction sweep', () => {
  it('no response carries a secret value unless it asked with reveal=true', async () => {
    const logged: string[] = [];
    h = await makeApi({ driver: { script: (s) => ({ runForMs: 100, exitCode: s.index === 1 ? 1 : 0, output: [`instance ${s.instanceName} ran`] }) } });
    const origError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    try {
      const ok = (r: { statusCode: number; body: string }, status: number) => expect(r.statusCode, r.body.slice(0, 300)).toBe(status);
      ok(await h.req({ method: 'POST', url: `${P}/secrets`, json: { name: 'db', data: { DB_PASSWORD: SECRET_VALUE, OTHER: 'x' } } }), 201);
      ok(await h.req({ method: 'POST', url: `${P}/secrets`, json: { name: 'files', format: 'ssh_auth', data: { ssh_key: SECRET_VALUE } } }), 201);
      ok(await h.req({ method: 'POST', url: `${P}/config_maps`, json: { name: 'cfg', data: { MODE: 'prod' } } }), 201);
      ok(
        await h.req({
          method: 'POST',
          url: `${P}/jobs`,
          json: {
            name: 'j',
            ...SMALL,
            ...CMD,
            scale_array_spec: '0-1',
            scale_retry_limit: 0,
            run_env_variables: [
              { type: 'secret_key_reference', name: 'PW', reference: 'db', key: 'DB_PASSWORD' },
              { type: 'secret_full_reference', reference: 'db', prefix: 'DB_' },
              { type: 'config_map_full_reference', reference: 'cfg' },
            ],
            run_volume_mounts: [{ type: 'secret', reference: 'files', mount_path: '/etc/ssh' }],
          },
        }),
        201,
      );
      ok(await h.req({ method: 'POST', url: `${P}/job_runs`, json: { job_name: 'j', name: 'good' } }), 202);
      // a run that fails for a missing key of the secret
      ok(
        await h.req({
          method: 'POST',
          url: `${P}/job_runs`,
          json: { name: 'bad', ...SMALL, ...CMD, scale_retry_limit: 0, run_env_variables: [{ type: 'secret_key_reference', name: 'X', reference: 'db', key: 'nope' }] },
        }),
        202,
      );
      await h.tick();
      await h.tick(100);
      await h.tick(1000);
      expect(h.runtime.starts.length).toBeGreaterThanOrEqual(2);
      expect(h.runtime.starts[0]!.env.PW).toBe(SECRET_VALUE); // the instance did get it
      const bad = h.engine.listInstances('default', 'bad')[0]!;
      expect(bad.last_failure_reason).toBe('StartFailed');
      expect(bad.message).toContain('key "nope" was not found in secret "db"');

      const urls = [
        '/v2/projects',
        P,
        `${P}/jobs`,
        `${P}/jobs/j`,
        `${P}/job_runs`,
        `${P}/job_runs?job_name=j`,
        `${P}/job_runs/good`,
        `${P}/job_runs/bad`,
        `${P}/job_runs/good/instances`,
        `${P}/job_runs/bad/instances`,
        `${P}/job_runs/good/events`,
        `${P}/job_runs/bad/events`,
        `${P}/job_runs/good/logs`,
        `${P}/job_runs/bad/logs`,
        `${P}/job_runs/good/logs?follow=true`,
        `${P}/config_maps`,
        `${P}/config_maps/cfg`,
        `${P}/secrets`,
        `${P}/secrets?format=generic`,
        `${P}/secrets/db`,
        `${P}/secrets/files`,
        `${P}/secrets/db?reveal=false`,
        `${P}/secrets/nope`,
        `${P}/config_maps/db`,
        '/v2/server',
        '/v2/openapi.json',
      ];
      for (const url of urls) {
        const r = await h.req({ method: 'GET', url });
        expect(r.statusCode, url).toBeLessThan(500);
        expect(r.body, url).not.toContain(SECRET_VALUE);
      }
      // errors of writes that mention the secret
      for (const [method, url, json, headers] of [
        ['PUT', `${P}/secrets/db`, { data: { DB_PASSWORD: SECRET_VALUE }, extra: SECRET_VALUE }, { 'if-match': '*' }],
        ['PUT', `${P}/secrets/db`, { data: { DB_PASSWORD: SECRET_VALUE } }, { 'if-match': 'stale' }],
        ['POST', `${P}/secrets`, { name: 'db', data: { DB_PASSWORD: SECRET_VALUE } }, {}],
        ['POST', `${P}/secrets`, { name: 'x', format: 'tls', data: { tls_key: SECRET_VALUE } }, {}],
      ] as const) {
        const r = await h.req({ method, url, json, headers });
        expect(r.statusCode, url).toBeGreaterThanOrEqual(400);
        expect(r.body, `${method} ${url}`).not.toContain(SECRET_VALUE);
      }
      // the job shows references, not values
      const job = (await h.req({ method: 'GET', url: `${P}/jobs/j` })).json();
      expect(job.run_env_variables[0]).toEqual({ type: 'secret_key_reference', name: 'PW', reference: 'db', key: 'DB_PASSWORD' });
      // only reveal=true shows it
      expect((await h.req({ method: 'GET', url: `${P}/secrets/db?reveal=true` })).body).toContain(SECRET_VALUE);
      expect((await h.req({ method: 'GET', url: `${P}/secrets?reveal=true` })).body).toContain(SECRET_VALUE);
      expect(h.internalErrors).toEqual([]);
      for (const line of logged) expect(line).not.toContain(SECRET_VALUE);
    } finally {
      console.error = origError;
    }
  });

  it('an internal error is logged without the request body', async () => {
    const lines: string[] = [];
    const origError = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    try {
      const { buildApp } = await import('../../src/api/app.js');
      h = await makeApi();
      const engine = new Proxy(h.engine, {
        get(target, prop, receiver) {
          if (prop === 'createSecret') return (_p: string, body: unknown) => {
            const e = new Error('boom') as Error & { body?: unknown };
            e.body = body; // a careless library error carrying its input
            throw e;
          };
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const app = await buildApp({ engine, token: 't'.repeat(20), server: () => ({}) as never });
      const r = await app.inject({
        method: 'POST',
        url: `${P}/secrets`,
        headers: { authorization: `Bearer ${'t'.repeat(20)}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 's', data: { k: SECRET_VALUE } }),
      });
      await app.close();
      expect(r.statusCode).toBe(500);
      expect(r.body).not.toContain(SECRET_VALUE);
      expect(lines.join('\n')).toContain('boom');
      expect(lines.join('\n')).not.toContain(SECRET_VALUE);
    } finally {
      console.error = origError;
    }
  });
});
