import { afterEach, describe, expect, it } from 'vitest';
import { makeApi, BASE, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

describe('projects', () => {
  it('creates (202), gets by id and by name, lists and deletes (202 then 404)', async () => {
    h = await makeApi();
    const c = await h.req({ method: 'POST', url: '/v2/projects', json: { name: 'alpha', tags: ['a'], resource_group_id: 'rg' } });
    expect(c.statusCode).toBe(202);
    const p = c.json();
    expect(p).toMatchObject({ name: 'alpha', resource_type: 'project_v2', status: 'active', href: `${BASE}/v2/projects/${p.id}` });
    expect(p.created_at).toMatch(/Z$/);
    expect((await h.req({ method: 'GET', url: `/v2/projects/${p.id}` })).json()).toEqual(p);
    expect((await h.req({ method: 'GET', url: '/v2/projects/alpha' })).json()).toEqual(p);
    const list = (await h.req({ method: 'GET', url: '/v2/projects' })).json();
    expect(list.projects.map((x: { name: string }) => x.name)).toEqual(['alpha', 'default']);
    expect(list).toMatchObject({ limit: 50, first: { href: `${BASE}/v2/projects?limit=50` } });
    expect(list.next).toBeUndefined();
    const d = await h.req({ method: 'DELETE', url: '/v2/projects/alpha' });
    expect(d.statusCode).toBe(202);
    expect(d.body).toBe('');
    const gone = await h.req({ method: 'GET', url: `/v2/projects/${p.id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().errors[0].code).toBe('not_found');
  });

  it('pages the project list', async () => {
    h = await makeApi();
    for (const n of ['p1', 'p2', 'p3', 'p4']) await h.req({ method: 'POST', url: '/v2/projects', json: { name: n } });
    const names: string[] = [];
    let url = '/v2/projects?limit=2';
    for (let i = 0; i < 5 && url; i++) {
      const page = (await h.req({ method: 'GET', url })).json();
      names.push(...page.projects.map((p: { name: string }) => p.name));
      url = page.next ? page.next.href.slice(BASE.length) : '';
    }
    expect(names).toEqual(['default', 'p1', 'p2', 'p3', 'p4']);
  });

  it('refuses bad project bodies with the field named', async () => {
    h = await makeApi();
    const cases: [unknown, string, string][] = [
      [{}, 'missing_field', 'name'],
      [{ name: 42 }, 'invalid_name', 'name'],
      [{ name: 'a/b' }, 'invalid_name', 'name'],
      [{ name: 'x'.repeat(129) }, 'invalid_name', 'name'],
      [{ name: 'ok', tags: 'a' }, 'invalid_field', 'tags'],
      [{ name: 'ok', resource_group_id: 1 }, 'invalid_field', 'resource_group_id'],
      [{ name: 'ok', region: 'x' }, 'unknown_field', 'region'],
    ];
    for (const [json, code, field] of cases) {
      const r = await h.req({ method: 'POST', url: '/v2/projects', json });
      expect(r.statusCode, JSON.stringify(json)).toBe(400);
      expect(r.json().errors).toContainEqual(expect.objectContaining({ code, target: { type: 'field', name: field } }));
    }
    const dup = await h.req({ method: 'POST', url: '/v2/projects', json: { name: 'default' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].code).toBe('already_exists');
  });

  it('refuses a project id that is not a name or id, and answers 404 for an unknown one', async () => {
    h = await makeApi();
    expect((await h.req({ method: 'GET', url: '/v2/projects/..%2Fetc' })).json().errors[0].target).toEqual({ type: 'field', name: 'project_id' });
    expect((await h.req({ method: 'GET', url: '/v2/projects/..' })).statusCode).toBe(404);
    expect((await h.req({ method: 'GET', url: '/v2/projects/nope/jobs' })).statusCode).toBe(404);
  });
});
