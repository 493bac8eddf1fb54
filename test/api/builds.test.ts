/**
 * Builds and build runs over HTTP (docs/api.md "Builds"): CRUD with entity tags, the source
 * upload of a local build, build runs with their status and log, and a 4xx naming the field
 * for every bad input. The engine has a real `source` builder (snapshots in the state home).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SourceBuilder } from '../../src/builders/source.js';
import { makeWritable } from '../../src/builders/tree.js';
import { packSource } from '../../src/client/source-archive.js';
import { makeApi, type ApiHarness } from './harness.js';

let h: ApiHarness;
const snapshots = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-api-snap-'));
afterEach(async () => h?.close());
afterAll(() => {
  makeWritable(snapshots);
  fs.rmSync(snapshots, { recursive: true, force: true });
});

const P = '/v2/projects/default';
const api = () => makeApi({ builder: new SourceBuilder(snapshots) });

async function tarBuffer(files: Record<string, string>): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-api-src-'));
  for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, k), v);
  const chunks: Buffer[] = [];
  for await (const c of packSource(dir)) chunks.push(c as Buffer);
  fs.rmSync(dir, { recursive: true, force: true });
  return Buffer.concat(chunks);
}

async function waitTerminal(name: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 400; i++) {
    const r = (await h.req({ method: 'GET', url: `${P}/build_runs/${name}` })).json();
    if (r.status === 'succeeded' || r.status === 'failed') return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`build run ${name} did not finish`);
}

describe('builds', () => {
  it('create 201 + ETag with defaults, get, list, patch with If-Match, delete 202', async () => {
    h = await api();
    const created = await h.req({ method: 'POST', url: `${P}/builds`, json: { name: 'app', source_url: 'file:///tmp/repo', source_revision: 'v1' } });
    expect(created.statusCode).toBe(201);
    const b = created.json();
    expect(b).toMatchObject({
      name: 'app',
      resource_type: 'build_v2',
      status: 'ready',
      source_type: 'git',
      source_url: 'file:///tmp/repo',
      source_revision: 'v1',
      strategy_type: 'source',
      timeout: 600,
    });
    expect(created.headers.etag).toBe(b.entity_tag);
    expect((await h.req({ method: 'GET', url: `${P}/builds/app` })).json()).toEqual(b);
    expect((await h.req({ method: 'GET', url: `${P}/builds` })).json().builds.map((x: { name: string }) => x.name)).toEqual(['app']);

    expect((await h.req({ method: 'PATCH', url: `${P}/builds/app`, json: { timeout: 60 } })).statusCode).toBe(428);
    expect((await h.req({ method: 'PATCH', url: `${P}/builds/app`, json: { timeout: 60 }, headers: { 'if-match': 'nope' } })).statusCode).toBe(412);
    const patched = await h.req({ method: 'PATCH', url: `${P}/builds/app`, json: { timeout: 60, source_revision: null }, headers: { 'if-match': b.entity_tag } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().timeout).toBe(60);
    expect(patched.json().source_revision).toBeUndefined();
    expect(patched.json().entity_tag).not.toBe(b.entity_tag);

    expect((await h.req({ method: 'DELETE', url: `${P}/builds/app` })).statusCode).toBe(202);
    expect((await h.req({ method: 'GET', url: `${P}/builds/app` })).statusCode).toBe(404);
  });

  it.each([
    [{ name: 'Bad_Name', source_type: 'local' }, 'name'],
    [{ source_type: 'local' }, 'name'],
    [{ name: 'a', source_type: 'svn' }, 'source_type'],
    [{ name: 'a', source_type: 'git' }, 'source_url'],
    [{ name: 'a', source_url: 'not a url' }, 'source_url'],
    [{ name: 'a', source_url: 'file:///r', source_revision: 'a..b' }, 'source_revision'],
    [{ name: 'a', source_type: 'local', source_context_dir: '../up' }, 'source_context_dir'],
    [{ name: 'a', source_type: 'local', source_context_dir: '/abs' }, 'source_context_dir'],
    [{ name: 'a', source_type: 'local', strategy_type: 'buildpacks' }, 'strategy_type'],
    [{ name: 'a', source_type: 'local', strategy_type: 'dockerfile' }, 'strategy_type'],
    [{ name: 'a', source_type: 'local', timeout: 0 }, 'timeout'],
    [{ name: 'a', source_type: 'local', timeout: 3601 }, 'timeout'],
    [{ name: 'a', source_type: 'local', source_url: 'file:///r' }, 'source_url'],
    [{ name: 'a', source_type: 'local', source_secret: 'Bad Secret' }, 'source_secret'],
    [{ name: 'a', source_type: 'local', strategy_spec_file: 'Dockerfile' }, 'strategy_spec_file'],
    [{ name: 'a', source_type: 'local', source_build_command: 7 }, 'source_build_command'],
    [{ name: 'a', source_type: 'local', output_image: 'x' }, 'output_image'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    h = await api();
    const r = await h.req({ method: 'POST', url: `${P}/builds`, json: body });
    expect(r.statusCode).toBe(400);
    const fields = r.json().errors.map((e: { target?: { name: string } }) => e.target?.name);
    expect(fields, JSON.stringify(r.json())).toContain(field);
  });

  it('answers 503 builds_unavailable without a builder, and 400 for a bad build name in the path', async () => {
    h = await makeApi();
    const r = await h.req({ method: 'POST', url: `${P}/builds`, json: { name: 'a', source_type: 'local' } });
    expect(r.statusCode).toBe(503);
    expect(r.json().errors[0].code).toBe('builds_unavailable');
    const bad = await h.req({ method: 'GET', url: `${P}/builds/BAD_NAME` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].target.name).toBe('build_name');
  });
});

describe('build runs', () => {
  it('uploads a local source, runs a build to success and serves its log', async () => {
    h = await api();
    await h.req({ method: 'POST', url: `${P}/builds`, json: { name: 'app', source_type: 'local', source_build_command: 'echo compiled > out.txt' } });
    const missing = await h.req({ method: 'POST', url: `${P}/build_runs`, json: { build_name: 'app' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0].code).toBe('build_source_missing');

    const wrongType = await h.req({ method: 'PUT', url: `${P}/builds/app/source`, payload: 'x', headers: { 'content-type': 'text/plain' } });
    expect(wrongType.statusCode).toBe(415);
    const up = await h.req({
      method: 'PUT',
      url: `${P}/builds/app/source`,
      payload: await tarBuffer({ 'main.sh': 'echo hi\n' }),
      headers: { 'content-type': 'application/x-tar' },
    });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().bytes).toBeGreaterThan(0);

    const sub = await h.req({ method: 'POST', url: `${P}/build_runs`, json: { build_name: 'app', name: 'app-run-1' } });
    expect(sub.statusCode).toBe(201);
    expect(sub.json()).toMatchObject({ name: 'app-run-1', build_name: 'app', resource_type: 'build_run_v2' });
    const done = await waitTerminal('app-run-1');
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.output_image).toMatch(/^snapshot\.cejobs\.local\//);
    const logs = await h.req({ method: 'GET', url: `${P}/build_runs/app-run-1/logs?tail=100` });
    expect(logs.json().lines.join('\n')).toContain('echo compiled > out.txt');
    const list = await h.req({ method: 'GET', url: `${P}/build_runs?build_name=app` });
    expect(list.json().build_runs.map((r: { name: string }) => r.name)).toEqual(['app-run-1']);
    expect((await h.req({ method: 'POST', url: `${P}/build_runs`, json: { build_name: 'app', name: 'app-run-1' } })).statusCode).toBe(409);
    expect((await h.req({ method: 'DELETE', url: `${P}/build_runs/app-run-1` })).statusCode).toBe(202);
    expect((await h.req({ method: 'GET', url: `${P}/build_runs/app-run-1` })).statusCode).toBe(404);
  });

  it('reports a failing build with its reason and log tail', async () => {
    h = await api();
    await h.req({ method: 'POST', url: `${P}/builds`, json: { name: 'bad', source_type: 'local', source_build_command: 'echo "broken build" >&2; exit 2' } });
    await h.req({ method: 'PUT', url: `${P}/builds/bad/source`, payload: await tarBuffer({ a: 'b' }), headers: { 'content-type': 'application/x-tar' } });
    const sub = (await h.req({ method: 'POST', url: `${P}/build_runs`, json: { build_name: 'bad' } })).json();
    expect(sub.name).toMatch(/^bad-run-[0-9a-f]{6}$/);
    const done = await waitTerminal(sub.name);
    expect(done.status).toBe('failed');
    expect(done.status_details).toMatchObject({ reason: 'BuildFailed' });
    expect((done.status_details as { message: string }).message).toContain('broken build');
  });

  it.each([
    [{}, 'build_name'],
    [{ build_name: 'x', extra: 1 }, 'extra'],
    [{ build_name: 'Bad' }, 'build_name'],
    [{ build_name: 'x', name: '-bad' }, 'name'],
  ])('refuses submit %j with a 400 naming %s', async (body, field) => {
    h = await api();
    const r = await h.req({ method: 'POST', url: `${P}/build_runs`, json: body });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors.map((e: { target?: { name: string } }) => e.target?.name)).toContain(field);
  });

  it('404s a run of a build that does not exist, and a bad list filter is a 400', async () => {
    h = await api();
    expect((await h.req({ method: 'POST', url: `${P}/build_runs`, json: { build_name: 'nope' } })).statusCode).toBe(404);
    const r = await h.req({ method: 'GET', url: `${P}/build_runs?build_name=NOPE` });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0].target.name).toBe('build_name');
  });
});

describe('jobs made from build runs', () => {
  async function builtRun(name: string, command: string): Promise<Record<string, unknown>> {
    await h.req({ method: 'POST', url: `${P}/builds`, json: { name, source_type: 'local', source_build_command: command } });
    await h.req({ method: 'PUT', url: `${P}/builds/${name}/source`, payload: await tarBuffer({ 'run.sh': 'echo\n' }), headers: { 'content-type': 'application/x-tar' } });
    const sub = (await h.req({ method: 'POST', url: `${P}/build_runs`, json: { build_name: name } })).json();
    return waitTerminal(sub.name);
  }

  it('takes the image of a succeeded build run, shows build and build_run, and detaches with null', async () => {
    h = await api();
    const run = await builtRun('app', 'true');
    const created = await h.req({ method: 'POST', url: `${P}/jobs`, json: { name: 'app', build_run: run.name, run_commands: ['./run.sh'] } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ build: 'app', build_run: run.name, image_reference: run.output_image });
    const both = await h.req({ method: 'POST', url: `${P}/jobs`, json: { name: 'both', build_run: run.name, image_reference: 'busybox', run_commands: ['x'] } });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors[0].target.name).toBe('image_reference');
    const detached = await h.req({ method: 'PATCH', url: `${P}/jobs/app`, json: { build_run: null }, headers: { 'if-match': '*' } });
    expect(detached.statusCode, detached.body).toBe(200);
    expect(detached.json().build_run).toBeUndefined();
    expect(detached.json().image_reference).toBe(run.output_image);
  });

  it('refuses a failed or unknown build run naming build_run, and a bad type', async () => {
    h = await api();
    const failed = await builtRun('bad', 'exit 1');
    const r = await h.req({ method: 'POST', url: `${P}/jobs`, json: { name: 'j', build_run: failed.name, run_commands: ['x'] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0]).toMatchObject({ code: 'invalid_field', target: { name: 'build_run' } });
    expect(r.json().errors[0].message).toContain('BuildFailed');
    const missing = await h.req({ method: 'POST', url: `${P}/jobs`, json: { name: 'j', build_run: 'nope', run_commands: ['x'] } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].target.name).toBe('build_run');
    const typed = await h.req({ method: 'POST', url: `${P}/jobs`, json: { name: 'j', build_run: 7, run_commands: ['x'] } });
    expect(typed.statusCode).toBe(400);
    expect(typed.json().errors[0].target.name).toBe('build_run');
  });

  it('refuses runs of a job whose build run has not succeeded yet (409 build_not_ready)', async () => {
    h = await api();
    await h.req({ method: 'POST', url: `${P}/builds`, json: { name: 'slow', source_type: 'local', source_build_command: 'sleep 1' } });
    await h.req({ method: 'PUT', url: `${P}/builds/slow/source`, payload: await tarBuffer({ a: 'b' }), headers: { 'content-type': 'application/x-tar' } });
    const sub = (await h.req({ method: 'POST', url: `${P}/build_runs`, json: { build_name: 'slow' } })).json();
    const job = await h.req({ method: 'POST', url: `${P}/jobs`, json: { name: 'slow', build_run: sub.name, run_commands: ['./a'] } });
    expect(job.statusCode, job.body).toBe(201);
    expect(job.json().image_reference).toBeUndefined();
    const early = await h.req({ method: 'POST', url: `${P}/job_runs`, json: { job_name: 'slow' } });
    expect(early.statusCode).toBe(409);
    expect(early.json().errors[0].code).toBe('build_not_ready');
    const done = await waitTerminal(sub.name);
    const got = (await h.req({ method: 'GET', url: `${P}/jobs/slow` })).json();
    expect(got.image_reference).toBe(done.output_image);
    expect((await h.req({ method: 'POST', url: `${P}/job_runs`, json: { job_name: 'slow' } })).statusCode).toBe(202);
  });
});

describe('uploads', () => {
  it('refuses a source larger than the limit (object_too_large) and a non-local build', async () => {
    h = await api();
    const { Readable } = await import('node:stream');
    h.engine.createBuild('default', { name: 'up', source_type: 'local' });
    await expect(h.engine.uploadBuildSource('default', 'up', Readable.from([Buffer.alloc(4096)]), 1000)).rejects.toMatchObject({ code: 'object_too_large' });
    expect(fs.readdirSync(path.join(h.home, 'builds', 'uploads', h.engine.getProject('default').id))).toEqual([]);
    await h.req({ method: 'POST', url: `${P}/builds`, json: { name: 'g', source_url: 'file:///r' } });
    const r = await h.req({ method: 'PUT', url: `${P}/builds/g/source`, payload: await tarBuffer({ a: 'b' }), headers: { 'content-type': 'application/x-tar' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0].message).toContain('only a local build');
  });
});

describe('deleting', () => {
  it('a build run that runs stops it; a project takes its builds, runs and uploads along', async () => {
    h = await api();
    const e = h.engine;
    e.createProject('p2');
    e.createBuild('p2', { name: 'slow', source_type: 'local', source_build_command: 'sleep 30' });
    await e.uploadBuildSource('p2', 'slow', (await import('node:stream')).Readable.from([await tarBuffer({ a: 'b' })]), 1 << 20);
    const run = e.submitBuildRun('p2', { build_name: 'slow' });
    const runDir = path.join(h.home, 'builds', 'runs', run.id);
    expect(fs.existsSync(runDir)).toBe(true);
    const t0 = Date.now();
    e.deleteProject('p2');
    for (let i = 0; i < 200 && fs.existsSync(runDir); i++) await new Promise((r) => setTimeout(r, 25));
    expect(fs.existsSync(runDir)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(fs.existsSync(path.join(h.home, 'builds', 'uploads', run.project_id))).toBe(false);
  });
});
