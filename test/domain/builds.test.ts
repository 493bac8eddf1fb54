/**
 * The build domain: validation of builds and build runs (every issue naming its field), merge
 * patches, the build-run state machine and the log tail.
 */
import { describe, expect, it } from 'vitest';
import {
  BUILD_RUN_TRANSITIONS,
  isBuildRunTerminal,
  logTail,
  normalizeRelativePath,
  transitionBuildRun,
  validateBuildPatch,
  validateBuildPrototype,
  validateBuildRunPrototype,
  type BuildRunStatus,
} from '../../src/domain/builds.js';
import { CejobsError } from '../../src/domain/errors.js';

function issuesOf(fn: () => unknown): { code: string; field: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CejobsError) return e.issues.map((i) => ({ ...i }));
    throw e;
  }
  throw new Error('no error');
}

describe('validateBuildPrototype', () => {
  it('fills defaults: git when a URL is given, else local; the driver strategy; 600 s', () => {
    expect(validateBuildPrototype({ name: 'a', source_url: 'https://github.com/x/y.git' }, 'dockerfile')).toEqual({
      name: 'a',
      spec: { source_type: 'git', source_url: 'https://github.com/x/y.git', strategy_type: 'dockerfile', timeout: 600 },
    });
    expect(validateBuildPrototype({ name: 'b' }, 'source').spec).toEqual({ source_type: 'local', strategy_type: 'source', timeout: 600 });
  });

  it('accepts every Git URL form and normalises the context dir', () => {
    for (const url of ['file:///tmp/r', 'https://h/r.git', 'ssh://git@h:22/r.git', 'git@github.com:o/r.git', 'git://h/r']) {
      expect(validateBuildPrototype({ name: 'a', source_url: url }, 'source').spec.source_url).toBe(url);
    }
    expect(validateBuildPrototype({ name: 'a', source_type: 'local', source_context_dir: './app//web/' }, 'source').spec.source_context_dir).toBe('app/web');
    expect(validateBuildPrototype({ name: 'a', source_type: 'local', source_context_dir: '.' }, 'source').spec.source_context_dir).toBeUndefined();
  });

  it.each([
    [{ name: 'a', source_url: 'ftp://x' }, 'source_url', 'Git URL'],
    [{ name: 'a', source_url: 'file:///r', source_revision: '-rf' }, 'source_revision', 'branch, tag or commit'],
    [{ name: 'a', source_url: 'file:///r', source_revision: 'has space' }, 'source_revision', 'branch, tag or commit'],
    [{ name: 'a', source_type: 'local', source_context_dir: 'a/../../b' }, 'source_context_dir', 'relative path'],
    [{ name: 'a', source_type: 'local', timeout: 1.5 }, 'timeout', '1-3600'],
    [{ name: 'a', source_type: 'local', strategy_type: 'buildpacks' }, 'strategy_type', 'no buildpacks'],
    [{ name: 'a', source_type: 'local', strategy_type: 'kaniko' }, 'strategy_type', 'dockerfile or source'],
    [{ name: 'a', source_type: 'local', source_include_node_modules: 'yes' }, 'source_include_node_modules', 'boolean'],
    [{ name: 'a', source_type: 'local', source_revision: 'main' }, 'source_revision', 'uploaded'],
    [{ name: 'a', source_type: 'git' }, 'source_url', 'needs the URL'],
    [{ name: 'a', source_type: 'local', bogus: 1 }, 'bogus', 'not a field of a build'],
    [{ name: 'Not_OK', source_type: 'local' }, 'name', 'name'],
  ])('refuses %j naming %s', (input, field, words) => {
    const issues = issuesOf(() => validateBuildPrototype(input, 'source'));
    const hit = issues.find((i) => i.field === field);
    expect(hit, JSON.stringify(issues)).toBeDefined();
    expect(hit!.message).toContain(words);
  });

  it('refuses fields of the other strategy', () => {
    expect(issuesOf(() => validateBuildPrototype({ name: 'a', source_type: 'local', strategy_spec_file: 'Dockerfile' }, 'source'))[0]!.field).toBe('strategy_spec_file');
    expect(issuesOf(() => validateBuildPrototype({ name: 'a', source_type: 'local', source_build_command: 'make' }, 'dockerfile'))[0]!.field).toBe('source_build_command');
  });
});

describe('validateBuildPatch', () => {
  const base = validateBuildPrototype({ name: 'a', source_url: 'file:///r', source_revision: 'v1', source_context_dir: 'app' }, 'dockerfile').spec;

  it('merges, removes with null, and drops git-only fields when switching to local', () => {
    expect(validateBuildPatch(base, { source_revision: null, timeout: 60 })).toEqual({ ...base, source_revision: undefined, timeout: 60 } as never);
    const local = validateBuildPatch(base, { source_type: 'local' });
    expect(local.source_url).toBeUndefined();
    expect(local.source_revision).toBeUndefined();
    expect(local.source_context_dir).toBe('app');
  });

  it('refuses a name change and removing a required field', () => {
    expect(issuesOf(() => validateBuildPatch(base, { name: 'b' }))[0]!.field).toBe('name');
    expect(issuesOf(() => validateBuildPatch(base, { timeout: null }))[0]!.field).toBe('timeout');
  });
});

describe('validateBuildRunPrototype', () => {
  it('takes build_name and an optional name', () => {
    expect(validateBuildRunPrototype({ build_name: 'a' })).toEqual({ build_name: 'a' });
    expect(validateBuildRunPrototype({ build_name: 'a', name: 'a-1' })).toEqual({ build_name: 'a', name: 'a-1' });
    expect(issuesOf(() => validateBuildRunPrototype({}))[0]).toMatchObject({ code: 'missing_field', field: 'build_name' });
    expect(issuesOf(() => validateBuildRunPrototype({ build_name: 'a', x: 1 }))[0]).toMatchObject({ code: 'unknown_field', field: 'x' });
  });
});

describe('the build run state machine', () => {
  it('moves pending → running → succeeded|failed, or pending → failed, and never back', () => {
    expect(transitionBuildRun('pending', 'running')).toBe('running');
    expect(transitionBuildRun('running', 'succeeded')).toBe('succeeded');
    expect(transitionBuildRun('pending', 'failed')).toBe('failed');
    expect(() => transitionBuildRun('succeeded', 'running')).toThrow(/Illegal build run transition/);
    expect(() => transitionBuildRun('pending', 'succeeded')).toThrow();
    for (const s of Object.keys(BUILD_RUN_TRANSITIONS) as BuildRunStatus[]) {
      expect(isBuildRunTerminal(s)).toBe(BUILD_RUN_TRANSITIONS[s].length === 0);
    }
  });
});

describe('helpers', () => {
  it('keeps the last lines of a log and normalises relative paths', () => {
    expect(logTail('a\nb\nc\n\n', 2)).toBe('b\nc');
    expect(normalizeRelativePath('./a/./b//')).toBe('a/b');
  });
});
