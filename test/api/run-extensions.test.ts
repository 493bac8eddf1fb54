import { afterEach, describe, expect, it } from 'vitest';
import { makeApi, AUTH, HOST, SMALL, type ApiHarness } from './harness.js';

let h: ApiHarness;
afterEach(async () => h?.close());

const run = (name: string) => `/v2/projects/default/job_runs/${name}`;

describe('instances, events, logs, restart', () => {
  it('lists instances and events (with the instance filter)', async () => {
    h = await makeApi({ driver: { script: (s) => (s.retry === 0 && s.index === 1 ? { runForMs: 10, exitCode: 1 } : { runForMs: 10 }) } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'r', run_commands: ['x'], scale_array_spec: '0-1', ...SMALL } });
    await h.tick();
    await h.tick(10);
    await h.tick(2000);
    await h.tick(10);
    const inst = (await h.req({ method: 'GET', url: `${run('r')}/instances` })).json().instances;
    expect(inst.map((i: { name: string; state: string }) => [i.name, i.state])).toEqual([
      ['r-0-0', 'succeeded'],
      ['r-1-0', 'failed'],
      ['r-1-1', 'succeeded'],
    ]);
    expect(inst[1]).toMatchObject({ index: 1, retry: 0, exit_code: 1, last_failure_reason: 'ContainerExitedCode1' });
    const events = (await h.req({ method: 'GET', url: `${run('r')}/events` })).json().events;
    expect(events[0]).toMatchObject({ reason: 'Created', type: 'Normal', count: 1, job_run_name: 'r' });
    const one = (await h.req({ method: 'GET', url: `${run('r')}/events?instance=r-1-0` })).json().events;
    expect(one.length).toBeGreaterThan(0);
    expect(one.every((e: { instance_name: string }) => e.instance_name === 'r-1-0')).toBe(true);
    const nf = await h.req({ method: 'GET', url: `${run('r')}/events?instance=r-9-0` });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().errors[0].target.name).toBe('instance');
    expect((await h.req({ method: 'GET', url: `${run('r')}/events?instance=../x` })).statusCode).toBe(400);
    expect((await h.req({ method: 'GET', url: `${run('nope')}/instances` })).statusCode).toBe(404);
  });

  it('reads logs as JSON, tailed and for one instance', async () => {
    h = await makeApi({ driver: { script: (s) => ({ runForMs: 10, output: [`hello ${s.index}`, 'second', 'third'] }) } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'r', run_commands: ['x'], scale_array_spec: '0-1', ...SMALL } });
    await h.tick();
    await h.tick(10);
    const all = await h.req({ method: 'GET', url: `${run('r')}/logs` });
    expect(all.statusCode).toBe(200);
    const logs = all.json().logs;
    expect(logs.map((l: { instance: string }) => l.instance)).toEqual(['r-0-0', 'r-1-0']);
    expect(logs[0].container).toBe('r');
    expect(logs[0].records[0]).toEqual({ time: expect.stringMatching(/^2026-01-01T/), stream: 'stdout', text: 'hello 0' });
    const tail = (await h.req({ method: 'GET', url: `${run('r')}/logs?tail=1&instance=r-1-0` })).json().logs;
    expect(tail).toHaveLength(1);
    expect(tail[0].records.map((r: { text: string }) => r.text)).toEqual(['third']);
    expect((await h.req({ method: 'GET', url: `${run('r')}/logs?tail=0` })).json().logs[0].records).toEqual([]);
    for (const q of ['tail=-1', 'tail=x', 'tail=1.5', 'follow=yes', 'instance=A']) {
      const r = await h.req({ method: 'GET', url: `${run('r')}/logs?${q}` });
      expect(r.statusCode, q).toBe(400);
      expect(r.json().errors[0].target.name).toBe(q.split('=')[0]);
    }
    const nf = await h.req({ method: 'GET', url: `${run('r')}/logs?instance=r-7-0` });
    expect(nf.statusCode).toBe(404);
    expect((await h.req({ method: 'GET', url: `${run('r')}/logs?instance=r-7-0&follow=true` })).statusCode).toBe(404);
  });

  it('follows logs as NDJSON until the run completes (retries included)', async () => {
    h = await makeApi({
      driver: { script: (s) => ({ runForMs: 1000, exitCode: s.retry === 0 ? 1 : 0, output: [`try ${s.retry}`] }) },
    });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'f', run_commands: ['x'], ...SMALL } });
    await h.tick();
    const res = await h.app.inject({ method: 'GET', url: `${run('f')}/logs?follow=true`, headers: { ...AUTH, host: HOST }, payloadAsStream: true });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    let text = '';
    const ended = new Promise<void>((resolve, reject) => {
      const s = res.stream();
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('end', resolve);
      s.on('error', reject);
    });
    const waitFor = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(pred()).toBe(true);
    };
    await waitFor(() => text.includes('try 0'));
    await h.tick(1000); // fails, retry after backoff
    await h.tick(2000); // retry starts
    await waitFor(() => text.includes('try 1'));
    await h.tick(1000); // retry succeeds: the run completes
    await ended;
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.stream === 'stdout')).toEqual([
      { instance: 'f-0-0', container: 'f', time: expect.any(String), stream: 'stdout', text: 'try 0' },
      { instance: 'f-0-1', container: 'f', time: expect.any(String), stream: 'stdout', text: 'try 1' },
    ]);
  });

  it('stops a follow when the client disconnects (the stream slot is freed)', async () => {
    h = await makeApi({ driver: { script: () => ({ output: ['x'] }) }, limits: { maxStreams: 1 } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'd', run_commands: ['x'], run_mode: 'daemon', ...SMALL } });
    await h.tick();
    const ac = new AbortController();
    const res = await h.app.inject({ method: 'GET', url: `${run('d')}/logs?follow=true`, headers: { ...AUTH, host: HOST }, payloadAsStream: true, signal: ac.signal });
    res.stream().on('error', () => {});
    res.stream().resume();
    expect((await h.req({ method: 'GET', url: `${run('d')}/logs?follow=true` })).statusCode).toBe(429);
    ac.abort();
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const again = await h.req({ method: 'GET', url: `${run('d')}/logs` });
      expect(again.statusCode).toBe(200);
      const probe = await h.app.inject({ method: 'GET', url: '/v2/projects/default/changes', headers: { ...AUTH, host: HOST }, payloadAsStream: true, signal: AbortSignal.timeout(50) });
      probe.stream().on('error', () => {});
      probe.stream().resume();
      if (probe.statusCode === 200) return;
    }
    throw new Error('the follow never released its slot');
  });

  it('restarts running instances (202 with names), one by name, 404 for an unknown instance', async () => {
    h = await makeApi({ driver: { script: () => ({}) } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { name: 'd', run_commands: ['x'], run_mode: 'daemon', scale_array_spec: '0-1', ...SMALL } });
    await h.tick();
    const all = await h.req({ method: 'POST', url: `${run('d')}/restart` });
    expect(all.statusCode).toBe(202);
    expect(all.json()).toEqual({ restarted: ['d-0-0', 'd-1-0'] });
    await h.tick();
    const one = await h.req({ method: 'POST', url: `${run('d')}/restart`, json: { instance: 'd-1-0' } });
    expect(one.json()).toEqual({ restarted: ['d-1-0'] });
    expect((await h.req({ method: 'POST', url: `${run('d')}/restart`, json: { instance: 'd-5-0' } })).statusCode).toBe(404);
    expect((await h.req({ method: 'POST', url: `${run('d')}/restart`, json: { instance: 5 } })).json().errors[0].target.name).toBe('instance');
    expect((await h.req({ method: 'POST', url: `${run('d')}/restart`, json: { force: true } })).json().errors[0].code).toBe('unknown_field');
    expect((await h.req({ method: 'POST', url: `${run('d')}/restart`, json: [] })).json().errors[0].target.name).toBe('body');
    await h.tick();
    const inst = (await h.req({ method: 'GET', url: `${run('d')}/instances` })).json().instances;
    expect(inst.map((i: { state: string }) => i.state)).toEqual(['running', 'running']);
  });
});
