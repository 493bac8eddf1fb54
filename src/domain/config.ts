/**
 * Config maps and secrets (reference §1.11, §1.12, §5.2; docs/api.md "Config maps and secrets"):
 * their resource types and the validation of what a client sends.
 *
 * - Names: `checkConfigName` (1–253 of `[a-z0-9-.]`, alphanumeric at both ends).
 * - Keys of `data`: `^[-._a-zA-Z0-9]+$`, at most 253 characters.
 * - Values: strings of at most 1 MiB (1048576 characters); the whole `data` (keys and values,
 *   UTF-8) at most 1 MiB.
 * - Secrets have a `format`; each format but `generic` has required and optional keys and no
 *   others (`SECRET_FORMAT_KEYS`).
 *
 * Every issue names the field, the value and the rule, except that **a secret's values are never
 * shown**: an issue about one names its key (and its length or type) only. Unknown fields of a
 * secret are reported without their values too (a typo'd `password` field is still a password).
 */
import { CejobsError, showValue, type FieldIssue } from './errors.js';
import { has, invalid, isPlainObject, issue, jsonType, throwIfAny } from './issues.js';
import { checkConfigName } from './names.js';

export type SecretFormat = 'generic' | 'registry' | 'basic_auth' | 'ssh_auth' | 'tls' | 'hmac_auth';
export const SECRET_FORMATS: readonly SecretFormat[] = ['generic', 'registry', 'basic_auth', 'ssh_auth', 'tls', 'hmac_auth'];
/** Formats of Code Engine's API that cejobs does not have (IBM Cloud service bindings). */
export const UNSUPPORTED_SECRET_FORMATS: readonly string[] = ['service_access', 'service_operator', 'other'];

/** Required and optional keys of each format's `data`; `null` = any keys (generic). */
export const SECRET_FORMAT_KEYS: Record<SecretFormat, { required: readonly string[]; optional: readonly string[] } | null> = {
  generic: null,
  registry: { required: ['username', 'password', 'server'], optional: ['email'] },
  basic_auth: { required: ['username', 'password'], optional: [] },
  ssh_auth: { required: ['ssh_key'], optional: ['known_hosts'] },
  tls: { required: ['tls_cert', 'tls_key'], optional: [] },
  hmac_auth: { required: ['access_key_id', 'secret_access_key'], optional: [] },
};

/** What every secret value reads as unless the client asked to reveal it. */
export const REDACTED = 'REDACTED';

export const MAX_CONFIG_KEY_LENGTH = 253;
/** Largest value, in characters (reference §1.11). */
export const MAX_CONFIG_VALUE_LENGTH = 1_048_576;
/** Largest `data` as a whole: the UTF-8 bytes of every key and value. */
export const MAX_CONFIG_DATA_BYTES = 1_048_576;

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

export interface ConfigMap {
  id: string;
  name: string;
  project_id: string;
  region: string;
  resource_type: 'config_map_v2';
  created_at: string;
  /** Changes on every replace; `If-Match` compares against it. */
  entity_tag: string;
  data: Record<string, string>;
}

export interface Secret {
  id: string;
  name: string;
  project_id: string;
  region: string;
  resource_type: 'secret_v2';
  format: SecretFormat;
  created_at: string;
  entity_tag: string;
  /** Every value is `REDACTED` unless revealed. */
  data: Record<string, string>;
}

/** A validated `POST …/config_maps` body. */
export interface ConfigMapPrototype {
  name: string;
  data: Record<string, string>;
}

/** A validated `POST …/secrets` body. */
export interface SecretPrototype {
  name: string;
  format: SecretFormat;
  data: Record<string, string>;
}

type Obj = Record<string, unknown>;
type Kind = 'config map' | 'secret';

/** The same keys, every value `REDACTED`. */
export function redactData(keys: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = REDACTED;
  return out;
}

/** A config map's or secret's key (`^[-._a-zA-Z0-9]+$`, ≤ 253); `[]` when valid. */
export function checkConfigKey(key: string, field: string): FieldIssue[] {
  if (key.length === 0 || key.length > MAX_CONFIG_KEY_LENGTH || !CONFIG_KEY.test(key)) {
    return [
      invalid(
        'invalid_field',
        field,
        key,
        `a key must be 1-${MAX_CONFIG_KEY_LENGTH} characters of letters, digits, '-', '.' and '_'` +
          (key.length > MAX_CONFIG_KEY_LENGTH ? ` (it has ${key.length})` : ''),
      ),
    ];
  }
  return [];
}

/**
 * Issues of a `data` object (`[]` when valid): a JSON object whose keys follow
 * `checkConfigKey` and whose values are strings of ≤ 1 MiB, ≤ 1 MiB in all. With
 * `secret: true` no value is ever shown in a message. Field paths are `data.<key>`.
 */
export function checkConfigData(data: unknown, options: { secret: boolean; field?: string }): FieldIssue[] {
  const field = options.field ?? 'data';
  if (!isPlainObject(data)) {
    const shown = options.secret ? `(${jsonType(data)})` : showValue(data);
    return [issue('invalid_field', field, `${field} ${shown} is not valid: data must be an object of string keys to string values (got ${jsonType(data)})`)];
  }
  const issues: FieldIssue[] = [];
  let bytes = 0;
  for (const [key, value] of Object.entries(data)) {
    const path = `${field}.${key}`;
    issues.push(...checkConfigKey(key, path));
    if (typeof value !== 'string') {
      const shown = options.secret ? '(value hidden)' : showValue(value);
      issues.push(issue('invalid_field', path, `${path} ${shown} is not valid: a value must be a string (got ${jsonType(value)})`));
      continue;
    }
    if (value.length > MAX_CONFIG_VALUE_LENGTH) {
      const shown = options.secret ? '(value hidden)' : showValue(value);
      issues.push(
        issue(
          'invalid_field',
          path,
          `${path} ${shown} is not valid: a value is at most ${MAX_CONFIG_VALUE_LENGTH} characters (it has ${value.length})`,
        ),
      );
    }
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (issues.length === 0 && bytes > MAX_CONFIG_DATA_BYTES) {
    issues.push(
      issue(
        'object_too_large',
        field,
        `${field} is ${bytes} bytes (keys and values), over the limit of ${MAX_CONFIG_DATA_BYTES} bytes (1 MiB) of a ${options.secret ? 'secret' : 'config map'}`,
      ),
    );
  }
  return issues;
}

/** Issues of a secret's `data` against its format's keys (after `checkConfigData`). */
export function checkSecretFormatData(format: SecretFormat, data: Obj, field = 'data'): FieldIssue[] {
  const shape = SECRET_FORMAT_KEYS[format];
  if (shape === null) return [];
  const issues: FieldIssue[] = [];
  const allowed = [...shape.required, ...shape.optional];
  for (const key of Object.keys(data)) {
    if (!allowed.includes(key)) {
      issues.push(
        issue('unknown_field', `${field}.${key}`, `${field}.${key} (value hidden) is not a key of a ${format} secret: it has ${describeKeys(format)}`),
      );
    }
  }
  for (const key of shape.required) {
    if (!has(data, key)) {
      issues.push(issue('missing_field', `${field}.${key}`, `${field}.${key} is required: a ${format} secret has ${describeKeys(format)}`));
    }
  }
  return issues;
}

function describeKeys(format: SecretFormat): string {
  const shape = SECRET_FORMAT_KEYS[format];
  if (shape === null) return 'any keys';
  return [...shape.required, ...shape.optional.map((k) => `${k} (optional)`)].join(', ');
}

/** Issues of a `format` value; `[]` when it is one of `SECRET_FORMATS`. */
export function checkSecretFormat(format: unknown, field = 'format'): FieldIssue[] {
  if (typeof format === 'string' && (SECRET_FORMATS as readonly string[]).includes(format)) return [];
  if (typeof format === 'string' && UNSUPPORTED_SECRET_FORMATS.includes(format)) {
    return [invalid('invalid_field', field, format, `${format} secrets (IBM Cloud service bindings) are not supported by cejobs; a format is one of ${SECRET_FORMATS.join(', ')}`)];
  }
  return [invalid('invalid_field', field, format, `a format is one of ${SECRET_FORMATS.join(', ')}`)];
}

function checkUnknownFields(obj: Obj, allowed: readonly string[], kind: Kind, issues: FieldIssue[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const shown = kind === 'secret' ? '(value hidden)' : `(value ${showValue(obj[key])})`;
    issues.push(issue('unknown_field', key, `${key} ${shown} is not a field of a ${kind}: it has the fields ${allowed.join(', ')}`));
  }
}

function notAnObject(kind: Kind, input: unknown): CejobsError {
  const field = kind === 'secret' ? 'secret' : 'config_map';
  return CejobsError.fromIssues([issue('invalid_field', field, `${field} (${jsonType(input)}) is not valid: a ${kind} must be a JSON object (got ${jsonType(input)})`)]);
}

/** `data`, or `{}` when absent/null and optional. */
function dataOf(obj: Obj, required: boolean, kind: Kind, issues: FieldIssue[]): Record<string, string> {
  const v = obj.data;
  if (v === undefined || v === null) {
    if (required) issues.push(issue('missing_field', 'data', `data is required: send the ${kind}'s complete data (it replaces all keys)`));
    return {};
  }
  issues.push(...checkConfigData(v, { secret: kind === 'secret' }));
  return isPlainObject(v) ? (v as Record<string, string>) : {};
}

/** A `name` in a replace body may only repeat the path's name. */
function checkReplaceName(obj: Obj, name: string, kind: Kind, issues: FieldIssue[]): void {
  if (obj.name !== undefined && obj.name !== name) {
    issues.push(invalid('invalid_field', 'name', obj.name, `the name of a ${kind} cannot be changed (it is "${name}")`));
  }
}

/** Validates `POST …/config_maps`: `{name, data?}` (data defaults to `{}`). */
export function validateConfigMapPrototype(input: unknown): ConfigMapPrototype {
  if (!isPlainObject(input)) throw notAnObject('config map', input);
  const issues: FieldIssue[] = [];
  checkUnknownFields(input, ['name', 'data'], 'config map', issues);
  if (input.name === undefined) issues.push(issue('missing_field', 'name', 'name is required: a config map needs a name'));
  else issues.push(...checkConfigName(input.name, 'name'));
  const data = dataOf(input, false, 'config map', issues);
  throwIfAny(issues);
  return { name: input.name as string, data: { ...data } };
}

/** Validates `PUT …/config_maps/{name}`: `{data}` (`name` only if it is the same). */
export function validateConfigMapReplace(input: unknown, name: string): { data: Record<string, string> } {
  if (!isPlainObject(input)) throw notAnObject('config map', input);
  const issues: FieldIssue[] = [];
  checkUnknownFields(input, ['name', 'data'], 'config map', issues);
  checkReplaceName(input, name, 'config map', issues);
  const data = dataOf(input, true, 'config map', issues);
  throwIfAny(issues);
  return { data: { ...data } };
}

/** Validates `POST …/secrets`: `{name, format?, data?}` (format defaults to `generic`). */
export function validateSecretPrototype(input: unknown): SecretPrototype {
  if (!isPlainObject(input)) throw notAnObject('secret', input);
  const issues: FieldIssue[] = [];
  checkUnknownFields(input, ['name', 'format', 'data'], 'secret', issues);
  if (input.name === undefined) issues.push(issue('missing_field', 'name', 'name is required: a secret needs a name'));
  else issues.push(...checkConfigName(input.name, 'name'));
  const formatIssues = input.format === undefined || input.format === null ? [] : checkSecretFormat(input.format);
  issues.push(...formatIssues);
  const format = (input.format ?? 'generic') as SecretFormat;
  const before = issues.length;
  const data = dataOf(input, false, 'secret', issues);
  if (formatIssues.length === 0 && issues.length === before) issues.push(...checkSecretFormatData(format, data));
  throwIfAny(issues);
  return { name: input.name as string, format, data: { ...data } };
}

/**
 * Validates `PUT …/secrets/{name}`: `{format?, data}`; `format`, when given, must be the
 * secret's (a format cannot change), and `data` must fit it.
 */
export function validateSecretReplace(input: unknown, name: string, current: SecretFormat): { data: Record<string, string> } {
  if (!isPlainObject(input)) throw notAnObject('secret', input);
  const issues: FieldIssue[] = [];
  checkUnknownFields(input, ['name', 'format', 'data'], 'secret', issues);
  checkReplaceName(input, name, 'secret', issues);
  let formatOk = true;
  if (input.format !== undefined && input.format !== null && input.format !== current) {
    formatOk = false;
    const bad = checkSecretFormat(input.format);
    issues.push(
      ...(bad.length > 0 ? bad : [invalid('invalid_field', 'format', input.format, `the format of a secret cannot change (secret "${name}" is ${current}); delete it and create it again`)]),
    );
  }
  const before = issues.length;
  const data = dataOf(input, true, 'secret', issues);
  if (formatOk && issues.length === before) issues.push(...checkSecretFormatData(current, data));
  throwIfAny(issues);
  return { data: { ...data } };
}
