import { afterEach, describe, expect, it } from 'vitest';
import { CejobsClient } from '../../src/client/client.js';
import { ApiError } from '../../src/client/errors.js';
import { apiError, startFakeServer, type FakeServer, type Handler } from './fake-http.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function clientFor(handler: Handler): Promise<{ client: CejobsClient; server: FakeServer }> {
  server = await startFakeServer(handler);
  return { client: new CejobsClient({ baseUrl: server.url, token: 'tok' }), server };
}

describe('CejobsClient requests', () => {
  it('sends the bearer token and JSON bodies, and encodes path segments', async () => {
    const { client, server } = await clientFor(() => ({ status: 201, body: { name: 'j' }, headers: { etag: '"1"' } }));
    await client.createJob('my project', { name: 'j', run_commands: ['/bin/true'] });
    const req = server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v2/projects/my%20project/jobs');
    expect(req.headers.authorization).toBe('Bearer tok');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({ name: 'j', run_commands: ['/bin/true'] });
  });

  it('tolerates a base URL ending in /v2/', async () => {
    const { server } = await clientFor(() => ({ body: { version: '1', driver: 'fake' } }));
    const client = new CejobsClient({ baseUrl: `${server.url}/v2/`, token: 't' });
    expect((await client.serverInfo()).driver).toBe('fake');
    expect(server.requests[0]!.path).toBe('/v2/server');
  });

  it('returns a job with the ETag header and patches with If-Match as a merge patch', async () => {
    const { client, server } = await clientFor((req) =>
      req.method === 'GET'
        ? { body: { name: 'j', entity_tag: '7' }, headers: { etag: '7' } }
        : { body: { name: 'j', entity_tag: '8' }, headers: { etag: '8' } },
    );
    const got = await client.getJob('p', 'j');
    expect(got.etag).toBe('7');
    const updated = await client.updateJob('p', 'j', { image_secret: null, scale_cpu_limit: '2' }, got.etag);
    expect(updated.etag).toBe('8');
    const patch = server.requests[1]!;
    expect(patch.method).toBe('PATCH');
    expect(patch.headers['if-match']).toBe('7');
    expect(patch.headers['content-type']).toBe('application/merge-patch+json');
    expect(patch.body).toEqual({ image_secret: null, scale_cpu_limit: '2' });
  });

  it('passes query parameters (orphan_job_runs, job_name, instance, tail)', async () => {
    const { client, server } = await clientFor((req) => {
      if (req.path.endsWith('/logs')) return { body: { logs: [] } };
      if (req.path.endsWith('/events')) return { body: { events: [] } };
      if (req.path.endsWith('/job_runs')) return { body: { job_runs: [], limit: 100 } };
      return { status: 202 };
    });
    await client.deleteJob('p', 'j', { orphanJobRuns: true });
    await client.listAllJobRuns('p', { jobName: 'j' });
    await client.getLogs('p', 'r', { instance: 'r-0-0', tail: 5 });
    await client.listEvents('p', 'r', { instance: 'r-0-0' });
    expect(server.requests[0]!.query.get('orphan_job_runs')).toBe('true');
    expect(server.requests[1]!.query.get('job_name')).toBe('j');
    expect(server.requests[2]!.query.get('instance')).toBe('r-0-0');
    expect(server.requests[2]!.query.get('tail')).toBe('5');
    expect(server.requests[3]!.query.get('instance')).toBe('r-0-0');
  });
});

describe('ApiError', () => {
  it('is built from the error body', async () => {
    const { client } = await clientFor(() => apiError(400, 'invalid_array_spec', 'scale_array_spec "5-2" is not valid', 'scale_array_spec'));
    const err = await client.submitJobRun('p', { job_name: 'j' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(400);
    expect(e.code).toBe('invalid_array_spec');
    expect(e.message).toBe('scale_array_spec "5-2" is not valid');
    expect(e.errors).toEqual([
      { code: 'invalid_array_spec', message: 'scale_array_spec "5-2" is not valid', target: { type: 'field', name: 'scale_array_spec' } },
    ]);
    expect(e.trace).toBe('trace-1');
  });

  it('keeps every error of the body', async () => {
    const { client } = await clientFor(() => ({
      status: 400,
      body: { errors: [{ code: 'invalid_field', message: 'a' }, { code: 'invalid_resources', message: 'b' }], status_code: 400 },
    }));
    const e = (await client.getProject('p').catch((x: unknown) => x)) as ApiError;
    expect(e.errors.map((x) => x.code)).toEqual(['invalid_field', 'invalid_resources']);
    expect(e.message).toBe('a; b');
  });

  it('handles a non-JSON error body', async () => {
    const { client } = await clientFor(() => ({ status: 502, body: 'Bad Gateway' }));
    const e = (await client.getProject('p').catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(502);
    expect(e.code).toBe('http_502');
    expect(e.message).toContain('Bad Gateway');
  });

  it('maps a 401 and a 404', async () => {
    const { client } = await clientFor((req) =>
      req.path === '/v2/server'
        ? apiError(401, 'unauthorized', 'a valid bearer token is required')
        : apiError(404, 'not_found', "Job 'x' was not found."),
    );
    expect(((await client.serverInfo().catch((e: unknown) => e)) as ApiError).status).toBe(401);
    const nf = (await client.getJob('p', 'x').catch((e: unknown) => e)) as ApiError;
    expect([nf.status, nf.code]).toEqual([404, 'not_found']);
  });

  it('is status 0 / unreachable when nothing listens', async () => {
    const s = await startFakeServer(() => ({}));
    const url = s.url;
    await s.close();
    const client = new CejobsClient({ baseUrl: url, token: 't' });
    const e = (await client.serverInfo().catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(0);
    expect(e.code).toBe('unreachable');
    expect(e.message).toContain(url);
  });

  it('rejects with the abort reason, not an ApiError, when aborted', async () => {
    const { client } = await clientFor(async () => {
      await new Promise((r) => setTimeout(r, 500));
      return { body: {} };
    });
    const ac = new AbortController();
    const p = client.serverInfo({ signal: ac.signal });
    ac.abort();
    const e = await p.catch((x: unknown) => x);
    expect(e).not.toBeInstanceOf(ApiError);
    expect((e as Error).name).toBe('AbortError');
  });
});

describe('pagination', () => {
  it('listAllJobs follows next.start until there is no next', async () => {
    const pages: Record<string, unknown> = {
      '': { jobs: [{ name: 'a' }, { name: 'b' }], limit: 2, first: { href: 'x' }, next: { href: 'y', start: 'p2' } },
      p2: { jobs: [{ name: 'c' }, { name: 'd' }], limit: 2, next: { href: 'z', start: 'p3' } },
      p3: { jobs: [{ name: 'e' }], limit: 2 },
    };
    const { client, server } = await clientFor((req) => ({ body: pages[req.query.get('start') ?? ''] }));
    const jobs = await client.listAllJobs('p');
    expect(jobs.map((j) => j.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(server.requests.map((r) => r.query.get('start'))).toEqual([null, 'p2', 'p3']);
    expect(server.requests.every((r) => r.query.get('limit') === '100')).toBe(true);
  });

  it('listJobs returns one page with its envelope', async () => {
    const { client } = await clientFor(() => ({ body: { jobs: [{ name: 'a' }], limit: 1, first: { href: 'f' }, next: { href: 'n', start: 's' } } }));
    const page = await client.listJobs('p', { limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.next).toEqual({ href: 'n', start: 's' });
  });

  it('stops on a repeated start token', async () => {
    const { client } = await clientFor(() => ({ body: { projects: [{ name: 'a' }], limit: 1, next: { href: 'n', start: 'same' } } }));
    expect(await client.listAllProjects()).toHaveLength(2);
  });
});

describe('streams', () => {
  it('followLogs parses NDJSON split across chunks (including a split UTF-8 character)', async () => {
    const lines = [
      { instance: 'r-0-0', container: 'j', time: '2024-01-01T00:00:00Z', stream: 'stdout', text: 'hello' },
      { instance: 'r-1-0', container: 'j', time: '2024-01-01T00:00:01Z', stream: 'stderr', text: 'wörld ✓' },
    ];
    const bytes = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const cut = bytes.indexOf(Buffer.from('ö')) + 1; // inside the two bytes of "ö"
    const { client, server } = await clientFor(() => ({
      headers: { 'content-type': 'application/x-ndjson' },
      chunks: [bytes.subarray(0, 10), bytes.subarray(10, cut), bytes.subarray(cut)],
    }));
    const got = [];
    for await (const rec of client.followLogs('p', 'r', { tail: 3 })) got.push(rec);
    expect(got).toEqual(lines);
    expect(server.requests[0]!.query.get('follow')).toBe('true');
    expect(server.requests[0]!.query.get('tail')).toBe('3');
  });

  it('followLogs handles a last line without newline and blank lines', async () => {
    const { client } = await clientFor(() => ({ chunks: ['\n{"instance":"a","container":"c","time":"t","stream":"stdout","text":"1"}\r\n\r\n', '{"instance":"a","container":"c","time":"t","stream":"stdout","text":"2"}'] }));
    const got = [];
    for await (const rec of client.followLogs('p', 'r')) got.push(rec.text);
    expect(got).toEqual(['1', '2']);
  });

  it('followLogs fails with the API error before streaming', async () => {
    const { client } = await clientFor(() => apiError(404, 'not_found', "Job run 'r' was not found."));
    const run = async (): Promise<void> => {
      for await (const _ of client.followLogs('p', 'r')) void _;
    };
    await expect(run()).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('changes parses SSE across chunk boundaries, skips comments and unknown events', async () => {
    const stream = [
      ': keep-alive\n\n',
      'event: run\ndata: {"project_id":"p","job_run_name":"r",',
      '"status":"running"}\n',
      '\nevent: instance\r\ndata: {"project_id":"p","job_run_name":"r","instance_name":"r-0-0","state":"running"}\r',
      '\n\r\nevent: other\ndata: {}\n\n',
      'event: event\ndata: {"project_id":"p",\ndata: "job_run_name":"r","type":"Normal","reason":"Started","message":"m"}\n\n',
      'event: run\ndata: not json\n\n',
      'event: run\ndata: {"project_id":"p","job_run_name":"r","status":"completed"}\n\n',
    ];
    let opened = false;
    const { client, server } = await clientFor(() => ({ headers: { 'content-type': 'text/event-stream' }, chunks: stream }));
    const got = [];
    for await (const msg of client.changes('p', { jobRun: 'r', onOpen: () => (opened = true) })) got.push(msg);
    expect(opened).toBe(true);
    expect(server.requests[0]!.query.get('job_run')).toBe('r');
    expect(server.requests[0]!.headers.accept).toBe('text/event-stream');
    expect(got).toEqual([
      { event: 'run', data: { project_id: 'p', job_run_name: 'r', status: 'running' } },
      { event: 'instance', data: { project_id: 'p', job_run_name: 'r', instance_name: 'r-0-0', state: 'running' } },
      { event: 'event', data: { project_id: 'p', job_run_name: 'r', type: 'Normal', reason: 'Started', message: 'm' } },
      { event: 'run', data: { project_id: 'p', job_run_name: 'r', status: 'completed' } },
    ]);
  });

  it('changes stops when the signal aborts an open stream', async () => {
    const { client } = await clientFor(() => ({ chunks: ['event: run\ndata: {"project_id":"p","job_run_name":"r","status":"running"}\n\n'], keepOpen: true }));
    const ac = new AbortController();
    const got: unknown[] = [];
    const run = (async () => {
      for await (const msg of client.changes('p', { signal: ac.signal })) {
        got.push(msg);
        ac.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(got).toHaveLength(1);
  });

  it('breaking out of changes closes the stream', async () => {
    const { client } = await clientFor(() => ({ chunks: ['event: run\ndata: {"job_run_name":"r"}\n\n'], keepOpen: true }));
    for await (const msg of client.changes('p')) {
      expect(msg.event).toBe('run');
      break;
    }
  });
});

describe('CejobsClient config maps and secrets', () => {
  it('config maps: list (all pages), create, get with etag, replace with If-Match, delete', async () => {
    const { client, server } = await clientFor((req) => {
      if (req.method === 'GET' && req.path.endsWith('/config_maps')) {
        return req.query.get('start')
          ? { body: { config_maps: [{ name: 'b' }], limit: 100 } }
          : { body: { config_maps: [{ name: 'a' }], limit: 100, next: { href: '', start: 'n1' } } };
      }
      if (req.method === 'POST') return { status: 201, body: { name: 'c', entity_tag: '1', data: { k: 'v' } }, headers: { etag: '1' } };
      if (req.method === 'GET') return { body: { name: 'c', entity_tag: '3', data: {} }, headers: { etag: '"3"' } };
      if (req.method === 'PUT') return { body: { name: 'c', entity_tag: '4', data: { k: 'w' } }, headers: { etag: '4' } };
      return { status: 202 };
    });
    expect((await client.listAllConfigMaps('p')).map((c) => c.name)).toEqual(['a', 'b']);
    expect(server.requests[1]!.query.get('start')).toBe('n1');
    expect((await client.createConfigMap('p', { name: 'c', data: { k: 'v' } })).data).toEqual({ k: 'v' });
    expect(server.requests[2]!.body).toEqual({ name: 'c', data: { k: 'v' } });
    const got = await client.getConfigMap('p', 'c');
    expect(got.etag).toBe('"3"');
    const replaced = await client.replaceConfigMap('p', 'c', { k: 'w' }, got.etag);
    expect(replaced.etag).toBe('4');
    const put = server.requests[4]!;
    expect(put.method).toBe('PUT');
    expect(put.path).toBe('/v2/projects/p/config_maps/c');
    expect(put.headers['if-match']).toBe('"3"');
    expect(put.body).toEqual({ data: { k: 'w' } });
    await client.deleteConfigMap('p', 'c');
    expect(server.requests[5]!.method).toBe('DELETE');
  });

  it('secrets: reveal only when asked, format filter, replace with {format, data}', async () => {
    const { client, server } = await clientFor((req) => {
      if (req.method === 'GET' && req.path.endsWith('/secrets')) return { body: { secrets: [{ name: 's', format: 'registry' }], limit: 100 } };
      if (req.method === 'GET') return { body: { name: 's', format: 'generic', entity_tag: '5', data: { a: 'REDACTED' } } };
      if (req.method === 'PUT') return { body: { name: 's', entity_tag: '6', data: {} }, headers: { etag: '6' } };
      if (req.method === 'POST') return { status: 201, body: { name: 's' } };
      return { status: 202 };
    });
    await client.getSecret('p', 's');
    const revealed = await client.getSecret('p', 's', { reveal: true });
    expect(revealed.etag).toBe('5'); // from the body when there is no ETag header
    await client.listAllSecrets('p', { format: 'registry' });
    await client.listSecrets('p', { reveal: true, limit: 10 });
    await client.createSecret('p', { name: 's', format: 'hmac_auth', data: { access_key_id: 'i', secret_access_key: 'k' } });
    await client.replaceSecret('p', 's', { format: 'generic', data: { a: 'b' } }, '5');
    await client.deleteSecret('p', 's');
    const [g1, g2, l1, l2, post, put, del] = server.requests;
    expect(g1!.query.get('reveal')).toBeNull();
    expect(g2!.query.get('reveal')).toBe('true');
    expect(l1!.query.get('format')).toBe('registry');
    expect(l1!.query.get('reveal')).toBeNull();
    expect(l2!.query.get('reveal')).toBe('true');
    expect(l2!.query.get('limit')).toBe('10');
    expect(post!.body).toEqual({ name: 's', format: 'hmac_auth', data: { access_key_id: 'i', secret_access_key: 'k' } });
    expect(put!.headers['if-match']).toBe('5');
    expect(put!.body).toEqual({ format: 'generic', data: { a: 'b' } });
    expect(del!.path).toBe('/v2/projects/p/secrets/s');
  });
});
