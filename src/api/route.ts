/**
 * The route table's types and the HTTP-level input checks shared by every route.
 *
 * A `RouteDef` is both what `app.ts` registers with Fastify and what `openapi.ts` describes, so
 * the two cannot drift. A route declares its query parameters (checked here, each failure a
 * 400 naming the parameter), its request body (media types; checked here: 415 for another
 * `Content-Type`, 400 naming `body` for a body that is not a JSON object) and its responses.
 * Path parameters are declared once in `PATH_PARAMS` and checked for every route.
 * Resource bodies themselves are validated by the engine (it throws `CejobsError`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { checkConfigName, checkJobName, checkJobRunName } from '../domain/names.js';
import type { FieldIssue } from '../domain/errors.js';
import { CejobsError } from '../domain/errors.js';
import { ApiError } from './errors.js';
import type { SchemaName } from './schemas.js';
import type { ServerInfo } from './types.js';
import type { StreamLimiter } from './streams.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** `application/x-tar`: a raw stream the handler reads from `request.body` (source uploads). */
export type MediaType = 'application/json' | 'application/merge-patch+json' | 'application/x-tar';
export type ResponseMediaType = 'application/json' | 'application/x-ndjson' | 'text/event-stream';

/** A query parameter: its type and rule (checked before the handler runs). */
export interface QueryParamDef {
  name: string;
  description: string;
  type: 'integer' | 'boolean' | 'string';
  minimum?: number;
  maximum?: number;
  /** For strings: the value must match (after the length check). */
  pattern?: RegExp;
  /** For strings: the rule in words, for the error message (default: the pattern). */
  rule?: string;
  maxLength?: number;
  /** Extra check of a string value, returning issues naming the parameter. */
  check?: (value: string) => FieldIssue[];
  /** Value when absent (documented as the default). */
  default?: number | boolean;
}

/** A documented request header (checked by the handler, which knows what is missing means). */
export interface HeaderDef {
  name: string;
  description: string;
  required: boolean;
}

export interface BodyDef {
  schema: SchemaName;
  mediaTypes: readonly MediaType[];
  /** False when a route also accepts no body at all (e.g. restart). */
  required: boolean;
}

export interface ResponseDef {
  description: string;
  schema?: SchemaName;
  mediaType?: ResponseMediaType;
  /** Response headers set on success (documented). */
  headers?: readonly ('ETag' | 'Allow')[];
}

/** Query values after checking: integers and booleans converted. */
export type QueryValues = Record<string, string | number | boolean | undefined>;

/** What a handler gets. */
export interface RouteContext {
  request: FastifyRequest;
  reply: FastifyReply;
  params: Record<string, string>;
  query: QueryValues;
  /** The JSON body when the route has one: a plain object, or undefined when optional and absent. */
  body: Record<string, unknown> | undefined;
}

/** Shared by the route factories. */
export interface ApiContext {
  engine: Engine;
  server: () => ServerInfo;
  streams: StreamLimiter;
  keepAliveMs: number;
  onInternalError: (error: unknown, trace: string) => void;
}

export interface RouteDef {
  method: HttpMethod;
  /** OpenAPI style: `/v2/projects/{project_id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: 'projects' | 'jobs' | 'job runs' | 'config maps' | 'secrets' | 'builds' | 'build runs' | 'extensions' | 'server';
  query?: readonly QueryParamDef[];
  headers?: readonly HeaderDef[];
  body?: BodyDef;
  responses: Readonly<Record<number, ResponseDef>>;
  /** Returns the body to send (the handler sets the status), or the reply when it sent or hijacked. */
  handler: (ctx: RouteContext) => Promise<unknown>;
}

/** Every path parameter, with the check of its value (a 400 naming the parameter). */
export const PATH_PARAMS: Record<string, { description: string; check: (v: string) => FieldIssue[] }> = {
  project_id: {
    description: "The project's id (or its name).",
    check: (v) =>
      v.length > 0 && v.length <= 128 && /^[\p{L}\p{N} .:_-]+$/u.test(v) && v !== '.' && v !== '..'
        ? []
        : [{ code: 'invalid_field', field: 'project_id', message: `project_id ${JSON.stringify(v.slice(0, 80))} is not valid: it must be a project id or name (1-128 letters, digits, spaces and . : _ -)` }],
  },
  job_name: { description: 'The name of the job.', check: (v) => checkJobName(v, 'job_name') },
  job_run_name: { description: 'The name of the job run.', check: (v) => checkJobRunName(v, 'job_run_name') },
  config_map_name: { description: 'The name of the config map.', check: (v) => checkConfigName(v, 'config_map_name') },
  secret_name: { description: 'The name of the secret.', check: (v) => checkConfigName(v, 'secret_name') },
  build_name: { description: 'The name of the build.', check: (v) => checkJobName(v, 'build_name') },
  build_run_name: { description: 'The name of the build run.', check: (v) => checkJobName(v, 'build_run_name') },
};

/** The name of an instance as a query parameter. */
export const INSTANCE_PARAM: QueryParamDef = {
  name: 'instance',
  description: 'Only this instance (`<job run>-<index>-<retry>`).',
  type: 'string',
  maxLength: 80,
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  rule: 'it must be an instance name <job run>-<index>-<retry>',
};

/** `?version=YYYY-MM-DD`, accepted on every route and ignored. */
export const VERSION_PARAM: QueryParamDef = {
  name: 'version',
  description: 'API version date `YYYY-MM-DD` (accepted and ignored, as Code Engine SDKs send it).',
  type: 'string',
  maxLength: 10,
  pattern: /^\d{4}-\d{2}-\d{2}$/,
  rule: 'it must be a date YYYY-MM-DD',
  check: (v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v
      ? []
      : [{ code: 'invalid_field', field: 'version', message: `version ${JSON.stringify(v)} is not valid: it must be a date YYYY-MM-DD` }];
  },
};

/** `?limit` and `?start` of every list. */
export const PAGE_PARAMS: readonly QueryParamDef[] = [
  { name: 'limit', description: 'Page size, 1-100.', type: 'integer', minimum: 1, maximum: 100, default: 50 },
  { name: 'start', description: 'The `next.start` token of the previous page.', type: 'string', maxLength: 1024, pattern: /^[A-Za-z0-9_-]+$/, rule: 'it must be the next.start token of a previous page' },
];

/** The `{name}` parameters of an OpenAPI path, in order. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]!);
}

/** `/v2/projects/{project_id}` → `/v2/projects/:project_id` (Fastify). */
export function fastifyPath(path: string): string {
  return path.replace(/\{([a-z_]+)\}/g, ':$1');
}

/** A matcher of concrete URL paths for an OpenAPI path (for 405 detection). */
export function pathMatcher(path: string): RegExp {
  const re = path
    .split(/(\{[a-z_]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}/?$`);
}

/** Checks the path parameters; throws a 400 naming the first bad one(s). */
export function checkPathParams(path: string, raw: unknown): Record<string, string> {
  const params = (raw ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  const issues: FieldIssue[] = [];
  for (const name of pathParamNames(path)) {
    const v = params[name];
    const value = typeof v === 'string' ? v : '';
    const def = PATH_PARAMS[name];
    if (def) issues.push(...def.check(value).map((i) => ({ ...i, code: 'invalid_field' as const, field: name })));
    out[name] = value;
  }
  if (issues.length) throw CejobsError.fromIssues(issues);
  return out;
}

/** Checks the declared query parameters (and `version`); unknown parameters are ignored. */
export function checkQuery(defs: readonly QueryParamDef[], raw: unknown): QueryValues {
  const query = (raw ?? {}) as Record<string, unknown>;
  const out: QueryValues = {};
  const issues: FieldIssue[] = [];
  const bad = (name: string, rule: string, v: unknown): void => {
    issues.push({ code: 'invalid_field', field: name, message: `${name} ${JSON.stringify(String(v).slice(0, 80))} is not valid: ${rule}` });
  };
  for (const def of [VERSION_PARAM, ...defs]) {
    const v = query[def.name];
    if (v === undefined) {
      out[def.name] = def.default;
      continue;
    }
    if (typeof v !== 'string') {
      issues.push({ code: 'invalid_field', field: def.name, message: `${def.name} is given more than once; give it once` });
      continue;
    }
    if (def.type === 'integer') {
      const min = def.minimum ?? 0;
      const max = def.maximum ?? Number.MAX_SAFE_INTEGER;
      const range = def.maximum === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
      if (!/^\d{1,16}$/.test(v)) bad(def.name, `it must be ${range}`, v);
      else if (Number(v) < min || Number(v) > max) bad(def.name, `it must be ${range}`, v);
      else out[def.name] = Number(v);
    } else if (def.type === 'boolean') {
      if (v !== 'true' && v !== 'false') bad(def.name, 'it must be true or false', v);
      else out[def.name] = v === 'true';
    } else {
      const before = issues.length;
      if (v.length === 0 || (def.maxLength !== undefined && v.length > def.maxLength)) {
        bad(def.name, `it must be 1-${def.maxLength ?? '∞'} characters`, v);
      } else if (def.pattern && !def.pattern.test(v)) {
        bad(def.name, def.rule ?? `it must match ${def.pattern.source}`, v);
      } else if (def.check) {
        issues.push(...def.check(v).map((i) => ({ ...i, code: 'invalid_field' as const, field: def.name })));
      }
      if (issues.length === before) out[def.name] = v;
    }
  }
  if (issues.length) throw CejobsError.fromIssues(issues);
  return out;
}

/** The media type of a `Content-Type` header, lower-cased without parameters. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** Checks the body of a route that declares one; returns the object (or undefined when optional and absent). */
export function checkBody(def: BodyDef, request: FastifyRequest): Record<string, unknown> | undefined {
  const body: unknown = request.body;
  if (def.mediaTypes.includes('application/x-tar')) {
    // A raw upload: only the media type is checked here; the handler reads the stream.
    const type = mediaTypeOf(request.headers['content-type']);
    if (type === undefined || !(def.mediaTypes as readonly string[]).includes(type)) {
      throw new ApiError('unsupported_media_type', `Content-Type ${type ?? '(none)'} is not supported here; send ${def.mediaTypes.join(' or ')}`, {
        field: 'Content-Type',
      });
    }
    return undefined;
  }
  if (body === undefined) {
    if (!def.required) return undefined;
    throw new ApiError('missing_field', `body: a JSON object (${def.schema}) is required, with Content-Type ${def.mediaTypes.join(' or ')}`, { field: 'body' });
  }
  const type = mediaTypeOf(request.headers['content-type']);
  if (type === undefined || !(def.mediaTypes as readonly string[]).includes(type)) {
    throw new ApiError('unsupported_media_type', `Content-Type ${type ?? '(none)'} is not supported here; send ${def.mediaTypes.join(' or ')}`, {
      field: 'Content-Type',
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw ApiError.invalidParam('body', `body must be a JSON object (${def.schema}), got ${got}`);
  }
  return body as Record<string, unknown>;
}
