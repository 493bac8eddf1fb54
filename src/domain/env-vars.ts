/**
 * Environment variables and volume mounts of a job or run (reference §1.8, §2.1, §4.1, §5.3):
 * their validation, the job/run merge, and the composition of an instance's environment.
 */
import { CejobsError, type FieldIssue } from './errors.js';
import { has, invalid, isPlainObject, issue, jsonType } from './issues.js';
import { checkConfigName } from './names.js';
import {
  ENV_VAR_TYPES,
  VOLUME_MOUNT_TYPES,
  type EnvVar,
  type EnvVarType,
  type RunMode,
  type VolumeMount,
  type VolumeMountType,
} from './types.js';

/** Most entries of `run_env_variables` / `run_volume_mounts` (reference §4.1). */
export const MAX_ENV_VARS = 100;
export const MAX_VOLUME_MOUNTS = 100;
export const MAX_ENV_NAME_LENGTH = 253;
export const MAX_ENV_VALUE_LENGTH = 1_048_576;
export const MAX_MOUNT_PATH_LENGTH = 256;

const ENV_NAME = /^[-._a-zA-Z0-9]+$/;
const ENV_PREFIX = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Variables the engine sets for every instance (reference §2.1); users may not define them. */
export const RESERVED_ENV_NAMES: readonly string[] = [
  'CE_JOB',
  'CE_JOBRUN',
  'CE_PROJECT_ID',
  'CE_SUBDOMAIN',
  'CE_DOMAIN',
  'CE_REGION',
  'CE_API_BASE_URL',
  'JOB_INDEX',
  'JOB_ARRAY_SIZE',
  'JOB_INDEX_RETRY_COUNT',
  'JOB_RETRY_LIMIT',
  'JOB_MODE',
  'HOSTNAME',
];
const RESERVED = new Set(RESERVED_ENV_NAMES);

/** The properties each env var type uses, besides `type` (reference §5.3 EnvVar). */
const ENV_PROPS: Record<EnvVarType, { required: readonly (keyof EnvVar)[]; optional: readonly (keyof EnvVar)[] }> = {
  literal: { required: ['name', 'value'], optional: [] },
  config_map_full_reference: { required: ['reference'], optional: ['prefix'] },
  secret_full_reference: { required: ['reference'], optional: ['prefix'] },
  config_map_key_reference: { required: ['name', 'reference', 'key'], optional: [] },
  secret_key_reference: { required: ['name', 'reference', 'key'], optional: [] },
};

function isFullReference(t: EnvVarType): boolean {
  return t === 'config_map_full_reference' || t === 'secret_full_reference';
}
function isKeyReference(t: EnvVarType): boolean {
  return t === 'config_map_key_reference' || t === 'secret_key_reference';
}
function sourceKind(t: EnvVarType): 'config_map' | 'secret' {
  return t.startsWith('config_map') ? 'config_map' : 'secret';
}

function checkList(list: unknown, field: string, max: number, what: string): FieldIssue[] {
  if (!Array.isArray(list)) return [invalid('invalid_field', field, list, `${what} must be an array (got ${jsonType(list)})`)];
  if (list.length > max) {
    return [issue('invalid_field', field, `${field} has ${list.length} entries, more than the limit of ${max}`)];
  }
  return [];
}

/**
 * Issues of `run_env_variables` (reference §4.1, §5.3), `[]` when valid:
 * - an array of ≤ 100 objects; `type` is one of `ENV_VAR_TYPES`, `literal` when omitted;
 * - each entry has exactly the properties its type uses: literal `name`+`value`; full reference
 *   `reference` (+ optional `prefix`); key reference `name`+`reference`+`key` (others →
 *   `unknown_field`, missing → `missing_field`), all strings;
 * - `name`/`key` match `^[-._a-zA-Z0-9]+$`, ≤ 253; `prefix` matches `^[a-zA-Z_][a-zA-Z0-9_]*$`,
 *   ≤ 253; `reference` is a config map / secret name; `value` ≤ 1048576 characters;
 * - a `name` may not be one of `RESERVED_ENV_NAMES` (the engine sets those for every instance).
 * Field paths look like `run_env_variables[2].name`.
 */
export function checkEnvVars(list: unknown, field = 'run_env_variables'): FieldIssue[] {
  const listIssues = checkList(list, field, MAX_ENV_VARS, 'the list of environment variables');
  if (listIssues.length > 0) return listIssues;
  const issues: FieldIssue[] = [];
  (list as unknown[]).forEach((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(entry)) {
      issues.push(invalid('invalid_field', at, entry, `an environment variable must be an object (got ${jsonType(entry)})`));
      return;
    }
    const rawType = entry.type ?? 'literal';
    if (!ENV_VAR_TYPES.includes(rawType as EnvVarType)) {
      issues.push(invalid('invalid_field', `${at}.type`, entry.type, `type must be one of ${ENV_VAR_TYPES.join(', ')}`));
      return;
    }
    const type = rawType as EnvVarType;
    const props = ENV_PROPS[type];
    const allowed = ['type', ...props.required, ...props.optional];
    for (const key of Object.keys(entry)) {
      if (!allowed.includes(key)) {
        issues.push(
          issue('unknown_field', `${at}.${key}`, `${at}.${key} ${showShort(entry[key])} is not allowed for a ${type} variable: it uses ${allowed.join(', ')}`),
        );
      }
    }
    for (const key of props.required) {
      if (!has(entry, key) || entry[key] === undefined) {
        issues.push(issue('missing_field', `${at}.${key}`, `${at}.${key} is missing: a ${type} variable needs ${props.required.join(', ')}`));
      }
    }
    for (const key of [...props.required, ...props.optional]) {
      const v = entry[key];
      if (v === undefined) continue;
      const path = `${at}.${key}`;
      if (typeof v !== 'string') {
        issues.push(invalid('invalid_field', path, v, `${key} must be a string (got ${jsonType(v)})`));
        continue;
      }
      issues.push(...checkEnvProp(key, v, path, type));
    }
  });
  return issues;
}

function showShort(v: unknown): string {
  return JSON.stringify(v)?.slice(0, 40) ?? 'undefined';
}

function checkEnvProp(key: keyof EnvVar, v: string, path: string, type: EnvVarType): FieldIssue[] {
  switch (key) {
    case 'name':
      if (v.length === 0 || v.length > MAX_ENV_NAME_LENGTH || !ENV_NAME.test(v)) {
        return [invalid('invalid_field', path, v, "an environment variable name must be 1-253 characters of letters, digits, '-', '.' and '_'")];
      }
      if (RESERVED.has(v)) {
        return [
          invalid('invalid_field', path, v, `${v} is reserved: the engine sets ${RESERVED_ENV_NAMES.join(', ')} for every instance`),
        ];
      }
      return [];
    case 'key':
      if (v.length === 0 || v.length > MAX_ENV_NAME_LENGTH || !ENV_NAME.test(v)) {
        return [invalid('invalid_field', path, v, "a key must be 1-253 characters of letters, digits, '-', '.' and '_'")];
      }
      return [];
    case 'prefix':
      if (v.length > MAX_ENV_NAME_LENGTH || !ENV_PREFIX.test(v)) {
        return [invalid('invalid_field', path, v, "a prefix must start with a letter or '_' and contain only letters, digits and '_' (at most 253)")];
      }
      return [];
    case 'value':
      if (v.length > MAX_ENV_VALUE_LENGTH) {
        return [invalid('invalid_field', path, v, `a value is at most ${MAX_ENV_VALUE_LENGTH} characters (it has ${v.length})`)];
      }
      return [];
    case 'reference':
      return checkConfigName(v, path).map((i) => ({
        ...i,
        code: 'invalid_field' as const,
        message: `${i.message} (the ${sourceKind(type).replace('_', ' ')} of this variable)`,
      }));
    default:
      return [];
  }
}

/**
 * The env var list in canonical form: `type` filled (`literal` when omitted) and only the
 * properties its type uses. Call after `checkEnvVars` returned no issues.
 */
export function toEnvVars(list: readonly Record<string, unknown>[]): EnvVar[] {
  return list.map((entry) => {
    const type = (entry.type ?? 'literal') as EnvVarType;
    const out: EnvVar = { type };
    const props = ENV_PROPS[type];
    for (const key of [...props.required, ...props.optional]) {
      const v = entry[key];
      if (typeof v === 'string') (out as unknown as Record<string, string>)[key] = v;
    }
    return out;
  });
}

/**
 * Issues of `run_volume_mounts` (reference §4.1, §5.3), `[]` when valid: an array of ≤ 100
 * objects; `type` ∈ config_map | secret | persistent_data_store (default `secret`);
 * `reference` a config map / secret / store name; `mount_path` absolute, ≤ 256 characters, not
 * `/`, no `.`/`..` segments, unique across the list (trailing `/` ignored); `sub_path` (a
 * relative path without `..`) only for persistent_data_store; `read_only` a boolean.
 * Decisions (reference silent): the `/` and `..` rules, and `read_only` allowed on every type.
 */
export function checkVolumeMounts(list: unknown, field = 'run_volume_mounts'): FieldIssue[] {
  const listIssues = checkList(list, field, MAX_VOLUME_MOUNTS, 'the list of volume mounts');
  if (listIssues.length > 0) return listIssues;
  const issues: FieldIssue[] = [];
  const seen = new Map<string, number>();
  (list as unknown[]).forEach((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(entry)) {
      issues.push(invalid('invalid_field', at, entry, `a volume mount must be an object (got ${jsonType(entry)})`));
      return;
    }
    const type = (entry.type ?? 'secret') as VolumeMountType;
    if (!VOLUME_MOUNT_TYPES.includes(type)) {
      issues.push(invalid('invalid_field', `${at}.type`, entry.type, `type must be one of ${VOLUME_MOUNT_TYPES.join(', ')}`));
      return;
    }
    const allowed = ['type', 'reference', 'mount_path', 'read_only', ...(type === 'persistent_data_store' ? ['sub_path'] : [])];
    for (const key of Object.keys(entry)) {
      if (!allowed.includes(key)) {
        issues.push(
          issue('unknown_field', `${at}.${key}`, `${at}.${key} ${showShort(entry[key])} is not allowed for a ${type} mount: it uses ${allowed.join(', ')}`),
        );
      }
    }
    for (const key of ['reference', 'mount_path']) {
      if (entry[key] === undefined) issues.push(issue('missing_field', `${at}.${key}`, `${at}.${key} is missing: a volume mount needs reference and mount_path`));
    }
    if (entry.reference !== undefined) {
      issues.push(...checkConfigName(entry.reference, `${at}.reference`).map((x) => ({ ...x, code: 'invalid_field' as const })));
    }
    const mp = entry.mount_path;
    if (mp !== undefined) {
      const path = `${at}.mount_path`;
      const segments = typeof mp === 'string' ? mp.split('/').filter((s) => s !== '') : [];
      if (typeof mp !== 'string') issues.push(invalid('invalid_field', path, mp, `a mount path must be a string (got ${jsonType(mp)})`));
      else if (!mp.startsWith('/') || mp.length > MAX_MOUNT_PATH_LENGTH) {
        issues.push(invalid('invalid_field', path, mp, `a mount path must be an absolute path of at most ${MAX_MOUNT_PATH_LENGTH} characters`));
      } else if (segments.length === 0 || segments.some((s) => s === '.' || s === '..')) {
        issues.push(invalid('invalid_field', path, mp, "a mount path may not be '/' or contain '.' or '..' segments"));
      } else {
        const key = '/' + segments.join('/');
        const first = seen.get(key);
        if (first !== undefined) {
          issues.push(invalid('invalid_field', path, mp, `mount paths must be unique; ${field}[${first}] mounts there already`));
        } else seen.set(key, i);
      }
    }
    if (entry.sub_path !== undefined && type === 'persistent_data_store') {
      const sp = entry.sub_path;
      const path = `${at}.sub_path`;
      if (typeof sp !== 'string' || sp.startsWith('/') || sp.split('/').includes('..')) {
        issues.push(invalid('invalid_field', path, sp, "a sub path must be a relative path without '..' segments"));
      }
    }
    if (entry.read_only !== undefined && typeof entry.read_only !== 'boolean') {
      issues.push(invalid('invalid_field', `${at}.read_only`, entry.read_only, `read_only must be a boolean (got ${jsonType(entry.read_only)})`));
    }
  });
  return issues;
}

/** The volume mounts in canonical form (`type` filled). Call after `checkVolumeMounts`. */
export function toVolumeMounts(list: readonly Record<string, unknown>[]): VolumeMount[] {
  return list.map((entry) => {
    const out: VolumeMount = {
      type: (entry.type ?? 'secret') as VolumeMountType,
      reference: entry.reference as string,
      mount_path: entry.mount_path as string,
    };
    if (typeof entry.sub_path === 'string') out.sub_path = entry.sub_path;
    if (typeof entry.read_only === 'boolean') out.read_only = entry.read_only;
    return out;
  });
}

/** Where the value of one variable of an instance's environment came from (see `composeEnv`). */
export interface EnvValueSource {
  source: 'config_map' | 'secret';
  /** The config map's or secret's name. */
  name: string;
  key: string;
}

/** What makes two env vars "the same" for a merge: the variable name, or the full reference. */
function identity(v: EnvVar): string {
  return isFullReference(v.type) ? `full:${v.type}:${v.reference ?? ''}:${v.prefix ?? ''}` : `name:${v.name ?? ''}`;
}

/**
 * A run's env over its job's (reference §1.8): a literal or key reference replaces the job's
 * literal or key reference of the same `name` (in place); a full reference replaces one with
 * the same type, reference and prefix; anything else is appended. Job envA, envB + run
 * envB=BB, envC ⇒ envA, envB=BB, envC. Returns a new list; the inputs are not modified.
 */
export function mergeEnvVars(base: EnvVar[], overrides: EnvVar[]): EnvVar[] {
  const out = base.map((v) => ({ ...v }));
  for (const o of overrides) {
    const id = identity(o);
    const at = out.findIndex((v) => identity(v) === id);
    if (at < 0) {
      out.push({ ...o });
      continue;
    }
    out[at] = { ...o };
    for (let j = out.length - 1; j > at; j--) if (identity(out[j]!) === id) out.splice(j, 1);
  }
  return out;
}

/**
 * An instance's environment: `system` (see `instanceSystemEnv`), then the user's variables with
 * Code Engine's precedence (reference §1.8, CMREF), whatever their order in the list:
 * 1. full references, in order — a later one wins a clash (keys get the reference's `prefix`);
 * 2. key references, in order — they beat full references, the last one wins a clash;
 * 3. literals, in order — they beat key references (scenario C), the last one wins a clash.
 * Names in `RESERVED_ENV_NAMES` keep their system value; other `system` entries are defaults a
 * user variable may override. `resolve` returns a config map's / secret's data and throws
 * `CejobsError('not_found')` for a missing one; a missing key throws `not_found` naming the
 * reference and the key. Each reference is resolved once per call.
 * When `sources` is given, it receives, for every variable of the result whose value came from
 * a config map or secret, where exactly (object and key): a runtime that can reference the
 * object itself (Kubernetes) uses that instead of the value.
 */
export function composeEnv(
  system: Record<string, string>,
  userVars: EnvVar[],
  resolve: (kind: 'config_map' | 'secret', name: string) => Record<string, string>,
  sources?: Record<string, EnvValueSource>,
): Record<string, string> {
  const cache = new Map<string, Record<string, string>>();
  const data = (v: EnvVar): Record<string, string> => {
    const kind = sourceKind(v.type);
    const id = `${kind}/${v.reference ?? ''}`;
    let d = cache.get(id);
    if (!d) {
      d = resolve(kind, v.reference ?? '');
      cache.set(id, d);
    }
    return d;
  };

  const user: Record<string, string> = {};
  const from: Record<string, EnvValueSource> = {};
  for (const v of userVars) {
    if (!isFullReference(v.type)) continue;
    for (const [k, value] of Object.entries(data(v))) {
      user[`${v.prefix ?? ''}${k}`] = value;
      from[`${v.prefix ?? ''}${k}`] = { source: sourceKind(v.type), name: v.reference ?? '', key: k };
    }
  }
  for (const v of userVars) {
    if (!isKeyReference(v.type)) continue;
    const d = data(v);
    const key = v.key ?? '';
    if (!Object.prototype.hasOwnProperty.call(d, key)) {
      const what = sourceKind(v.type) === 'config_map' ? 'config map' : 'secret';
      throw new CejobsError(
        'not_found',
        `key "${key}" was not found in ${what} "${v.reference ?? ''}" (referenced by environment variable "${v.name ?? ''}")`,
      );
    }
    user[v.name ?? ''] = d[key]!;
    from[v.name ?? ''] = { source: sourceKind(v.type), name: v.reference ?? '', key };
  }
  for (const v of userVars) {
    if (v.type !== 'literal') continue;
    user[v.name ?? ''] = v.value ?? '';
    delete from[v.name ?? ''];
  }

  const env: Record<string, string> = { ...system };
  for (const [k, value] of Object.entries(user)) {
    if (RESERVED.has(k)) continue;
    env[k] = value;
    if (sources && from[k]) sources[k] = from[k];
  }
  return env;
}

/**
 * The variables the engine sets for every instance (reference §2.1), exactly: `CE_JOB`,
 * `CE_JOBRUN`, `CE_PROJECT_ID`, `CE_SUBDOMAIN`, `CE_DOMAIN`, `CE_REGION`, `CE_API_BASE_URL`,
 * `JOB_INDEX`, `JOB_ARRAY_SIZE`, `JOB_INDEX_RETRY_COUNT`, `JOB_RETRY_LIMIT`, `JOB_MODE`,
 * `HOSTNAME` (= the instance name).
 * Decisions (reference §2.1 leaves them open): `CE_JOB` of a standalone run is the run's name
 * (as its log container name is, reference §2.2); `JOB_RETRY_LIMIT` is `0` in daemon mode.
 * `arraySize` is the caller's choice: the index count or `scale_array_size_variable_override`.
 */
export function instanceSystemEnv(input: {
  project: { id: string; subdomain: string; region: string };
  domain: string;
  apiBaseUrl: string;
  jobName?: string;
  runName: string;
  instanceName: string;
  index: number;
  arraySize: number;
  retry: number;
  retryLimit: number;
  mode: RunMode;
}): Record<string, string> {
  return {
    CE_JOB: input.jobName ?? input.runName,
    CE_JOBRUN: input.runName,
    CE_PROJECT_ID: input.project.id,
    CE_SUBDOMAIN: input.project.subdomain,
    CE_DOMAIN: input.domain,
    CE_REGION: input.project.region,
    CE_API_BASE_URL: input.apiBaseUrl,
    JOB_INDEX: String(input.index),
    JOB_ARRAY_SIZE: String(input.arraySize),
    JOB_INDEX_RETRY_COUNT: String(input.retry),
    JOB_RETRY_LIMIT: String(input.mode === 'daemon' ? 0 : input.retryLimit),
    JOB_MODE: input.mode,
    HOSTNAME: input.instanceName,
  };
}
