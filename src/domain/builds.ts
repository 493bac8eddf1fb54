/**
 * Builds and build runs (reference §1.1 build options; docs/builds.md): their resource types
 * with Code Engine's field names, the validation of what a client sends, and the state machine
 * of a build run.
 *
 * A **build** says where source comes from and how to turn it into something runnable:
 * - `source_type`: `git` (`source_url` is a `file://`, `https://`, `ssh://` or `user@host:path`
 *   URL cloned by the server, at `source_revision`: a branch, tag or commit) or `local` (the
 *   client uploads a tar of a directory before it submits a run; `source_url` is not set).
 * - `source_context_dir`: a relative directory inside the source that is the build's root.
 * - `source_secret`: an `ssh_auth` secret for `ssh` Git URLs.
 * - `strategy_type`: `dockerfile` (an image built by the container engine from
 *   `strategy_spec_file`, default `Dockerfile`) or `source` (cejobs' own, for the process
 *   driver: a content-addressed snapshot of the tree in which `source_build_command` ran).
 *   Code Engine's `buildpacks` is refused. Which strategy a server can run follows its driver.
 * - `timeout`: seconds a run may take, 1-3600, default 600.
 *
 * A **build run** is one execution: `pending ──▶ running ──▶ succeeded | failed`, or straight
 * `pending ──▶ failed` (e.g. interrupted by a restart before it started). On success it names
 * its immutable `output_image` (image tag derived from the content digest, or the snapshot
 * reference); on failure `status_details.reason` says why.
 */
import { CejobsError, type FieldIssue } from './errors.js';
import { IllegalTransitionError } from './instance-state.js';
import { has, invalid, isPlainObject, issue, jsonType, throwIfAny } from './issues.js';
import { checkConfigName, checkJobName } from './names.js';

export type BuildSourceType = 'git' | 'local';
export type BuildStrategyType = 'dockerfile' | 'source';
export const BUILD_STRATEGIES: readonly BuildStrategyType[] = ['dockerfile', 'source'];

export const DEFAULT_BUILD_TIMEOUT = 600;
export const MAX_BUILD_TIMEOUT = 3600;
export const DEFAULT_DOCKERFILE = 'Dockerfile';

/** The fields a client sets on a build (create and update). */
export interface BuildSpec {
  source_type: BuildSourceType;
  source_url?: string;
  source_revision?: string;
  source_context_dir?: string;
  source_secret?: string;
  strategy_type: BuildStrategyType;
  /** The Dockerfile, relative to the context directory (`dockerfile` strategy). */
  strategy_spec_file?: string;
  /** Shell command run in the snapshot (`source` strategy); default `npm ci` when a lockfile exists. */
  source_build_command?: string;
  /** Copy `node_modules` into the snapshot too (`source` strategy). @default false */
  source_include_node_modules?: boolean;
  timeout: number;
}

export const BUILD_FIELDS = [
  'source_type',
  'source_url',
  'source_revision',
  'source_context_dir',
  'source_secret',
  'strategy_type',
  'strategy_spec_file',
  'source_build_command',
  'source_include_node_modules',
  'timeout',
] as const satisfies readonly (keyof BuildSpec)[];

export type BuildStatus = 'ready';

export interface Build extends BuildSpec {
  id: string;
  name: string;
  project_id: string;
  region: string;
  resource_type: 'build_v2';
  created_at: string;
  entity_tag: string;
  status: BuildStatus;
  /** Where images of this build go (`dockerfile`), or the snapshot prefix (`source`). */
  output_image: string;
}

export type BuildRunStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export const BUILD_RUN_STATUSES: readonly BuildRunStatus[] = ['pending', 'running', 'succeeded', 'failed'];

/** Why a build run failed (`status_details.reason`). */
export type BuildFailureReason =
  | 'BuildFailed'
  | 'BuildTimeout'
  | 'SourceCloneFailed'
  | 'SourceMissing'
  | 'ContextDirNotFound'
  | 'DockerfileNotFound'
  | 'Interrupted'
  | 'Cancelled';

export const BUILD_FAILURE_REASONS: readonly BuildFailureReason[] = [
  'BuildFailed',
  'BuildTimeout',
  'SourceCloneFailed',
  'SourceMissing',
  'ContextDirNotFound',
  'DockerfileNotFound',
  'Interrupted',
  'Cancelled',
];

export interface BuildRunStatusDetails {
  reason?: BuildFailureReason;
  /** One sentence (the failure's cause with the last lines of the log for `BuildFailed`). */
  message?: string;
  started_at?: string;
  completed_at?: string;
  /** `sha256:<hex>`: the image id, or the digest of the snapshot's content. */
  output_digest?: string;
}

export interface BuildRun extends BuildSpec {
  id: string;
  name: string;
  project_id: string;
  region: string;
  resource_type: 'build_run_v2';
  created_at: string;
  build_name: string;
  status: BuildRunStatus;
  status_details: BuildRunStatusDetails;
  /** Set once succeeded: the immutable reference a job runs (`image_reference`). */
  output_image?: string;
}

export const BUILD_RUN_TRANSITIONS: Readonly<Record<BuildRunStatus, readonly BuildRunStatus[]>> = {
  pending: ['running', 'failed'],
  running: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
};

export function isBuildRunTerminal(s: BuildRunStatus): boolean {
  return s === 'succeeded' || s === 'failed';
}

/** Returns `to` when the move is allowed (or a no-op); throws otherwise. */
export function transitionBuildRun(from: BuildRunStatus, to: BuildRunStatus): BuildRunStatus {
  if (from === to || BUILD_RUN_TRANSITIONS[from].includes(to)) return to;
  throw new IllegalTransitionError('build run', from, to);
}

const GIT_URL = /^(?:(?:file|https?|ssh|git):\/\/\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$/;
/** Branch, tag or commit: git's ref rules, simplified (no spaces, `..`, `~^:?*[\`, leading `-`). */
const REVISION = /^(?!-)(?!.*\.\.)[^\s~^:?*[\\]{1,255}$/;

/** A relative path inside the source: no absolute path, no `..`, no empty or `.` only segments. */
export function checkRelativePath(v: unknown, field: string): FieldIssue[] {
  if (typeof v !== 'string') return [invalid('invalid_field', field, v, `it must be a string, got ${jsonType(v)}`)];
  const segs = v.split('/').filter((s) => s !== '' && s !== '.');
  if (v.length > 1024 || v.startsWith('/') || segs.includes('..') || /[\0\n]/.test(v)) {
    return [invalid('invalid_field', field, v, 'it must be a relative path inside the source (no leading /, no .., at most 1024 characters)')];
  }
  return [];
}

/** Normalises a relative path: `./a//b/` → `a/b`, `.` → `` (the root). */
export function normalizeRelativePath(v: string): string {
  return v.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

function checkField(key: keyof BuildSpec, v: unknown, out: FieldIssue[]): void {
  const str = (rule?: (s: string) => FieldIssue[]) => {
    if (typeof v !== 'string') out.push(invalid('invalid_field', key, v, `it must be a string, got ${jsonType(v)}`));
    else if (rule) out.push(...rule(v));
  };
  switch (key) {
    case 'source_type':
      if (v !== 'git' && v !== 'local') out.push(invalid('invalid_field', key, v, 'it must be git or local'));
      break;
    case 'source_url':
      str((s) => (s.length <= 1024 && GIT_URL.test(s)
        ? []
        : [invalid('invalid_field', key, s, 'it must be a Git URL: file://, https://, ssh:// or user@host:path, at most 1024 characters')]));
      break;
    case 'source_revision':
      str((s) => (REVISION.test(s) ? [] : [invalid('invalid_field', key, s, 'it must be a branch, tag or commit (no spaces, .., ~^:?*[\\ or leading -)')]));
      break;
    case 'source_context_dir':
    case 'strategy_spec_file':
      out.push(...checkRelativePath(v, key));
      if (key === 'strategy_spec_file' && typeof v === 'string' && normalizeRelativePath(v) === '') {
        out.push(invalid('invalid_field', key, v, 'it must name a file'));
      }
      break;
    case 'source_secret':
      str((s) => checkConfigName(s, key));
      break;
    case 'strategy_type':
      if (v === 'buildpacks') {
        out.push(invalid('invalid_field', key, v, 'cejobs has no buildpacks; use dockerfile (container driver) or source (process driver)'));
      } else if (v !== 'dockerfile' && v !== 'source') {
        out.push(invalid('invalid_field', key, v, 'it must be dockerfile or source'));
      }
      break;
    case 'source_build_command':
      str((s) => (s.length <= 4096 && !s.includes('\0') ? [] : [invalid('invalid_field', key, s, 'it must be a shell command of at most 4096 characters')]));
      break;
    case 'source_include_node_modules':
      if (typeof v !== 'boolean') out.push(invalid('invalid_field', key, v, `it must be a boolean, got ${jsonType(v)}`));
      break;
    case 'timeout':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_BUILD_TIMEOUT) {
        out.push(invalid('invalid_field', key, v, `it must be an integer number of seconds, 1-${MAX_BUILD_TIMEOUT}`));
      }
      break;
  }
}

/** Rules between fields of a complete spec. */
function checkConsistency(spec: BuildSpec, out: FieldIssue[]): void {
  if (spec.source_type === 'git' && spec.source_url === undefined) {
    out.push(issue('missing_field', 'source_url', 'source_url is missing: a build with source_type git needs the URL of the repository'));
  }
  if (spec.source_type === 'local') {
    for (const f of ['source_url', 'source_revision', 'source_secret'] as const) {
      if (spec[f] !== undefined) out.push(issue('invalid_field', f, `${f} is not valid: a build with source_type local has no ${f} (its source is uploaded)`));
    }
  }
  if (spec.strategy_type === 'source' && spec.strategy_spec_file !== undefined) {
    out.push(issue('invalid_field', 'strategy_spec_file', 'strategy_spec_file is not valid with strategy_type source (there is no Dockerfile)'));
  }
  if (spec.strategy_type === 'dockerfile') {
    for (const f of ['source_build_command', 'source_include_node_modules'] as const) {
      if (spec[f] !== undefined) out.push(issue('invalid_field', f, `${f} is not valid with strategy_type dockerfile (the Dockerfile says how to build)`));
    }
  }
}

function assign(spec: Record<string, unknown>, input: Record<string, unknown>, out: FieldIssue[], allowNull: boolean): void {
  for (const [k, v] of Object.entries(input)) {
    if (!(BUILD_FIELDS as readonly string[]).includes(k)) {
      out.push(issue('unknown_field', k, `${k} is not a field of a build; the fields are name, ${BUILD_FIELDS.join(', ')}`));
      continue;
    }
    const key = k as keyof BuildSpec;
    if (v === null && allowNull) {
      if (key === 'source_type' || key === 'strategy_type' || key === 'timeout') {
        out.push(issue('invalid_field', key, `${key} cannot be removed (null); set another value`));
      } else delete spec[key];
      continue;
    }
    checkField(key, v, out);
    spec[key] = v;
  }
}

function normalize(spec: BuildSpec): BuildSpec {
  const out = { ...spec };
  if (out.source_context_dir !== undefined) {
    const n = normalizeRelativePath(out.source_context_dir);
    if (n === '') delete out.source_context_dir;
    else out.source_context_dir = n;
  }
  if (out.strategy_spec_file !== undefined) out.strategy_spec_file = normalizeRelativePath(out.strategy_spec_file);
  return out;
}

/**
 * Validates a create body `{ name, ...BuildSpec }`. `defaultStrategy` is the strategy of the
 * server's driver (used when `strategy_type` is absent).
 */
export function validateBuildPrototype(input: unknown, defaultStrategy: BuildStrategyType): { name: string; spec: BuildSpec } {
  if (!isPlainObject(input)) throw new CejobsError('invalid_field', `body must be a JSON object, got ${jsonType(input)}`);
  const out: FieldIssue[] = [];
  if (!has(input, 'name')) out.push(issue('missing_field', 'name', 'name is missing: a build needs a name'));
  else out.push(...checkJobName(input.name, 'name'));
  const { name, ...rest } = input;
  const spec: Record<string, unknown> = { strategy_type: defaultStrategy, timeout: DEFAULT_BUILD_TIMEOUT };
  if (!has(rest, 'source_type')) spec.source_type = has(rest, 'source_url') ? 'git' : 'local';
  assign(spec, rest, out, false);
  throwIfAny(out);
  checkConsistency(spec as unknown as BuildSpec, out);
  throwIfAny(out);
  return { name: name as string, spec: normalize(spec as unknown as BuildSpec) };
}

/** Applies a merge patch (null removes an optional field) to a build's spec. */
export function validateBuildPatch(current: BuildSpec, patch: unknown): BuildSpec {
  if (!isPlainObject(patch)) throw new CejobsError('invalid_field', `body must be a JSON object, got ${jsonType(patch)}`);
  const out: FieldIssue[] = [];
  if (has(patch, 'name')) out.push(issue('invalid_field', 'name', 'name cannot be changed; create another build'));
  const { name: _ignored, ...rest } = patch;
  const spec: Record<string, unknown> = { ...current };
  assign(spec, rest, out, true);
  throwIfAny(out);
  // Switching to local drops what only a Git source has.
  if (rest.source_type === 'local') for (const f of ['source_url', 'source_revision', 'source_secret']) if (!has(rest, f)) delete spec[f];
  if (rest.strategy_type !== undefined && rest.strategy_type !== current.strategy_type) {
    for (const f of ['strategy_spec_file', 'source_build_command', 'source_include_node_modules']) if (!has(rest, f)) delete spec[f];
  }
  checkConsistency(spec as unknown as BuildSpec, out);
  throwIfAny(out);
  return normalize(spec as unknown as BuildSpec);
}

/** Validates a build run submit body `{ build_name, name? }`. */
export function validateBuildRunPrototype(input: unknown): { build_name: string; name?: string } {
  if (!isPlainObject(input)) throw new CejobsError('invalid_field', `body must be a JSON object, got ${jsonType(input)}`);
  const out: FieldIssue[] = [];
  for (const k of Object.keys(input)) {
    if (k !== 'build_name' && k !== 'name') out.push(issue('unknown_field', k, `${k} is not a field of a build run submit; the fields are build_name and name`));
  }
  if (!has(input, 'build_name')) out.push(issue('missing_field', 'build_name', 'build_name is missing: a build run runs a build'));
  else out.push(...checkJobName(input.build_name, 'build_name'));
  if (has(input, 'name')) out.push(...checkJobName(input.name, 'name'));
  throwIfAny(out);
  return has(input, 'name') ? { build_name: input.build_name as string, name: input.name as string } : { build_name: input.build_name as string };
}

/** The last `n` lines of a log text, for failure messages. */
export function logTail(text: string, n = 10): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
