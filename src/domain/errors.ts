/**
 * Errors with stable codes. Every error a user can cause is a `CejobsError` whose `code` is one
 * of `ERROR_CODES` (documented in docs/errors.md; a test keeps the two in sync) and whose
 * `status` is the HTTP status the API answers with. Validation errors carry one `FieldIssue`
 * per broken rule, each naming the field, the value and the rule.
 *
 * Internal failures (a bug, a driver that cannot be reached) are not `CejobsError`s; the API
 * maps them to 5xx without their detail.
 */

export const ERROR_CODES = {
  invalid_field: { status: 400, summary: 'A field has a wrong type or breaks a rule.' },
  missing_field: { status: 400, summary: 'A required field is missing.' },
  unknown_field: { status: 400, summary: 'A field that the resource does not have.' },
  invalid_name: { status: 400, summary: 'A name breaks the naming rule of its resource.' },
  invalid_array_spec: { status: 400, summary: 'An array spec is not a valid list of indices and ranges.' },
  invalid_resources: { status: 400, summary: 'cpu, memory or ephemeral storage is not an allowed value or pair.' },
  not_allowed_in_daemon_mode: { status: 400, summary: 'scale_max_execution_time or scale_retry_limit in daemon mode.' },
  object_too_large: { status: 400, summary: 'A job or job run is larger than 10 KiB, or the data of a config map or secret larger than 1 MiB.' },
  image_override_not_allowed: { status: 400, summary: 'A run that references a job may not set its own image.' },
  command_required: { status: 400, summary: 'The driver needs run_commands (the process driver pulls no image).' },
  not_found: { status: 404, summary: 'The named resource does not exist.' },
  already_exists: { status: 409, summary: 'A resource with that name exists already.' },
  precondition_failed: { status: 412, summary: 'If-Match does not match the entity tag.' },
  build_source_missing: { status: 400, summary: 'A build run of a local build whose source was not uploaded.' },
  build_not_ready: { status: 409, summary: 'The job waits for its build run, which has not succeeded (yet).' },
  builds_unavailable: { status: 503, summary: 'The server has no builder for its driver, so builds cannot run.' },
  secrets_unavailable: { status: 503, summary: 'No secret key is configured, so secrets cannot be stored or read.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One broken rule of one field. */
export interface FieldIssue {
  code: ErrorCode;
  /** JSON path of the field, e.g. `scale_array_spec` or `run_env_variables[2].name`. */
  field: string;
  /** Full sentence naming the field, the value and the rule. */
  message: string;
}

export class CejobsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The broken rules, when the error is about input fields. */
  readonly issues: readonly FieldIssue[];

  constructor(code: ErrorCode, message: string, issues: readonly FieldIssue[] = []) {
    super(message);
    this.name = 'CejobsError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.issues = issues;
  }

  /** One error for a list of field issues (the first issue's code is the error's code). */
  static fromIssues(issues: readonly FieldIssue[]): CejobsError {
    if (issues.length === 0) throw new Error('fromIssues needs at least one issue');
    const message = issues.map((i) => i.message).join('; ');
    return new CejobsError(issues[0]!.code, message, issues);
  }

  static notFound(kind: string, name: string): CejobsError {
    return new CejobsError('not_found', `${kind} '${name}' was not found.`);
  }

  static alreadyExists(kind: string, name: string): CejobsError {
    return new CejobsError('already_exists', `${kind} '${name}' already exists; choose another name.`);
  }
}

export function isCejobsError(e: unknown): e is CejobsError {
  return e instanceof CejobsError;
}

/** Turns anything thrown into an Error (never lose a non-Error throwable's text). */
export function coerceError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : JSON.stringify(e));
}

/** Renders a value for an error message: short, quoted, never a multi-KiB dump. */
export function showValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else if (v === undefined) s = 'undefined';
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
