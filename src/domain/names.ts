/**
 * Names of jobs, job runs, config maps / secrets and projects (reference §1.0, §4.4), the
 * generated job-run name (reference §1.4) and instance names (reference §2.2).
 */
import type { FieldIssue } from './errors.js';
import { invalid, jsonType } from './issues.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const PROJECT_NAME = /^[\p{L}\p{N} .:_-]+$/u;

export const MAX_JOB_NAME_LENGTH = 63;
export const MAX_JOB_RUN_NAME_LENGTH = 53;
export const MAX_CONFIG_NAME_LENGTH = 253;
export const MAX_PROJECT_NAME_LENGTH = 128;

function checkName(name: unknown, field: string, max: number, pattern: RegExp, rule: string): FieldIssue[] {
  if (typeof name !== 'string') return [invalid('invalid_name', field, name, `${rule} (got ${jsonType(name)})`)];
  if (name.length === 0) return [invalid('invalid_name', field, name, `${rule} (it is empty)`)];
  if (name.length > max) return [invalid('invalid_name', field, name, `${rule} (it has ${name.length} characters)`)];
  if (!pattern.test(name)) return [invalid('invalid_name', field, name, rule)];
  return [];
}

/**
 * A job name: 1–63 characters of `[a-z0-9-]`, alphanumeric at both ends (API regex
 * `^[a-z0-9]([\-a-z0-9]*[a-z0-9])?$`, reference §1.0, §4.4). Issues have code `invalid_name`.
 */
export function checkJobName(name: unknown, field = 'name'): FieldIssue[] {
  return checkName(
    name,
    field,
    MAX_JOB_NAME_LENGTH,
    DNS_LABEL,
    "a job name must be 1-63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit",
  );
}

/**
 * A job-run name: like a job name but 1–53 characters, leaving room for the instance suffix
 * `-<index>-<retry>` (reference §1.0, §4.4).
 */
export function checkJobRunName(name: unknown, field = 'name'): FieldIssue[] {
  return checkName(
    name,
    field,
    MAX_JOB_RUN_NAME_LENGTH,
    DNS_LABEL,
    "a job run name must be 1-53 characters of lowercase letters, digits and '-', starting and ending with a letter or digit",
  );
}

/**
 * A config map or secret name (also registry secrets, `image_secret`): 1–253 characters of
 * `[a-z0-9-.]`, alphanumeric at both ends (DNS subdomain style, reference §1.0, §4.4).
 */
export function checkConfigName(name: unknown, field = 'name'): FieldIssue[] {
  return checkName(
    name,
    field,
    MAX_CONFIG_NAME_LENGTH,
    DNS_SUBDOMAIN,
    "a config map or secret name must be 1-253 characters of lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
  );
}

/**
 * A project name: 1–128 characters (code points) of Unicode letters and digits plus space,
 * `.`, `:`, `_` and `-` (reference §1.13, §4.4). Decision (reference silent): it may not
 * start or end with a space, so names print unambiguously.
 */
export function checkProjectName(name: unknown, field = 'name'): FieldIssue[] {
  const rule =
    "a project name must be 1-128 characters of letters, digits, spaces, '.', ':', '_' and '-', not starting or ending with a space";
  if (typeof name !== 'string') return [invalid('invalid_name', field, name, `${rule} (got ${jsonType(name)})`)];
  const length = [...name].length;
  if (length === 0) return [invalid('invalid_name', field, name, `${rule} (it is empty)`)];
  if (length > MAX_PROJECT_NAME_LENGTH) return [invalid('invalid_name', field, name, `${rule} (it has ${length} characters)`)];
  if (!PROJECT_NAME.test(name) || name.trim() !== name) return [invalid('invalid_name', field, name, rule)];
  // '.' and '..' pass the character rule but can never be addressed in a path ({project_id})
  if (name === '.' || name === '..') return [invalid('invalid_name', field, name, `${rule}, and not '.' or '..'`)];
  return [];
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const RUN_INFIX = '-jobrun-';

/**
 * A fresh job-run name (reference §1.4): `<job>-jobrun-<5 chars of [a-z0-9]>` (e.g.
 * `myjob-jobrun-fji48`), or `jobrun-<5>` for a standalone run. The job part is cut so the name
 * stays ≤ 53 characters, and any `-` the cut leaves at its end is dropped. `random` returns
 * numbers in [0, 1) (e.g. `Math.random`); the caller retries on a name clash.
 */
export function generateRunName(jobName: string | undefined, random: () => number): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) {
    const r = Math.min(Math.max(random(), 0), 0.999999999);
    suffix += SUFFIX_ALPHABET[Math.floor(r * SUFFIX_ALPHABET.length)];
  }
  if (!jobName) return `jobrun-${suffix}`;
  const room = MAX_JOB_RUN_NAME_LENGTH - RUN_INFIX.length - suffix.length;
  const job = jobName.slice(0, room).replace(/-+$/, '');
  return job === '' ? `jobrun-${suffix}` : `${job}${RUN_INFIX}${suffix}`;
}

/**
 * The name of an instance, which is also its `HOSTNAME`: `<run>-<index>-<retry>` (reference
 * §2.2), e.g. `myjobrun-3-0`; retry is the index's `JOB_INDEX_RETRY_COUNT`.
 */
export function instanceName(runName: string, index: number, retry: number): string {
  return `${runName}-${index}-${retry}`;
}
