/**
 * An in-memory stand-in for the cejobs REST API (docs/api.md) on 127.0.0.1:0, for CLI tests:
 * projects, jobs (entity tags, If-Match), job runs (inheriting their job), instances, events,
 * logs (JSON and NDJSON follow), restart and the SSE change stream. Tests drive run progress
 * with `updateRun()` and inspect `requests`.
 */
import { withDefaults } from '../../src/domain/defaults.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Instance, RunEvent } from '../../src/domain/types.js';
import type { ApiConfigMap, ApiJob, ApiJobRun, ApiProject, ApiSecret, InstanceLogs, LogStreamRecord, SecretFormat } from '../../src/client/types.js';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export const T0 = '2024-05-01T10:00:00.000Z';

function err(status: number, code: string, message: string) {
  return { status, body: { errors: [{ code, message }], status_code: status, trace: 't' } };
}

export class FakeApi {
  url = '';
  token = 'tok';
  requests: Recorded[] = [];
  projects = new Map<string, ApiProject>();
  jobs = new Map<string, ApiJob>();
  runs = new Map<string, ApiJobRun>();
  configMaps = new Map<string, ApiConfigMap>();
  /** Stored in plaintext here; answered `REDACTED` unless `?reveal=true`, as the real API. */
  secrets = new Map<string, ApiSecret>();
  instances = new Map<string, Instance[]>();
  events = new Map<string, RunEvent[]>();
  logs = new Map<string, InstanceLogs[]>();
  /** NDJSON records served by `follow=true`, per run. */
  followRecords = new Map<string, LogStreamRecord[]>();
  /** Answer the change stream with this status instead (e.g. 500 to force polling). */
  changesStatus = 200;
  /** Page size of `GET …/jobs` (to exercise pagination). */
  jobsPageSize = 2;
  private server?: http.Server;
  private sse = new Set<{ res: http.ServerResponse; jobRun: string | null }>();
  private seq = 0;
  private tag = 1;

  constructor() {
    this.addProject('default');
  }

  addProject(name: string): ApiProject {
    const p: ApiProject = {
      id: `${name}-id-0000`,
      name,
      region: 'local',
      subdomain: `${name}-sub`,
      status: 'active',
      resource_type: 'project_v2',
      created_at: T0,
      href: `${this.url}/v2/projects/${name}-id-0000`,
    };
    this.projects.set(p.id, p);
    return p;
  }

  project(ref: string): ApiProject | undefined {
    return this.projects.get(ref) ?? [...this.projects.values()].find((p) => p.name === ref);
  }

  addJob(fields: Partial<ApiJob> & { name: string }, project = 'default'): ApiJob {
    const p = this.project(project)!;
    const job = {
      id: `job-${++this.seq}`,
      project_id: p.id,
      region: 'local',
      resource_type: 'job_v2',
      created_at: T0,
      entity_tag: String(this.tag++),
      href: '',
      ...withDefaults({}),
      ...fields,
    } as ApiJob;
    this.jobs.set(`${p.id}/${job.name}`, job);
    return job;
  }

  addConfigMap(name: string, data: Record<string, string>, project = 'default'): ApiConfigMap {
    const p = this.project(project)!;
    const cm: ApiConfigMap = {
      id: `cm-${++this.seq}`,
      name,
      project_id: p.id,
      region: 'local',
      resource_type: 'config_map_v2',
      created_at: T0,
      entity_tag: String(this.tag++),
      href: '',
      data: { ...data },
    };
    this.configMaps.set(`${p.id}/${name}`, cm);
    return cm;
  }

  addSecret(name: string, format: SecretFormat, data: Record<string, string>, project = 'default'): ApiSecret {
    const p = this.project(project)!;
    const secret: ApiSecret = {
      id: `sec-${++this.seq}`,
      name,
      project_id: p.id,
      region: 'local',
      resource_type: 'secret_v2',
      format,
      created_at: T0,
      entity_tag: String(this.tag++),
      href: '',
      data: { ...data },
    };
    this.secrets.set(`${p.id}/${name}`, secret);
    return secret;
  }

  private redacted(secret: ApiSecret, reveal: boolean): ApiSecret {
    if (reveal) return secret;
    return { ...secret, data: Object.fromEntries(Object.keys(secret.data).map((k) => [k, 'REDACTED'])) };
  }

  addRun(fields: Partial<ApiJobRun> & { name: string }, project = 'default'): ApiJobRun {
    const p = this.project(project)!;
    const run = {
      id: `run-${++this.seq}`,
      project_id: p.id,
      region: 'local',
      resource_type: 'job_run_v2',
      created_at: T0,
      href: '',
      ...withDefaults({}),
      status: 'pending',
      status_details: { requested: 1, pending: 0, running: 0, succeeded: 0, failed: 0, unknown: 0, indices_details: {} },
      ...fields,
    } as ApiJobRun;
    this.runs.set(`${p.id}/${run.name}`, run);
    return run;
  }

  /** Changes a run and announces it on the change stream. */
  updateRun(name: string, patch: Partial<ApiJobRun>, project = 'default'): void {
    const p = this.project(project)!;
    const run = this.runs.get(`${p.id}/${name}`)!;
    Object.assign(run, patch);
    this.emit('run', { project_id: p.id, job_run_name: name, status: run.status });
  }

  emit(event: string, data: { job_run_name: string } & Record<string, unknown>): void {
    for (const c of this.sse) {
      if (c.jobRun && c.jobRun !== data.job_run_name) continue;
      c.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    }
  }

  bodiesOf(method: string, pathEnd: string): any[] {
    return this.requests.filter((r) => r.method === method && r.path.endsWith(pathEnd)).map((r) => r.body);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const c of this.sse) c.res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.url);
      const rec: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
      this.requests.push(rec);
      if (req.headers.authorization !== `Bearer ${this.token}`) return this.send(res, err(401, 'unauthorized', 'a valid bearer token is required'));
      const parts = url.pathname.split('/').slice(2).map(decodeURIComponent); // after /v2
      this.route(rec, parts, res);
    });
  }

  private send(res: http.ServerResponse, r: { status: number; body?: unknown; headers?: Record<string, string> }): void {
    res.writeHead(r.status, { 'content-type': 'application/json', ...(r.headers ?? {}) });
    res.end(r.body === undefined ? '' : JSON.stringify(r.body));
  }

  private route(rec: Recorded, parts: string[], res: http.ServerResponse): void {
    const m = rec.method;
    const send = (status: number, body?: unknown, headers?: Record<string, string>) => this.send(res, { status, body, headers });
    if (parts[0] === 'server') return send(200, { version: '0.1.0', driver: 'fake', capabilities: {}, pid: 1, state_home: '/x', started_at: T0, url: this.url });
    if (parts[0] !== 'projects') return this.send(res, err(404, 'route_not_found', 'no route'));
    if (parts.length === 1) {
      if (m === 'GET') return send(200, { projects: [...this.projects.values()], limit: 50, first: { href: '' } });
      if (m === 'POST') {
        if (this.project(rec.body.name)) return this.send(res, err(409, 'already_exists', `Project '${rec.body.name}' already exists; choose another name.`));
        return send(202, this.addProject(rec.body.name));
      }
    }
    const project = this.project(parts[1]!);
    if (!project) return this.send(res, err(404, 'not_found', `Project '${parts[1]}' was not found.`));
    if (parts.length === 2) {
      if (m === 'GET') return send(200, project);
      if (m === 'DELETE') {
        this.projects.delete(project.id);
        return send(202);
      }
    }
    const key = (name: string) => `${project.id}/${name}`;
    if (parts[2] === 'jobs') {
      if (parts.length === 3 && m === 'GET') {
        const all = [...this.jobs.values()].filter((j) => j.project_id === project.id);
        const start = Number(rec.query.get('start') ?? 0);
        const limit = Math.min(Number(rec.query.get('limit') ?? 50), this.jobsPageSize);
        const page = all.slice(start, start + limit);
        const body: Record<string, unknown> = { jobs: page, limit, first: { href: '' } };
        if (start + limit < all.length) body.next = { href: '', start: String(start + limit) };
        return send(200, body);
      }
      if (parts.length === 3 && m === 'POST') {
        if (this.jobs.has(key(rec.body.name))) return this.send(res, err(409, 'already_exists', `Job '${rec.body.name}' already exists; choose another name.`));
        const job = this.addJob(rec.body, project.name);
        return send(201, job, { etag: job.entity_tag });
      }
      const job = this.jobs.get(key(parts[3]!));
      if (!job) return this.send(res, err(404, 'not_found', `Job '${parts[3]}' was not found.`));
      if (m === 'GET') return send(200, job, { etag: job.entity_tag });
      if (m === 'PATCH') {
        const ifMatch = rec.headers['if-match'];
        if (!ifMatch) return this.send(res, err(428, 'precondition_required', 'If-Match is required'));
        if (ifMatch !== '*' && ifMatch !== job.entity_tag) return this.send(res, err(412, 'precondition_failed', 'stale'));
        for (const [k, v] of Object.entries(rec.body as Record<string, unknown>)) {
          if (v === null) delete (job as any)[k];
          else (job as any)[k] = v;
        }
        job.entity_tag = String(this.tag++);
        return send(200, job, { etag: job.entity_tag });
      }
      if (m === 'DELETE') {
        this.jobs.delete(key(job.name));
        return send(202);
      }
    }
    if (parts[2] === 'job_runs') {
      if (parts.length === 3 && m === 'GET') {
        const jobName = rec.query.get('job_name');
        const runs = [...this.runs.values()].filter((r) => r.project_id === project.id && (!jobName || r.job_name === jobName));
        return send(200, { job_runs: runs, limit: 100, first: { href: '' } });
      }
      if (parts.length === 3 && m === 'POST') {
        const body = rec.body as Record<string, any>;
        if (body.name && this.runs.has(key(body.name))) return this.send(res, err(409, 'already_exists', `Job run '${body.name}' already exists; choose another name.`));
        let base: Partial<ApiJob> = {};
        if (body.job_name) {
          const job = this.jobs.get(key(body.job_name));
          if (!job) return this.send(res, err(404, 'not_found', `Job '${body.job_name}' was not found.`));
          if (body.image_reference !== undefined) return this.send(res, err(400, 'image_override_not_allowed', "image_reference: you cannot override the job's image"));
          const { id, name, created_at, entity_tag, href, last_job_run, ...rest } = job;
          void id, name, created_at, entity_tag, href, last_job_run;
          base = rest;
        }
        const run = this.addRun({ ...(base as any), ...body, name: body.name ?? `gen-${++this.seq}` }, project.name);
        return send(202, run);
      }
      const run = this.runs.get(key(parts[3]!));
      if (!run) return this.send(res, err(404, 'not_found', `Job run '${parts[3]}' was not found.`));
      if (parts.length === 4) {
        if (m === 'GET') return send(200, run);
        if (m === 'DELETE') {
          this.runs.delete(key(run.name));
          return send(202);
        }
      }
      const sub = parts[4];
      if (sub === 'instances') return send(200, { instances: this.instances.get(run.name) ?? [] });
      if (sub === 'events') {
        const inst = rec.query.get('instance');
        return send(200, { events: (this.events.get(run.name) ?? []).filter((e) => !inst || e.instance_name === inst) });
      }
      if (sub === 'restart') return send(202, { restarted: rec.body?.instance ? [rec.body.instance] : (this.instances.get(run.name) ?? []).filter((i) => i.state === 'running').map((i) => i.name) });
      if (sub === 'logs') {
        if (rec.query.get('follow') === 'true') {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          const lines = (this.followRecords.get(run.name) ?? []).map((r) => JSON.stringify(r) + '\n').join('');
          // split mid-record to exercise chunk handling
          const half = Math.floor(lines.length / 2);
          res.write(lines.slice(0, half));
          setTimeout(() => res.end(lines.slice(half)), 10);
          return;
        }
        const inst = rec.query.get('instance');
        return send(200, { logs: (this.logs.get(run.name) ?? []).filter((l) => !inst || l.instance === inst) });
      }
    }
    if (parts[2] === 'config_maps' || parts[2] === 'secrets') {
      const isSecret = parts[2] === 'secrets';
      const store = (isSecret ? this.secrets : this.configMaps) as Map<string, ApiConfigMap | ApiSecret>;
      const what = isSecret ? 'Secret' : 'Config map';
      const reveal = rec.query.get('reveal') === 'true';
      const show = (o: ApiConfigMap | ApiSecret) => (isSecret ? this.redacted(o as ApiSecret, reveal) : o);
      if (parts.length === 3 && m === 'GET') {
        const format = rec.query.get('format');
        const items = [...store.values()].filter((o) => o.project_id === project.id && (!format || (o as ApiSecret).format === format)).map(show);
        return send(200, { [parts[2]]: items, limit: 100, first: { href: '' } });
      }
      if (parts.length === 3 && m === 'POST') {
        const body = rec.body as { name: string; format?: SecretFormat; data: Record<string, string> };
        if (store.has(key(body.name))) return this.send(res, err(409, 'already_exists', `${what} '${body.name}' already exists; choose another name.`));
        const o = isSecret ? this.addSecret(body.name, body.format ?? 'generic', body.data, project.name) : this.addConfigMap(body.name, body.data, project.name);
        return send(201, show(o), { etag: o.entity_tag });
      }
      const o = store.get(key(parts[3]!));
      if (!o) return this.send(res, err(404, 'not_found', `${what} '${parts[3]}' was not found.`));
      if (m === 'GET') return send(200, show(o), { etag: o.entity_tag });
      if (m === 'PUT') {
        const ifMatch = rec.headers['if-match'];
        if (!ifMatch) return this.send(res, err(428, 'precondition_required', 'If-Match is required'));
        if (ifMatch !== '*' && ifMatch !== o.entity_tag) return this.send(res, err(412, 'precondition_failed', 'stale'));
        if (isSecret && rec.body.format !== undefined && rec.body.format !== (o as ApiSecret).format) {
          return this.send(res, err(400, 'invalid_field', 'the format of a secret cannot change'));
        }
        o.data = { ...rec.body.data };
        o.entity_tag = String(this.tag++);
        return send(200, show(o), { etag: o.entity_tag });
      }
      if (m === 'DELETE') {
        store.delete(key(o.name));
        return send(202);
      }
    }
    if (parts[2] === 'changes') {
      if (this.changesStatus !== 200) return this.send(res, err(this.changesStatus, 'broken', 'no stream'));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hello\n\n');
      const c = { res, jobRun: rec.query.get('job_run') };
      this.sse.add(c);
      res.on('close', () => this.sse.delete(c));
      return;
    }
    return this.send(res, err(404, 'route_not_found', 'no route'));
  }
}
