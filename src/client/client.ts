/**
 * `CejobsClient`: the typed client of the cejobs REST API (docs/api.md). The CLI and the web
 * console use it; it needs only a global `fetch`, `ReadableStream` and `TextDecoder` (no Node
 * APIs), so it runs in browsers too. Node-specific discovery of the server is in discovery.ts.
 *
 * Every method throws `ApiError` on failure: an API error (4xx/5xx, fields from the error body)
 * or an unreachable server (`status 0`, `code 'unreachable'`). Aborting through a `signal`
 * rejects with the signal's reason (an `AbortError`), never with an `ApiError`.
 */
import { ApiError } from './errors.js';
import { parseNdjson, parseSse } from './streams.js';
import type {
  ApiConfigMap,
  ApiJob,
  ApiJobRun,
  ApiProject,
  ApiSecret,
  ChangeMessage,
  ConfigMapPrototype,
  Instance,
  JobPatchBody,
  JobPrototype,
  JobRunPrototype,
  LogsResponse,
  LogStreamRecord,
  Page,
  PageOptions,
  ProjectPrototype,
  RunEvent,
  SecretFormat,
  SecretPrototype,
  SecretReplaceBody,
  ServerInfo,
  ApiBuild,
  ApiBuildRun,
  BuildPatchBody,
  BuildPrototype,
  BuildRunPrototype,
} from './types.js';

export { ApiError } from './errors.js';

export interface CejobsClientOptions {
  /** Root URL of the server, e.g. `http://127.0.0.1:7373` (a trailing `/v2` is tolerated). */
  baseUrl: string;
  /** The bearer token (`<home>/token`). */
  token: string;
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
  /** Sent as is (with `contentType`) instead of JSON. */
  raw?: Uint8Array;
  signal?: AbortSignal;
}

const seg = encodeURIComponent;

/** Re-throws a broken stream (connection lost mid-body) as `ApiError` unreachable, an abort as is. */
async function* guardStream<T>(source: AsyncGenerator<T>, baseUrl: string, signal: AbortSignal | undefined): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (e) {
    if (signal?.aborted) throw signal.reason ?? e;
    if (e instanceof SyntaxError) throw new ApiError(0, [{ code: 'invalid_stream', message: `malformed stream from ${baseUrl}: ${e.message}` }]);
    throw ApiError.unreachable(baseUrl, e);
  }
}

export class CejobsClient {
  /** Root URL without trailing slash (and without `/v2`). */
  readonly baseUrl: string;
  private readonly token: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: CejobsClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/v2$/, '');
    this.token = options.token;
    const f = options.fetch ?? globalThis.fetch;
    this.fetchImpl = (input, init) => f(input, init);
  }

  // ---- server -------------------------------------------------------------------------------

  /** `GET /v2/server`: version, driver, pid, state home... of the running server. */
  async serverInfo(options: { signal?: AbortSignal } = {}): Promise<ServerInfo> {
    return this.json<ServerInfo>('GET', '/v2/server', { signal: options.signal });
  }

  // ---- projects -----------------------------------------------------------------------------

  /** One page of projects. */
  async listProjects(page: PageOptions = {}): Promise<Page<ApiProject>> {
    return this.page<ApiProject>('/v2/projects', 'projects', { ...page });
  }

  /** Every project (follows `next`). */
  async listAllProjects(): Promise<ApiProject[]> {
    return this.all((start) => this.listProjects({ limit: 100, start }));
  }

  /** `POST /v2/projects` (202). */
  async createProject(prototype: ProjectPrototype): Promise<ApiProject> {
    return this.json<ApiProject>('POST', '/v2/projects', { body: prototype });
  }

  /** A project by id or name. */
  async getProject(projectId: string): Promise<ApiProject> {
    return this.json<ApiProject>('GET', `/v2/projects/${seg(projectId)}`);
  }

  /** Deletes a project with its jobs and runs (202). */
  async deleteProject(projectId: string): Promise<void> {
    await this.send('DELETE', `/v2/projects/${seg(projectId)}`);
  }

  // ---- jobs ---------------------------------------------------------------------------------

  /** One page of the project's jobs. */
  async listJobs(projectId: string, page: PageOptions = {}): Promise<Page<ApiJob>> {
    return this.page<ApiJob>(`/v2/projects/${seg(projectId)}/jobs`, 'jobs', { ...page });
  }

  /** Every job of the project (follows `next`, 100 per page). */
  async listAllJobs(projectId: string): Promise<ApiJob[]> {
    return this.all((start) => this.listJobs(projectId, { limit: 100, start }));
  }

  /** `POST …/jobs` (201): `name` plus any runtime field; the server fills the defaults. */
  async createJob(projectId: string, prototype: JobPrototype): Promise<ApiJob> {
    return this.json<ApiJob>('POST', `/v2/projects/${seg(projectId)}/jobs`, { body: prototype });
  }

  /** A job and its entity tag (the `ETag` header, else the body's `entity_tag`). */
  async getJob(projectId: string, name: string): Promise<{ job: ApiJob; etag: string }> {
    const res = await this.send('GET', `/v2/projects/${seg(projectId)}/jobs/${seg(name)}`);
    const job = (await res.json()) as ApiJob;
    return { job, etag: res.headers.get('etag') ?? job.entity_tag };
  }

  /**
   * `PATCH …/jobs/{name}` as a JSON merge patch with `If-Match: ifMatch` (`*` = any version).
   * A stale tag fails with `ApiError` status 412 (`precondition_failed`).
   */
  async updateJob(projectId: string, name: string, patch: JobPatchBody, ifMatch: string): Promise<{ job: ApiJob; etag: string }> {
    const res = await this.send('PATCH', `/v2/projects/${seg(projectId)}/jobs/${seg(name)}`, {
      body: patch,
      contentType: 'application/merge-patch+json',
      headers: { 'If-Match': ifMatch },
    });
    const job = (await res.json()) as ApiJob;
    return { job, etag: res.headers.get('etag') ?? job.entity_tag };
  }

  /** Deletes a job and its runs, or keeps the runs with `orphanJobRuns` (202). */
  async deleteJob(projectId: string, name: string, options: { orphanJobRuns?: boolean } = {}): Promise<void> {
    await this.send('DELETE', `/v2/projects/${seg(projectId)}/jobs/${seg(name)}`, {
      query: { orphan_job_runs: options.orphanJobRuns ? true : undefined },
    });
  }

  // ---- job runs -----------------------------------------------------------------------------

  /** One page of the project's job runs, optionally only those of `jobName`. */
  async listJobRuns(projectId: string, options: PageOptions & { jobName?: string } = {}): Promise<Page<ApiJobRun>> {
    return this.page<ApiJobRun>(`/v2/projects/${seg(projectId)}/job_runs`, 'job_runs', {
      job_name: options.jobName,
      limit: options.limit,
      start: options.start,
    });
  }

  /** Every job run of the project (all pages), optionally only those of `jobName`. */
  async listAllJobRuns(projectId: string, options: { jobName?: string } = {}): Promise<ApiJobRun[]> {
    return this.all((start) => this.listJobRuns(projectId, { ...options, limit: 100, start }));
  }

  /** `POST …/job_runs` (202): `job_name` to run a job (with overrides), or a standalone run. */
  async submitJobRun(projectId: string, prototype: JobRunPrototype): Promise<ApiJobRun> {
    return this.json<ApiJobRun>('POST', `/v2/projects/${seg(projectId)}/job_runs`, { body: prototype });
  }

  async getJobRun(projectId: string, name: string): Promise<ApiJobRun> {
    return this.json<ApiJobRun>('GET', `/v2/projects/${seg(projectId)}/job_runs/${seg(name)}`);
  }

  /** Deletes a run; its instances are stopped (202). */
  async deleteJobRun(projectId: string, name: string): Promise<void> {
    await this.send('DELETE', `/v2/projects/${seg(projectId)}/job_runs/${seg(name)}`);
  }

  /** The run's instances (every attempt of every index). */
  async listInstances(projectId: string, jobRun: string): Promise<Instance[]> {
    const body = await this.json<{ instances: Instance[] }>('GET', `${this.runPath(projectId, jobRun)}/instances`);
    return body.instances;
  }

  /** The run's events, or one instance's. */
  async listEvents(projectId: string, jobRun: string, options: { instance?: string } = {}): Promise<RunEvent[]> {
    const body = await this.json<{ events: RunEvent[] }>('GET', `${this.runPath(projectId, jobRun)}/events`, {
      query: { instance: options.instance },
    });
    return body.events;
  }

  /** The logs recorded so far (all instances, or one), optionally the last `tail` records of each. */
  async getLogs(projectId: string, jobRun: string, options: { instance?: string; tail?: number } = {}): Promise<LogsResponse> {
    return this.json<LogsResponse>('GET', `${this.runPath(projectId, jobRun)}/logs`, {
      query: { instance: options.instance, tail: options.tail },
    });
  }

  /**
   * Follows the logs (`follow=true`, NDJSON): the existing records (or the last `tail` of each
   * instance), then new ones as they are written. Ends when the run is finished and every record
   * was sent, or when the run is deleted. Stop early with `signal` or by breaking the loop.
   */
  followLogs(
    projectId: string,
    jobRun: string,
    options: { instance?: string; tail?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<LogStreamRecord> {
    const baseUrl = this.baseUrl;
    const open = (): Promise<Response> =>
      this.send('GET', `${this.runPath(projectId, jobRun)}/logs`, {
        query: { instance: options.instance, tail: options.tail, follow: true },
        headers: { Accept: 'application/x-ndjson' },
        signal: options.signal,
      });
    return {
      async *[Symbol.asyncIterator]() {
        const res = await open();
        if (!res.body) return;
        yield* guardStream(parseNdjson<LogStreamRecord>(res.body), baseUrl, options.signal);
      },
    };
  }

  /** Restarts the run's running instances, or one instance; returns the names restarted. */
  async restartJobRun(projectId: string, jobRun: string, options: { instance?: string } = {}): Promise<{ restarted: string[] }> {
    const body: Record<string, string> = {};
    if (options.instance) body.instance = options.instance;
    return this.json<{ restarted: string[] }>('POST', `${this.runPath(projectId, jobRun)}/restart`, { body });
  }

  /**
   * The project's change stream (server-sent events), optionally only about `jobRun`. Yields
   * `run`, `instance` and `event` messages until the server closes the stream or `signal`
   * aborts; reconnecting is the caller's job. `onOpen` is called once the server accepted the
   * stream (from then on no change is missed), before the first message.
   */
  changes(projectId: string, options: { jobRun?: string; signal?: AbortSignal; onOpen?: () => void } = {}): AsyncIterable<ChangeMessage> {
    const baseUrl = this.baseUrl;
    const open = (): Promise<Response> =>
      this.send('GET', `/v2/projects/${seg(projectId)}/changes`, {
        query: { job_run: options.jobRun },
        headers: { Accept: 'text/event-stream' },
        signal: options.signal,
      });
    return {
      async *[Symbol.asyncIterator]() {
        const res = await open();
        options.onOpen?.();
        if (!res.body) return;
        for await (const msg of guardStream(parseSse(res.body), baseUrl, options.signal)) {
          if (msg.event !== 'run' && msg.event !== 'instance' && msg.event !== 'event') continue;
          let data: unknown;
          try {
            data = JSON.parse(msg.data);
          } catch {
            continue;
          }
          yield { event: msg.event, data } as ChangeMessage;
        }
      },
    };
  }

  // ---- config maps --------------------------------------------------------------------------

  /** One page of the project's config maps. */
  async listConfigMaps(projectId: string, page: PageOptions = {}): Promise<Page<ApiConfigMap>> {
    return this.page<ApiConfigMap>(`/v2/projects/${seg(projectId)}/config_maps`, 'config_maps', { ...page });
  }

  /** Every config map of the project (follows `next`, 100 per page). */
  async listAllConfigMaps(projectId: string): Promise<ApiConfigMap[]> {
    return this.all((start) => this.listConfigMaps(projectId, { limit: 100, start }));
  }

  /** `POST …/config_maps` (201). */
  async createConfigMap(projectId: string, prototype: ConfigMapPrototype): Promise<ApiConfigMap> {
    return this.json<ApiConfigMap>('POST', `/v2/projects/${seg(projectId)}/config_maps`, { body: prototype });
  }

  /** A config map and its entity tag (the `ETag` header, else the body's `entity_tag`). */
  async getConfigMap(projectId: string, name: string): Promise<{ configMap: ApiConfigMap; etag: string }> {
    const res = await this.send('GET', `/v2/projects/${seg(projectId)}/config_maps/${seg(name)}`);
    const configMap = (await res.json()) as ApiConfigMap;
    return { configMap, etag: res.headers.get('etag') ?? configMap.entity_tag };
  }

  /**
   * `PUT …/config_maps/{name}` with `If-Match: ifMatch` (`*` = any version): replaces all data.
   * A stale tag fails with `ApiError` status 412.
   */
  async replaceConfigMap(projectId: string, name: string, data: Record<string, string>, ifMatch: string): Promise<{ configMap: ApiConfigMap; etag: string }> {
    const res = await this.send('PUT', `/v2/projects/${seg(projectId)}/config_maps/${seg(name)}`, {
      body: { data },
      headers: { 'If-Match': ifMatch },
    });
    const configMap = (await res.json()) as ApiConfigMap;
    return { configMap, etag: res.headers.get('etag') ?? configMap.entity_tag };
  }

  /** Deletes a config map (202). */
  async deleteConfigMap(projectId: string, name: string): Promise<void> {
    await this.send('DELETE', `/v2/projects/${seg(projectId)}/config_maps/${seg(name)}`);
  }

  // ---- builds and build runs ---------------------------------------------------------------

  async listBuilds(projectId: string, page: PageOptions = {}): Promise<Page<ApiBuild>> {
    return this.page<ApiBuild>(`/v2/projects/${seg(projectId)}/builds`, 'builds', { ...page });
  }

  async listAllBuilds(projectId: string): Promise<ApiBuild[]> {
    return this.all((start) => this.listBuilds(projectId, { limit: 100, start }));
  }

  /** `POST …/builds` (201). */
  async createBuild(projectId: string, prototype: BuildPrototype): Promise<ApiBuild> {
    return this.json<ApiBuild>('POST', `/v2/projects/${seg(projectId)}/builds`, { body: prototype });
  }

  async getBuild(projectId: string, name: string): Promise<{ build: ApiBuild; etag: string }> {
    const res = await this.send('GET', `/v2/projects/${seg(projectId)}/builds/${seg(name)}`);
    const build = (await res.json()) as ApiBuild;
    return { build, etag: res.headers.get('etag') ?? build.entity_tag };
  }

  /** `PATCH …/builds/{name}` (merge patch; `null` removes a field) with `If-Match`. */
  async updateBuild(projectId: string, name: string, patch: BuildPatchBody, ifMatch: string): Promise<{ build: ApiBuild; etag: string }> {
    const res = await this.send('PATCH', `/v2/projects/${seg(projectId)}/builds/${seg(name)}`, {
      body: patch,
      contentType: 'application/merge-patch+json',
      headers: { 'If-Match': ifMatch },
    });
    const build = (await res.json()) as ApiBuild;
    return { build, etag: res.headers.get('etag') ?? build.entity_tag };
  }

  /** Deletes a build and its build runs (202). */
  async deleteBuild(projectId: string, name: string): Promise<void> {
    await this.send('DELETE', `/v2/projects/${seg(projectId)}/builds/${seg(name)}`);
  }

  /** `PUT …/builds/{name}/source`: the tar of a local build's directory (extension). */
  async uploadBuildSource(projectId: string, name: string, tar: Uint8Array): Promise<{ bytes: number }> {
    return this.json<{ bytes: number }>('PUT', `/v2/projects/${seg(projectId)}/builds/${seg(name)}/source`, {
      raw: tar,
      contentType: 'application/x-tar',
    });
  }

  async listBuildRuns(projectId: string, options: PageOptions & { buildName?: string } = {}): Promise<Page<ApiBuildRun>> {
    return this.page<ApiBuildRun>(`/v2/projects/${seg(projectId)}/build_runs`, 'build_runs', {
      build_name: options.buildName,
      limit: options.limit,
      start: options.start,
    });
  }

  async listAllBuildRuns(projectId: string, options: { buildName?: string } = {}): Promise<ApiBuildRun[]> {
    return this.all((start) => this.listBuildRuns(projectId, { ...options, limit: 100, start }));
  }

  /** `POST …/build_runs` (201): runs the build at once. */
  async submitBuildRun(projectId: string, prototype: BuildRunPrototype): Promise<ApiBuildRun> {
    return this.json<ApiBuildRun>('POST', `/v2/projects/${seg(projectId)}/build_runs`, { body: prototype });
  }

  async getBuildRun(projectId: string, name: string): Promise<ApiBuildRun> {
    return this.json<ApiBuildRun>('GET', `/v2/projects/${seg(projectId)}/build_runs/${seg(name)}`);
  }

  /** Deletes a build run, stopping it when it runs (202). */
  async deleteBuildRun(projectId: string, name: string): Promise<void> {
    await this.send('DELETE', `/v2/projects/${seg(projectId)}/build_runs/${seg(name)}`);
  }

  /** The build log's lines (the last `tail` only, when given). */
  async getBuildRunLogs(projectId: string, name: string, options: { tail?: number } = {}): Promise<string[]> {
    const body = await this.json<{ lines: string[] }>('GET', `/v2/projects/${seg(projectId)}/build_runs/${seg(name)}/logs`, {
      query: { tail: options.tail },
    });
    return body.lines;
  }

  // ---- secrets ------------------------------------------------------------------------------

  /**
   * One page of the project's secrets, optionally only those of `format`. Values read
   * `REDACTED` unless `reveal`.
   */
  async listSecrets(projectId: string, options: PageOptions & { format?: SecretFormat; reveal?: boolean } = {}): Promise<Page<ApiSecret>> {
    return this.page<ApiSecret>(`/v2/projects/${seg(projectId)}/secrets`, 'secrets', {
      format: options.format,
      reveal: options.reveal ? true : undefined,
      limit: options.limit,
      start: options.start,
    });
  }

  /** Every secret of the project (all pages), optionally only those of `format`. */
  async listAllSecrets(projectId: string, options: { format?: SecretFormat; reveal?: boolean } = {}): Promise<ApiSecret[]> {
    return this.all((start) => this.listSecrets(projectId, { ...options, limit: 100, start }));
  }

  /** `POST …/secrets` (201). */
  async createSecret(projectId: string, prototype: SecretPrototype): Promise<ApiSecret> {
    return this.json<ApiSecret>('POST', `/v2/projects/${seg(projectId)}/secrets`, { body: prototype });
  }

  /** A secret and its entity tag; its values read `REDACTED` unless `reveal` (`?reveal=true`). */
  async getSecret(projectId: string, name: string, options: { reveal?: boolean } = {}): Promise<{ secret: ApiSecret; etag: string }> {
    const res = await this.send('GET', `/v2/projects/${seg(projectId)}/secrets/${seg(name)}`, {
      query: { reveal: options.reveal ? true : undefined },
    });
    const secret = (await res.json()) as ApiSecret;
    return { secret, etag: res.headers.get('etag') ?? secret.entity_tag };
  }

  /**
   * `PUT …/secrets/{name}` with `If-Match: ifMatch`: replaces all data (`format`, when given,
   * must be the secret's). A stale tag fails with `ApiError` status 412.
   */
  async replaceSecret(projectId: string, name: string, body: SecretReplaceBody, ifMatch: string): Promise<{ secret: ApiSecret; etag: string }> {
    const res = await this.send('PUT', `/v2/projects/${seg(projectId)}/secrets/${seg(name)}`, {
      body,
      headers: { 'If-Match': ifMatch },
    });
    const secret = (await res.json()) as ApiSecret;
    return { secret, etag: res.headers.get('etag') ?? secret.entity_tag };
  }

  /** Deletes a secret (202). */
  async deleteSecret(projectId: string, name: string): Promise<void> {
    await this.send('DELETE', `/v2/projects/${seg(projectId)}/secrets/${seg(name)}`);
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private runPath(projectId: string, jobRun: string): string {
    return `/v2/projects/${seg(projectId)}/job_runs/${seg(jobRun)}`;
  }

  private async page<T>(path: string, key: string, query: Query): Promise<Page<T>> {
    const body = await this.json<Record<string, unknown>>('GET', path, { query });
    const page: Page<T> = { items: (body[key] as T[] | undefined) ?? [], limit: Number(body.limit ?? 0) };
    if (body.first) page.first = body.first as Page<T>['first'] & object;
    if (body.next) page.next = body.next as Page<T>['next'] & object;
    return page;
  }

  private async all<T>(fetchPage: (start: string | undefined) => Promise<Page<T>>): Promise<T[]> {
    const out: T[] = [];
    let start: string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const page = await fetchPage(start);
      out.push(...page.items);
      const next = page.next?.start;
      if (!next || seen.has(next)) return out;
      seen.add(next);
      start = next;
    }
  }

  private async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Sends a request; returns a 2xx response, throws `ApiError` for anything else. */
  private async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: 'application/json',
      ...options.headers,
    };
    const init: RequestInit = { method, headers };
    if (options.raw !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
      init.body = new Blob([options.raw as Uint8Array<ArrayBuffer>]);
    } else if (options.body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason ?? e;
      throw ApiError.unreachable(this.baseUrl, e);
    }
    if (res.ok) return res;
    let text = '';
    try {
      text = await res.text();
    } catch {
      // body unreadable: keep the status only
    }
    throw ApiError.fromBody(res.status, text);
  }
}
