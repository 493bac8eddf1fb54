import { afterEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { makeApi, AUTH, HOST, SMALL, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

interface Sse {
  res: LightMyRequestResponse;
  text: () => string;
  messages: () => { event: string; data: Record<string, unknown> }[];
  abort: () => void;
}

async function openStream(url: string): Promise<Sse> {
  const ac = new AbortController();
  const res = await h.app.inject({ method: 'GET', url, headers: { ...AUTH, host: HOST }, payloadAsStream: true, signal: ac.signal });
  let text = '';
  if (res.statusCode === 200) {
    const s = res.stream();
    s.on('error', () => {});
    s.on('data', (d: Buffer) => (text += d.toString()));
  }
  return {
    res,
    text: () => text,
    messages: () =>
      text
        .split('\n\n')
        .filter((block) => block.startsWith('event: '))
        .map((block) => {
          const [e, d] = block.split('\n');
          return { event: e!.slice('event: '.length), data: JSON.parse(d!.slice('data: '.length)) as Record<string, unknown> };
        }),
    abort: () => ac.abort(),
  };
}

const flush = () => new Promise((r) => setTimeout(r, 20));

describe('change stream', () => {
  it('sends run, instance and event messages of the project as server-sent events', async () => {
    h = await makeApi({ driver: { script: () => ({ runForMs: 10 }) } });
    const sse = await openStream('/v2/projects/default/changes');
    expect(sse.res.statusCode).toBe(200);
    expect(sse.res.headers['content-type']).toMatch(/^text\/event-stream/);
    await h.req({ method: 'POST', url: '/v2/projects', json: { name: 'other' } });
    await h.req({ method: 'POST', url: '/v2/projects/other/job_runs', json: { name: 'elsewhere', run_commands: ['x'], ...SMALL } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'r', run_commands: ['x'], ...SMALL } });
    await h.tick();
    await h.tick(10);
    await flush();
    expect(sse.text()).toMatch(/^: connected\n\n/);
    const msgs = sse.messages();
    expect(msgs.every((m) => m.data.job_run_name === 'r')).toBe(true);
    const pid = h.engine.getProject('default').id;
    expect(msgs).toContainEqual({ event: 'run', data: { project_id: pid, job_run_name: 'r', status: 'pending' } });
    expect(msgs).toContainEqual({ event: 'instance', data: { project_id: pid, job_run_name: 'r', instance_name: 'r-0-0', state: 'running' } });
    expect(msgs).toContainEqual({ event: 'run', data: { project_id: pid, job_run_name: 'r', status: 'completed' } });
    expect(msgs).toContainEqual({
      event: 'event',
      data: expect.objectContaining({ job_run_name: 'r', instance_name: 'r-0-0', type: 'Normal', reason: 'Started' }),
    });
    expect(sse.text()).toMatch(/event: run\ndata: \{[^\n]*\}\n\n/);
    sse.abort();
  });

  it('filters by job_run, which must exist; refuses a bad name', async () => {
    h = await makeApi({ driver: { script: () => ({ runForMs: 10 }) } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'a', run_commands: ['x'], ...SMALL } });
    const sse = await openStream('/v2/projects/default/changes?job_run=a');
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'b', run_commands: ['x'], ...SMALL } });
    await h.tick();
    await h.tick(10);
    await flush();
    const msgs = sse.messages();
    expect(msgs.length).toBeGreaterThan(0);
    expect(msgs.every((m) => m.data.job_run_name === 'a')).toBe(true);
    sse.abort();
    expect((await h.req({ method: 'GET', url: '/v2/projects/default/changes?job_run=zzz' })).statusCode).toBe(404);
    expect((await h.req({ method: 'GET', url: '/v2/projects/default/changes?job_run=Bad' })).json().errors[0].target.name).toBe('job_run');
    expect((await h.req({ method: 'GET', url: '/v2/projects/nope/changes' })).statusCode).toBe(404);
  });

  it('sends keep-alive comments', async () => {
    h = await makeApi({ limits: { keepAliveMs: 10 } });
    const sse = await openStream('/v2/projects/default/changes');
    await new Promise((r) => setTimeout(r, 60));
    expect(sse.text()).toContain(': keep-alive\n\n');
    sse.abort();
  });

  it('bounds concurrent streams (429 too_many_streams) and frees a slot when a client leaves', async () => {
    h = await makeApi({ limits: { maxStreams: 3 } });
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await openStream('/v2/projects/default/changes'));
    expect(open.map((s) => s.res.statusCode)).toEqual([200, 200, 200]);
    const over = await h.req({ method: 'GET', url: '/v2/projects/default/changes' });
    expect(over.statusCode).toBe(429);
    expect(over.json().errors[0].code).toBe('too_many_streams');
    open[0]!.abort();
    await flush();
    const again = await openStream('/v2/projects/default/changes');
    expect(again.res.statusCode).toBe(200);
    for (const s of [...open, again]) s.abort();
  });

  it('ends open streams when the app closes', async () => {
    h = await makeApi();
    const res = await h.app.inject({ method: 'GET', url: '/v2/projects/default/changes', headers: { ...AUTH, host: HOST }, payloadAsStream: true });
    const ended = new Promise<void>((resolve) => {
      res.stream().on('end', resolve);
      res.stream().on('error', () => resolve());
      res.stream().resume();
    });
    await h.app.close();
    await ended;
  });
});
