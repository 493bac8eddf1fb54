/**
 * Errors of the REST API, in one place.
 *
 * Every error response has the body of docs/api.md:
 *
 *     {"errors":[{"code","message","target"?:{"type":"field","name"}}],"status_code":N,"trace":"<uuid>"}
 *
 * - `CejobsError` (engine and domain): its `status`; one entry per field issue, each with a
 *   `target` naming the field.
 * - `ApiError` (this layer: query and path parameters, headers, media types, limits): the same.
 * - Fastify's own errors: a body that is not JSON → 400 `invalid_json`, an unsupported
 *   `Content-Type` → 415, a body over the limit → 413, any other 4xx → that status with
 *   `invalid_request`.
 * - Anything else is a bug: 500 `internal_error` with the trace id and no detail; the real error
 *   is logged server-side with the same trace id.
 *
 * 401 is answered by the auth hook (auth.ts) with its fixed body and nothing else.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CejobsError, ERROR_CODES, type ErrorCode, type FieldIssue } from '../domain/errors.js';

/** Codes the API adds to the engine's (`ErrorCode`, docs/errors.md). */
export type ApiErrorCode =
  | 'unauthorized'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'precondition_required'
  | 'method_not_allowed'
  | 'route_not_found'
  | 'payload_too_large'
  | 'too_many_streams'
  | 'invalid_request'
  | 'internal_error';

/** HTTP status of each API code. */
export const API_ERROR_STATUS: Record<ApiErrorCode, number> = {
  unauthorized: 401,
  invalid_json: 400,
  unsupported_media_type: 415,
  precondition_required: 428,
  method_not_allowed: 405,
  route_not_found: 404,
  payload_too_large: 413,
  too_many_streams: 429,
  invalid_request: 400,
  internal_error: 500,
};

/** Any code a client can see in `errors[].code`. */
export type AnyErrorCode = ErrorCode | ApiErrorCode;

/** One entry of `errors[]`. */
export interface ErrorEntry {
  code: AnyErrorCode;
  message: string;
  target?: { type: 'field'; name: string };
}

/** The error body of every non-2xx response (except 401, which has no `trace`). */
export interface ErrorBody {
  errors: ErrorEntry[];
  status_code: number;
  trace?: string;
}

/**
 * An error this layer raises about the HTTP request itself. `field` names the parameter,
 * header or `body` at fault (it becomes `target.name`). `headers` are set on the response
 * (e.g. `Allow` on a 405).
 */
export class ApiError extends Error {
  readonly code: AnyErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;

  constructor(code: AnyErrorCode, message: string, options: { field?: string; status?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = options.status ?? (code in API_ERROR_STATUS ? API_ERROR_STATUS[code as ApiErrorCode] : ERROR_CODES[code as ErrorCode].status);
    this.field = options.field;
    this.headers = options.headers ?? {};
  }

  /** `400 invalid_field` about a query/path parameter, header or the body. */
  static invalidParam(field: string, message: string): ApiError {
    return new ApiError('invalid_field', message, { field });
  }
}

/** Error entries of a `CejobsError`: one per issue (with its field), or one for the error. */
export function entriesOf(error: CejobsError): ErrorEntry[] {
  if (error.issues.length === 0) return [{ code: error.code, message: error.message }];
  return error.issues.map((i: FieldIssue) => ({ code: i.code, message: i.message, target: { type: 'field', name: i.field } }));
}

/** Builds the error body for a status and its entries. */
export function errorBody(status: number, errors: ErrorEntry[], trace: string): ErrorBody {
  return { errors, status_code: status, trace };
}

/** What a client is told for an error, and whether it is a bug to log. */
export function describeError(error: unknown): { status: number; entries: ErrorEntry[]; headers: Record<string, string>; internal: boolean } {
  if (error instanceof CejobsError) return { status: error.status, entries: entriesOf(error), headers: {}, internal: false };
  if (error instanceof ApiError) {
    const entry: ErrorEntry = { code: error.code, message: error.message };
    if (error.field !== undefined) entry.target = { type: 'field', name: error.field };
    return { status: error.status, entries: [entry], headers: error.headers, internal: false };
  }
  const fastify = fastifyClientError(error);
  if (fastify) return { ...fastify, headers: {}, internal: false };
  return {
    status: 500,
    entries: [{ code: 'internal_error', message: 'internal error; the server logged it with this trace id' }],
    headers: {},
    internal: true,
  };
}

/** Maps Fastify's client errors (body parsing, media type, size, bad URL) to our codes. */
function fastifyClientError(error: unknown): { status: number; entries: ErrorEntry[] } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Partial<FastifyError>;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return one(415, 'unsupported_media_type', 'this Content-Type is not supported; send application/json', 'Content-Type');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return one(413, 'payload_too_large', 'the request body is larger than the limit of 1 MiB', 'body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return one(400, 'invalid_json', 'the request body is not valid JSON', 'body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return one(400, 'invalid_request', 'Content-Length does not match the body', 'Content-Length');
    case 'FST_ERR_BAD_URL':
      return one(400, 'invalid_request', 'the URL is not valid (bad percent-encoding?)');
  }
  if (error instanceof SyntaxError && status === 400) return one(400, 'invalid_json', 'the request body is not valid JSON', 'body');
  if (status !== undefined && status >= 400 && status < 500) {
    return one(status, 'invalid_request', 'the request is not valid');
  }
  return undefined;
}

function one(status: number, code: AnyErrorCode, message: string, field?: string): { status: number; entries: ErrorEntry[] } {
  const entry: ErrorEntry = { code, message };
  if (field !== undefined) entry.target = { type: 'field', name: field };
  return { status, entries: [entry] };
}

/**
 * What the server logs of an internal error: its name, message and stack, nothing else. Never
 * the request (its body may hold a secret) and no enumerable properties of the error (a
 * library's error may carry the input it choked on).
 */
export function internalErrorSummary(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return `non-Error thrown (${typeof error})`;
}

/** Sends an error response for `error` (used by the error handler and by stream routes before they hijack). */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  onInternalError: (error: unknown, trace: string) => void,
): FastifyReply {
  const d = describeError(error);
  const trace = request.id;
  if (d.internal) {
    request.log.error({ trace, error: internalErrorSummary(error) }, 'internal error');
    onInternalError(error, trace);
  }
  for (const [k, v] of Object.entries(d.headers)) reply.header(k, v);
  return reply.code(d.status).type('application/json; charset=utf-8').send(errorBody(d.status, d.entries, trace));
}

/** Installs the one error handler of the app. */
export function installErrorHandler(app: FastifyInstance, onInternalError: (error: unknown, trace: string) => void): void {
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error, onInternalError));
}
