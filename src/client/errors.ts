/**
 * `ApiError`: every failure of a `CejobsClient` call. Built from the API's error body
 * (`{errors: [{code, message, target?}], status_code, trace}`, docs/api.md); a server that
 * cannot be reached is `status 0`, `code 'unreachable'`.
 */
import type { ApiErrorItem } from './types.js';

export class ApiError extends Error {
  /** HTTP status; `0` when the server could not be reached. */
  readonly status: number;
  /** Code of the first error (`not_found`, `invalid_field`, ..., or `unreachable`). */
  readonly code: string;
  /** Every error the server reported (at least one). */
  readonly errors: ApiErrorItem[];
  /** The server's trace id, when it sent one. */
  readonly trace?: string;

  constructor(status: number, errors: ApiErrorItem[], trace?: string) {
    const list = errors.length > 0 ? errors : [{ code: `http_${status}`, message: `request failed with HTTP status ${status}` }];
    super(list.map((e) => e.message).join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.code = list[0]!.code;
    this.errors = list;
    if (trace !== undefined) this.trace = trace;
  }

  /** The error of a server that did not answer at `url`. */
  static unreachable(url: string, cause: unknown): ApiError {
    const detail = describeCause(cause);
    return new ApiError(0, [
      { code: 'unreachable', message: `cannot reach the cejobs server at ${url}${detail ? ` (${detail})` : ''}` },
    ]);
  }

  /**
   * The error for a response with status `status` and body text `text`: the API's error body
   * when it is one, otherwise a generic error quoting the start of the body.
   */
  static fromBody(status: number, text: string): ApiError {
    try {
      const body = JSON.parse(text) as { errors?: unknown; trace?: unknown };
      if (body && Array.isArray(body.errors)) {
        const items: ApiErrorItem[] = [];
        for (const e of body.errors as unknown[]) {
          if (!e || typeof e !== 'object') continue;
          const r = e as Record<string, unknown>;
          const item: ApiErrorItem = {
            code: typeof r.code === 'string' ? r.code : `http_${status}`,
            message: typeof r.message === 'string' ? r.message : JSON.stringify(r),
          };
          const t = r.target as Record<string, unknown> | undefined;
          if (t && typeof t === 'object' && typeof t.name === 'string') {
            item.target = { type: typeof t.type === 'string' ? t.type : 'field', name: t.name };
          }
          items.push(item);
        }
        return new ApiError(status, items, typeof body.trace === 'string' ? body.trace : undefined);
      }
    } catch {
      // not JSON: fall through
    }
    const snippet = text.trim().slice(0, 200);
    return new ApiError(status, [
      { code: `http_${status}`, message: `request failed with HTTP status ${status}${snippet ? `: ${snippet}` : ''}` },
    ]);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return cause === undefined ? '' : String(cause);
  const inner = (cause as { cause?: unknown }).cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return typeof code === 'string' ? code : inner.message;
  }
  return cause.message;
}
