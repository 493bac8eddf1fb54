/**
 * Validation entry points of the engine: job prototypes, job patches, job-run prototypes.
 *
 * Input is `unknown` (parsed JSON from a client): every field's type is checked, unknown fields
 * are rejected, ALL issues are collected and thrown together as one
 * `CejobsError.fromIssues(issues)`; each issue names the field, the value and the rule.
 * `null` for an optional field means "not set" (the default applies); in a patch it removes
 * the field (JSON merge patch, RFC 7386), which also means "back to the default".
 */
import { checkArraySpec, normalizeArraySpec } from './array-spec.js';
import { LIMITS, TASK_ONLY_FIELDS, withDefaults } from './defaults.js';
import { checkEnvVars, checkVolumeMounts, mergeEnvVars, toEnvVars, toVolumeMounts } from './env-vars.js';
import { CejobsError, showValue, type FieldIssue } from './errors.js';
import { has, invalid, isPlainObject, issue, jsonType, throwIfAny } from './issues.js';
import { checkConfigName, checkJobName, checkJobRunName } from './names.js';
import { checkResources } from './quantities.js';
import { RUN_MODES, RUNTIME_FIELDS, SERVICE_ACCOUNTS, type RuntimeSpec } from './types.js';

type Obj = Record<string, unknown>;
type TaskOnlyField = (typeof TASK_ONLY_FIELDS)[number];

/** Largest `scale_array_size_variable_override`: one more than the largest index (9999999). */
export const MAX_ARRAY_SIZE_OVERRIDE = 10_000_000;

const JOB_FIELDS: readonly string[] = ['name', ...RUNTIME_FIELDS];
const JOB_PATCH_FIELDS: readonly string[] = [...RUNTIME_FIELDS];
const RUN_FIELDS: readonly string[] = ['name', 'job_name', 'scale_array_size_variable_override', ...RUNTIME_FIELDS];

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)';
const IMAGE_REFERENCE = new RegExp(
  `^${HOST}?${COMPONENT}(?:/${COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

const DAEMON_REASON: Record<TaskOnlyField, string> = {
  scale_max_execution_time: 'daemon instances run without a deadline',
  scale_retry_limit: 'daemon instances are restarted without limit',
};

function set(obj: Obj, key: string): boolean {
  return has(obj, key) && obj[key] !== undefined && obj[key] !== null;
}

function notAnObject(field: 'job' | 'job_run', what: string, input: unknown): CejobsError {
  return CejobsError.fromIssues([invalid('invalid_field', field, input, `a ${what} must be a JSON object (got ${jsonType(input)})`)]);
}

function checkUnknown(obj: Obj, allowed: readonly string[], kind: string, issues: FieldIssue[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const why = key === 'name' ? 'the name of a job cannot be changed' : `a ${kind} has the fields ${allowed.join(', ')}`;
    issues.push(issue('unknown_field', key, `${key} (value ${showValue(obj[key])}) is not a known field: ${why}`));
  }
}

function checkInt(v: unknown, field: string, min: number, max: number, what: string, issues: FieldIssue[]): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    issues.push(invalid('invalid_field', field, v, `${what} is an integer from ${min} to ${max}`));
    return undefined;
  }
  return v;
}

function checkStringList(v: unknown, field: string, issues: FieldIssue[]): string[] | undefined {
  if (!Array.isArray(v)) {
    issues.push(invalid('invalid_field', field, v, `${field} must be an array of strings (got ${jsonType(v)})`));
    return undefined;
  }
  if (v.length > LIMITS.listItems) {
    issues.push(issue('invalid_field', field, `${field} has ${v.length} entries, more than the limit of ${LIMITS.listItems}`));
    return undefined;
  }
  const bad = v.findIndex((x) => typeof x !== 'string');
  if (bad >= 0) {
    issues.push(invalid('invalid_field', `${field}[${bad}]`, v[bad], `${field} must contain only strings (got ${jsonType(v[bad])})`));
    return undefined;
  }
  return [...(v as string[])];
}

function checkEnum<T extends string>(v: unknown, field: string, values: readonly T[], issues: FieldIssue[]): T | undefined {
  if (typeof v !== 'string' || !values.includes(v as T)) {
    issues.push(invalid('invalid_field', field, v, `${field} must be one of ${values.join(', ')}`));
    return undefined;
  }
  return v as T;
}

/**
 * `image_reference`: a string of ≤ 256 characters shaped `[registry[:port]/]namespace/repo
 * [:tag][@sha256:<64 hex>]` with a lowercase repository path (reference §1.1, §5.3; loose).
 */
function checkImageReference(v: unknown, field: string): FieldIssue[] {
  const rule = `an image reference is at most ${LIMITS.imageReferenceLength} characters shaped [registry/]namespace/repository[:tag][@sha256:digest], with a lowercase repository path`;
  if (typeof v !== 'string') return [invalid('invalid_field', field, v, `${rule} (got ${jsonType(v)})`)];
  if (v.length === 0 || v.length > LIMITS.imageReferenceLength || !IMAGE_REFERENCE.test(v)) {
    return [invalid('invalid_field', field, v, v.length > LIMITS.imageReferenceLength ? `${rule} (it has ${v.length})` : rule)];
  }
  return [];
}

/**
 * Type-checks and normalises the runtime fields `obj` sets (non-null); returns them and the
 * names of resource fields that failed their type check (their pair check is then skipped).
 */
function readRuntime(obj: Obj, issues: FieldIssue[]): { partial: Partial<RuntimeSpec>; badResources: boolean } {
  const out: Partial<RuntimeSpec> = {};
  let badResources = false;
  for (const field of RUNTIME_FIELDS) {
    if (!set(obj, field)) continue;
    const v = obj[field];
    switch (field) {
      case 'image_reference': {
        const found = checkImageReference(v, field);
        issues.push(...found);
        if (found.length === 0) out.image_reference = v as string;
        break;
      }
      case 'image_secret': {
        const found = checkConfigName(v, field);
        issues.push(...found);
        if (found.length === 0) out.image_secret = v as string;
        break;
      }
      case 'run_mode': {
        const mode = checkEnum(v, field, RUN_MODES, issues);
        if (mode) out.run_mode = mode;
        break;
      }
      case 'run_commands':
      case 'run_arguments': {
        const list = checkStringList(v, field, issues);
        if (list) out[field] = list;
        break;
      }
      case 'run_env_variables': {
        const found = checkEnvVars(v, field);
        issues.push(...found);
        if (found.length === 0) out.run_env_variables = toEnvVars(v as Obj[]);
        break;
      }
      case 'run_volume_mounts': {
        const found = checkVolumeMounts(v, field);
        issues.push(...found);
        if (found.length === 0) out.run_volume_mounts = toVolumeMounts(v as Obj[]);
        break;
      }
      case 'run_as_user': {
        const n = checkInt(v, field, LIMITS.runAsUser.min, LIMITS.runAsUser.max, 'a user id', issues);
        if (n !== undefined) out.run_as_user = n;
        break;
      }
      case 'run_service_account': {
        const sa = checkEnum(v, field, SERVICE_ACCOUNTS, issues);
        if (sa) out.run_service_account = sa;
        break;
      }
      case 'run_compute_resource_token_enabled':
        if (typeof v !== 'boolean') issues.push(invalid('invalid_field', field, v, `${field} must be a boolean (got ${jsonType(v)})`));
        else out.run_compute_resource_token_enabled = v;
        break;
      case 'scale_array_spec': {
        const found = checkArraySpec(v, field);
        issues.push(...found);
        if (found.length === 0) out.scale_array_spec = normalizeArraySpec(v as string, field);
        break;
      }
      case 'scale_cpu_limit':
      case 'scale_memory_limit':
      case 'scale_ephemeral_storage_limit':
        if (typeof v !== 'string') {
          issues.push(invalid('invalid_resources', field, v, `${field} must be a string such as "1", "4G" or "400M" (got ${jsonType(v)})`));
          badResources = true;
        } else out[field] = v;
        break;
      case 'scale_max_execution_time': {
        const { min, max } = LIMITS.maxExecutionTime;
        const n = checkInt(v, field, min, max, 'the max execution time (seconds)', issues);
        if (n !== undefined) out.scale_max_execution_time = n;
        break;
      }
      case 'scale_retry_limit': {
        const { min, max } = LIMITS.retryLimit;
        const n = checkInt(v, field, min, max, 'the retry limit', issues);
        if (n !== undefined) out.scale_retry_limit = n;
        break;
      }
    }
  }
  return { partial: out, badResources };
}

/** `not_allowed_in_daemon_mode` for each task-only field `obj` sets while the mode is daemon. */
function checkDaemon(obj: Obj, mode: unknown, issues: FieldIssue[]): void {
  if (mode !== 'daemon') return;
  for (const f of TASK_ONLY_FIELDS) {
    if (!set(obj, f)) continue;
    issues.push(
      issue('not_allowed_in_daemon_mode', f, `${f} ${showValue(obj[f])} is not allowed in daemon mode: ${DAEMON_REASON[f]}`),
    );
  }
}

/** Defaults, then the checks on the whole spec: resources (unless a resource field was bad). */
function complete(partial: Partial<RuntimeSpec>, badResources: boolean, issues: FieldIssue[]): RuntimeSpec {
  const spec = withDefaults(partial);
  if (!badResources) issues.push(...checkResources(spec));
  return spec;
}

/**
 * Size rule of reference §4.1: the job or job run as JSON (UTF-8) is at most 10 KiB (10240
 * bytes); commands, arguments and env vars count toward it. `obj` is what the user controls
 * (name + runtime fields, + job_name and the override for a run), not server metadata.
 * Decision (reference silent on how the size is measured). Issue code `object_too_large`,
 * field `job` or `job_run`.
 */
export function checkObjectSize(obj: unknown, kind: 'job' | 'job run'): FieldIssue[] {
  const size = new TextEncoder().encode(JSON.stringify(obj) ?? '').length;
  if (size <= LIMITS.objectSizeBytes) return [];
  const field = kind === 'job' ? 'job' : 'job_run';
  return [
    issue(
      'object_too_large',
      field,
      `the ${field} object is ${size} bytes as JSON, more than the limit of ${LIMITS.objectSizeBytes} bytes (10 KiB); commands, arguments and environment variables count toward it`,
    ),
  ];
}

/**
 * Validates a job prototype (POST /jobs, `ce job create`; reference §1.1, §4, §5.3): `name`
 * required (`missing_field`) and a valid job name; runtime fields type-checked (`invalid_field`)
 * and ranged (max execution time 1..86400, retry limit 0..5, lists ≤ 100, image ≤ 256); array
 * spec parsed and normalised; cpu/memory pair and ephemeral storage checked
 * (`invalid_resources`); in daemon mode `scale_max_execution_time` / `scale_retry_limit` are
 * rejected (`not_allowed_in_daemon_mode`); ≤ 10 KiB (`object_too_large`); unknown fields
 * rejected (`unknown_field`). Returns the name and the complete spec with defaults.
 */
export function validateJobPrototype(input: unknown): { name: string } & RuntimeSpec {
  if (!isPlainObject(input)) throw notAnObject('job', 'job', input);
  const issues: FieldIssue[] = [];
  checkUnknown(input, JOB_FIELDS, 'job', issues);
  if (!set(input, 'name')) issues.push(issue('missing_field', 'name', 'name is missing: a job needs a name'));
  else issues.push(...checkJobName(input.name));
  const { partial, badResources } = readRuntime(input, issues);
  checkDaemon(input, partial.run_mode, issues);
  const spec = complete(partial, badResources, issues);
  const job = { name: input.name as string, ...spec };
  issues.push(...checkObjectSize(job, 'job'));
  throwIfAny(issues);
  return job;
}

/**
 * Applies a JSON merge patch (PATCH /jobs/{name}, `ce job update`; reference §1.2, §5.2) to a
 * job's current spec and validates the result as a whole, like `validateJobPrototype`:
 * - a field set to `null` is removed, i.e. back to its default; lists are replaced whole;
 * - `name` cannot be patched (`unknown_field`), nor can fields a job does not have;
 * - when the result is in daemon mode, task-only fields the patch does not set are dropped
 *   (switching a task job to daemon); ones the patch sets are rejected
 *   (`not_allowed_in_daemon_mode`); switching back to task brings their defaults back.
 * `name` (optional) is counted in the 10 KiB size check.
 */
export function validateJobPatch(input: unknown, current: RuntimeSpec, name?: string): RuntimeSpec {
  if (!isPlainObject(input)) throw notAnObject('job', 'job patch', input);
  const issues: FieldIssue[] = [];
  checkUnknown(input, JOB_PATCH_FIELDS, 'job patch', issues);
  const merged: Obj = { ...current };
  for (const field of RUNTIME_FIELDS) {
    if (!has(input, field)) continue;
    if (input[field] === null) delete merged[field];
    else merged[field] = input[field];
  }
  if (merged.run_mode === 'daemon') {
    for (const f of TASK_ONLY_FIELDS) if (!set(input, f)) delete merged[f];
  }
  const { partial, badResources } = readRuntime(merged, issues);
  checkDaemon(merged, partial.run_mode, issues);
  const spec = complete(partial, badResources, issues);
  issues.push(...checkObjectSize(name === undefined ? spec : { name, ...spec }, 'job'));
  throwIfAny(issues);
  return spec;
}

/**
 * Validates a job-run prototype (POST /job_runs, `ce jobrun submit`; reference §1.4, §5.4).
 * - With `job`: the run inherits the job's runtime fields and the prototype overrides them;
 *   `run_env_variables` are merged with `mergeEnvVars`, other fields replace. Setting
 *   `image_reference`, `image_secret` or `run_service_account` to a value other than the job's
 *   → `image_override_not_allowed` (reference §1.4, §5.4; decision: repeating the job's own
 *   value is accepted, as it overrides nothing). Switching the mode to daemon drops the job's
 *   task-only fields.
 * - Without `job`: a standalone run from the defaults; it needs `image_reference` or
 *   `run_commands` (no driver can run neither) — else `missing_field`.
 * - `name`, when given, is a job-run name; `job_name` is syntax-checked only (the caller checks
 *   that the job exists); `scale_array_size_variable_override` is an integer 1..10000000
 *   (decision: up to one more than the largest index, so it can describe any original array).
 * All issues are collected; ≤ 10 KiB; daemon rules as for jobs.
 */
export function validateJobRunPrototype(
  input: unknown,
  job: (RuntimeSpec & { name: string }) | undefined,
): { name?: string; job_name?: string; scale_array_size_variable_override?: number; spec: RuntimeSpec } {
  if (!isPlainObject(input)) throw notAnObject('job_run', 'job run', input);
  const issues: FieldIssue[] = [];
  checkUnknown(input, RUN_FIELDS, 'job run', issues);
  if (set(input, 'name')) issues.push(...checkJobRunName(input.name));
  if (set(input, 'job_name')) issues.push(...checkJobName(input.job_name, 'job_name'));
  let override: number | undefined;
  if (set(input, 'scale_array_size_variable_override')) {
    override = checkInt(
      input.scale_array_size_variable_override,
      'scale_array_size_variable_override',
      1,
      MAX_ARRAY_SIZE_OVERRIDE,
      'the JOB_ARRAY_SIZE override',
      issues,
    );
  }
  const { partial: overrides, badResources } = readRuntime(input, issues);

  let merged: Partial<RuntimeSpec>;
  if (job) {
    for (const f of ['image_reference', 'image_secret', 'run_service_account'] as const) {
      if (!set(input, f) || input[f] === job[f]) continue;
      issues.push(
        issue(
          'image_override_not_allowed',
          f,
          `${f} ${showValue(input[f])} is not allowed on a run of job "${job.name}": you cannot override the job's image, registry secret or service account; update the job or submit a run without job_name`,
        ),
      );
    }
    const base: Obj = {};
    for (const f of RUNTIME_FIELDS) if (job[f] !== undefined) base[f] = job[f];
    merged = { ...(base as Partial<RuntimeSpec>), ...overrides };
    if (overrides.run_env_variables) merged.run_env_variables = mergeEnvVars(job.run_env_variables, overrides.run_env_variables);
    if (merged.run_mode === 'daemon') for (const f of TASK_ONLY_FIELDS) if (!set(input, f)) delete merged[f];
  } else {
    merged = overrides;
    const hasCommand = (overrides.run_commands?.length ?? 0) > 0;
    if (!set(input, 'job_name') && !set(input, 'image_reference') && !hasCommand) {
      issues.push(
        issue('missing_field', 'image_reference', 'image_reference is missing: a run without job_name needs image_reference (or run_commands on the process driver)'),
      );
    }
  }
  checkDaemon(input, merged.run_mode, issues);
  const spec = complete(merged, badResources, issues);

  const out: { name?: string; job_name?: string; scale_array_size_variable_override?: number; spec: RuntimeSpec } = { spec };
  if (set(input, 'name')) out.name = input.name as string;
  const jobName = set(input, 'job_name') ? (input.job_name as string) : job?.name;
  if (jobName !== undefined) out.job_name = jobName;
  if (override !== undefined) out.scale_array_size_variable_override = override;
  const { spec: _omit, ...head } = out;
  issues.push(...checkObjectSize({ ...head, ...spec }, 'job run'));
  throwIfAny(issues);
  return out;
}
