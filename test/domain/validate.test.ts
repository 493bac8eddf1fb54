import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/domain/defaults.js';
import {
  MAX_ARRAY_SIZE_OVERRIDE,
  checkObjectSize,
  validateJobPatch,
  validateJobPrototype,
  validateJobRunPrototype,
} from '../../src/domain/validate.js';
import type { ErrorCode } from '../../src/domain/errors.js';
import type { RuntimeSpec } from '../../src/domain/types.js';
import { catchError, expectThrowsIssue } from './helpers.js';

const IMAGE = 'icr.io/codeengine/helloworld';
const job = (extra: Record<string, unknown> = {}) => ({ name: 'myjob', image_reference: IMAGE, ...extra });

describe('validateJobPrototype: valid jobs', () => {
  it('fills the defaults', () => {
    expect(validateJobPrototype(job())).toEqual({ name: 'myjob', ...withDefaults({ image_reference: IMAGE }) });
  });
  it('accepts a job without an image (process driver)', () => {
    expect(validateJobPrototype({ name: 'j', run_commands: ['echo'] }).image_reference).toBeUndefined();
  });
  it.each<[string, Record<string, unknown>]>([
    ['max execution time 1', { scale_max_execution_time: 1 }],
    ['max execution time 86400', { scale_max_execution_time: 86_400 }],
    ['retry limit 0', { scale_retry_limit: 0 }],
    ['retry limit 5', { scale_retry_limit: 5 }],
    ['daemon', { run_mode: 'daemon' }],
    ['daemon with null task fields', { run_mode: 'daemon', scale_retry_limit: null, scale_max_execution_time: null }],
    ['array spec 1000 indices', { scale_array_spec: '0-999' }],
    ['array index 9999999', { scale_array_spec: '9999999' }],
    ['cpu/memory pair', { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G', scale_ephemeral_storage_limit: '400M' }],
    ['decimal equivalent', { scale_memory_limit: '4000M' }],
    ['100 commands', { run_commands: Array.from({ length: 100 }, () => 'x') }],
    ['100 arguments', { run_arguments: Array.from({ length: 100 }, () => 'x') }],
    ['every field', {
      image_secret: 'my-registry-secret',
      run_mode: 'task',
      run_commands: ['/app'],
      run_arguments: ['-d'],
      run_env_variables: [{ name: 'TARGET', value: 'World' }],
      run_volume_mounts: [{ reference: 'db-secret', mount_path: '/etc/secret' }],
      run_as_user: 1000,
      run_service_account: 'reader',
      run_compute_resource_token_enabled: true,
      scale_array_spec: '0-9',
      scale_cpu_limit: '2',
      scale_memory_limit: '8G',
      scale_ephemeral_storage_limit: '1G',
      scale_max_execution_time: 600,
      scale_retry_limit: 1,
    }],
  ])('%s', (_label, extra) => {
    expect(() => validateJobPrototype(job(extra))).not.toThrow();
  });
  it.each([
    'busybox',
    'ubuntu:22.04',
    'docker.io/library/ubuntu:latest',
    'localhost:5000/my-app',
    'us.icr.io/ns/repo_name/sub.repo:v1.2-rc',
    `icr.io/codeengine/helloworld@sha256:${'a'.repeat(64)}`,
    `icr.io/codeengine/helloworld:latest@sha256:${'0'.repeat(64)}`,
    'a'.repeat(256),
  ])('image %j is accepted', (image) => {
    expect(validateJobPrototype(job({ image_reference: image })).image_reference).toBe(image);
  });
  it('normalises the array spec and fills env types', () => {
    const j = validateJobPrototype(job({ scale_array_spec: '7, 1 - 3,2', run_env_variables: [{ name: 'A', value: 'b' }] }));
    expect(j.scale_array_spec).toBe('1-3,7');
    expect(j.run_env_variables).toEqual([{ type: 'literal', name: 'A', value: 'b' }]);
  });
  it('leaves daemon jobs without task-only fields', () => {
    const j = validateJobPrototype(job({ run_mode: 'daemon' }));
    expect(j).not.toHaveProperty('scale_retry_limit');
    expect(j).not.toHaveProperty('scale_max_execution_time');
  });
});

describe('validateJobPrototype: each rule names the field and the value', () => {
  it.each<[string, unknown, ErrorCode, string, string[]]>([
    ['missing name', { image_reference: IMAGE }, 'missing_field', 'name', ['is missing']],
    ['null name', { name: null }, 'missing_field', 'name', ['is missing']],
    ['bad name', job({ name: 'My_Job' }), 'invalid_name', 'name', ['"My_Job"', '1-63']],
    ['64-char name', job({ name: 'a'.repeat(64) }), 'invalid_name', 'name', ['aaaa', 'it has 64 characters']],
    ['unknown field', job({ colour: 'red' }), 'unknown_field', 'colour', ['"red"', 'scale_retry_limit', 'image_reference']],
    ['read-only field', job({ id: 'x' }), 'unknown_field', 'id', ['"x"']],
    ['exec time 0', job({ scale_max_execution_time: 0 }), 'invalid_field', 'scale_max_execution_time', ['0', '1 to 86400']],
    ['exec time 86401', job({ scale_max_execution_time: 86_401 }), 'invalid_field', 'scale_max_execution_time', ['86401', '1 to 86400']],
    ['exec time 1.5', job({ scale_max_execution_time: 1.5 }), 'invalid_field', 'scale_max_execution_time', ['1.5']],
    ['exec time string', job({ scale_max_execution_time: '60' }), 'invalid_field', 'scale_max_execution_time', ['"60"']],
    ['retry -1', job({ scale_retry_limit: -1 }), 'invalid_field', 'scale_retry_limit', ['-1', '0 to 5']],
    ['retry 6', job({ scale_retry_limit: 6 }), 'invalid_field', 'scale_retry_limit', ['6', '0 to 5']],
    ['bad mode', job({ run_mode: 'batch' }), 'invalid_field', 'run_mode', ['"batch"', 'task, daemon']],
    ['bad service account', job({ run_service_account: 'admin' }), 'invalid_field', 'run_service_account', ['"admin"', 'default, manager']],
    ['token not boolean', job({ run_compute_resource_token_enabled: 'yes' }), 'invalid_field', 'run_compute_resource_token_enabled', ['"yes"', 'boolean']],
    ['run_as_user negative', job({ run_as_user: -1 }), 'invalid_field', 'run_as_user', ['-1']],
    ['commands not an array', job({ run_commands: 'echo hi' }), 'invalid_field', 'run_commands', ['"echo hi"', 'array of strings']],
    ['command not a string', job({ run_commands: ['a', 5] }), 'invalid_field', 'run_commands[1]', ['5', 'only strings']],
    ['101 arguments', job({ run_arguments: Array.from({ length: 101 }, () => 'x') }), 'invalid_field', 'run_arguments', ['101 entries', 'limit of 100']],
    ['index 10000000', job({ scale_array_spec: '10000000' }), 'invalid_array_spec', 'scale_array_spec', ['"10000000"', 'maximum index 9999999']],
    ['1001 indices', job({ scale_array_spec: '0-1000' }), 'invalid_array_spec', 'scale_array_spec', ['"0-1000"', 'more than 1000']],
    ['array spec number', job({ scale_array_spec: 5 }), 'invalid_array_spec', 'scale_array_spec', ['5', 'string']],
    ['cpu not a pair', job({ scale_cpu_limit: '3' }), 'invalid_resources', 'scale_cpu_limit', ['"3"', 'one of 0.125']],
    ['cpu as number', job({ scale_cpu_limit: 1 }), 'invalid_resources', 'scale_cpu_limit', ['1', 'must be a string']],
    ['cpu 0.125 with default memory', job({ scale_cpu_limit: '0.125' }), 'invalid_resources', 'scale_memory_limit', ['"4G"', '0.25G, 0.5G, 1G']],
    ['memory off the table', job({ scale_memory_limit: '3G' }), 'invalid_resources', 'scale_memory_limit', ['"3G"', '2G, 4G, 8G']],
    ['storage above memory', job({ scale_ephemeral_storage_limit: '4.1G' }), 'invalid_resources', 'scale_ephemeral_storage_limit', ['"4.1G"', 'i.e. 4G']],
    ['image uppercase', job({ image_reference: 'Ubuntu' }), 'invalid_field', 'image_reference', ['"Ubuntu"', 'lowercase']],
    ['image with spaces', job({ image_reference: 'my image' }), 'invalid_field', 'image_reference', ['"my image"']],
    ['image bad digest', job({ image_reference: 'busybox@sha256:abc' }), 'invalid_field', 'image_reference', ['"busybox@sha256:abc"']],
    ['image 257 chars', job({ image_reference: 'a'.repeat(257) }), 'invalid_field', 'image_reference', ['aaaa', 'it has 257']],
    ['image empty', job({ image_reference: '' }), 'invalid_field', 'image_reference', ['""']],
    ['image secret name', job({ image_secret: 'My Secret' }), 'invalid_name', 'image_secret', ['"My Secret"']],
    ['env var', job({ run_env_variables: [{ name: 'JOB_INDEX', value: '1' }] }), 'invalid_field', 'run_env_variables[0].name', ['"JOB_INDEX"', 'reserved']],
    ['mount', job({ run_volume_mounts: [{ reference: 'a', mount_path: 'rel' }] }), 'invalid_field', 'run_volume_mounts[0].mount_path', ['"rel"']],
    ['daemon + retry', job({ run_mode: 'daemon', scale_retry_limit: 3 }), 'not_allowed_in_daemon_mode', 'scale_retry_limit', ['3', 'scale_retry_limit 3 is not allowed in daemon mode: daemon instances are restarted without limit']],
    ['daemon + retry 0', job({ run_mode: 'daemon', scale_retry_limit: 0 }), 'not_allowed_in_daemon_mode', 'scale_retry_limit', ['0']],
    ['daemon + exec time', job({ run_mode: 'daemon', scale_max_execution_time: 7200 }), 'not_allowed_in_daemon_mode', 'scale_max_execution_time', ['7200', 'without a deadline']],
  ])('%s', (_label, input, code, field, fragments) => {
    expectThrowsIssue(() => validateJobPrototype(input), code, field, ...fragments);
  });

  it.each([null, 42, 'job', [job()]])('rejects a non-object %j', (input) => {
    expectThrowsIssue(() => validateJobPrototype(input), 'invalid_field', 'job', 'JSON object');
  });

  it('collects every issue at once', () => {
    const e = catchError(() =>
      validateJobPrototype({ name: 'Bad', scale_retry_limit: 9, run_mode: 'daemon', scale_array_spec: '2-1', x: 1 }),
    );
    expect(e.issues.map((i) => i.field).sort()).toEqual(['name', 'scale_array_spec', 'scale_retry_limit', 'scale_retry_limit', 'x']);
    expect(e.status).toBe(400);
  });
});

describe('size limit (10 KiB, reference §4.1)', () => {
  /** A job whose validated JSON is exactly `bytes` long. */
  function jobOfSize(bytes: number) {
    const probe = validateJobPrototype(job({ run_env_variables: [{ name: 'PAD', value: '' }] }));
    const pad = bytes - JSON.stringify(probe).length;
    return job({ run_env_variables: [{ name: 'PAD', value: 'x'.repeat(pad) }] });
  }
  it('accepts exactly 10240 bytes', () => {
    const j = validateJobPrototype(jobOfSize(10_240));
    expect(JSON.stringify(j)).toHaveLength(10_240);
  });
  it('rejects 10241 bytes, saying the size and the limit', () => {
    expectThrowsIssue(() => validateJobPrototype(jobOfSize(10_241)), 'object_too_large', 'job', '10241 bytes', '10240 bytes');
  });
  it('counts UTF-8 bytes', () => {
    expect(checkObjectSize({ v: 'é'.repeat(5200) }, 'job run')[0]!.message).toContain('the job_run object is 10408 bytes');
    expect(checkObjectSize({ v: 'é'.repeat(5200) }, 'job run')[0]!.field).toBe('job_run');
    expect(checkObjectSize({ v: 'e'.repeat(5200) }, 'job')).toEqual([]);
  });
  it('applies to runs', () => {
    expectThrowsIssue(
      () => validateJobRunPrototype({ image_reference: IMAGE, run_arguments: ['x'.repeat(10_300)] }, undefined),
      'object_too_large',
      'job_run',
      '10240 bytes',
    );
  });
});

function current(extra: Partial<RuntimeSpec> = {}): RuntimeSpec {
  return withDefaults({ image_reference: IMAGE, ...extra });
}

describe('validateJobPatch (JSON merge patch)', () => {
  it('replaces the fields it sets', () => {
    expect(validateJobPatch({ scale_cpu_limit: '2', run_arguments: ['a'] }, current())).toEqual(
      current({ scale_cpu_limit: '2', run_arguments: ['a'] }),
    );
  });
  it('null brings a field back to its default', () => {
    const spec = validateJobPatch({ scale_retry_limit: null, run_commands: null, image_secret: null }, current({ scale_retry_limit: 1, run_commands: ['x'], image_secret: 's' }));
    expect(spec.scale_retry_limit).toBe(3);
    expect(spec.run_commands).toEqual([]);
    expect(spec).not.toHaveProperty('image_secret');
  });
  it('an empty patch changes nothing', () => {
    expect(validateJobPatch({}, current({ scale_array_spec: '0-4' }))).toEqual(current({ scale_array_spec: '0-4' }));
  });
  it('switching to daemon drops the current task-only fields', () => {
    const spec = validateJobPatch({ run_mode: 'daemon' }, current({ scale_retry_limit: 5, scale_max_execution_time: 60 }));
    expect(spec.run_mode).toBe('daemon');
    expect(spec).not.toHaveProperty('scale_retry_limit');
    expect(spec).not.toHaveProperty('scale_max_execution_time');
  });
  it.each(['scale_retry_limit', 'scale_max_execution_time'])('switching to daemon while setting %s is rejected', (f) => {
    expectThrowsIssue(() => validateJobPatch({ run_mode: 'daemon', [f]: 1 }, current()), 'not_allowed_in_daemon_mode', f, 'daemon mode');
  });
  it.each(['scale_retry_limit', 'scale_max_execution_time'])('setting %s on a daemon job is rejected', (f) => {
    expectThrowsIssue(() => validateJobPatch({ [f]: 2 }, current({ run_mode: 'daemon' })), 'not_allowed_in_daemon_mode', f, '2');
  });
  it('switching back to task restores the defaults', () => {
    const spec = validateJobPatch({ run_mode: 'task' }, current({ run_mode: 'daemon' }));
    expect(spec.scale_retry_limit).toBe(3);
    expect(spec.scale_max_execution_time).toBe(7200);
  });
  it('switching to task via null run_mode also restores them', () => {
    expect(validateJobPatch({ run_mode: null, scale_retry_limit: 1 }, current({ run_mode: 'daemon' })).scale_retry_limit).toBe(1);
  });
  it('re-validates the whole result (pair check with the current memory)', () => {
    expectThrowsIssue(() => validateJobPatch({ scale_cpu_limit: '0.125' }, current()), 'invalid_resources', 'scale_memory_limit', '"4G"');
  });
  it('checks types of patched fields', () => {
    expectThrowsIssue(() => validateJobPatch({ scale_retry_limit: 6 }, current()), 'invalid_field', 'scale_retry_limit', '6');
  });
  it.each([
    ['name', 'cannot be changed'],
    ['colour', 'scale_retry_limit'],
  ])('rejects the field %s', (f, rule) => {
    expectThrowsIssue(() => validateJobPatch({ [f]: 'x' }, current()), 'unknown_field', f, '"x"', rule);
  });
  it('rejects a non-object', () => {
    expectThrowsIssue(() => validateJobPatch([], current()), 'invalid_field', 'job', '[]', 'a job patch must be a JSON object');
  });
  it('checks the size with the name', () => {
    const big = 'x'.repeat(10_240 - JSON.stringify(current({ run_arguments: [''] })).length);
    expect(() => validateJobPatch({ run_arguments: [big] }, current())).not.toThrow();
    expectThrowsIssue(() => validateJobPatch({ run_arguments: [big] }, current(), 'myjob'), 'object_too_large', 'job', '10240');
  });
});

const theJob = () =>
  validateJobPrototype(
    job({
      image_secret: 'reg',
      run_env_variables: [
        { name: 'envA', value: 'a' },
        { name: 'envB', value: 'b' },
      ],
      scale_array_spec: '0-9',
    }),
  );

describe('validateJobRunPrototype with a job', () => {
  it('inherits the job', () => {
    const { name, ...spec } = theJob();
    expect(validateJobRunPrototype({ job_name: 'myjob' }, theJob())).toEqual({ job_name: name, spec });
  });
  it('sets job_name from the job when the prototype omits it', () => {
    expect(validateJobRunPrototype({}, theJob()).job_name).toBe('myjob');
  });
  it('merges env (reference §1.8 example) and replaces other fields', () => {
    const run = validateJobRunPrototype(
      {
        job_name: 'myjob',
        name: 'run1',
        run_env_variables: [
          { name: 'envB', value: 'BB' },
          { name: 'envC', value: 'C' },
        ],
        scale_array_spec: '4 - 5',
        scale_array_size_variable_override: 10,
        run_arguments: ['x'],
      },
      theJob(),
    );
    expect(run.name).toBe('run1');
    expect(run.scale_array_size_variable_override).toBe(10);
    expect(run.spec.run_env_variables).toEqual([
      { type: 'literal', name: 'envA', value: 'a' },
      { type: 'literal', name: 'envB', value: 'BB' },
      { type: 'literal', name: 'envC', value: 'C' },
    ]);
    expect(run.spec.scale_array_spec).toBe('4-5');
    expect(run.spec.run_arguments).toEqual(['x']);
    expect(run.spec.image_reference).toBe(IMAGE);
  });
  it.each<[string, unknown]>([
    ['image_reference', 'busybox'],
    ['image_secret', 'other'],
    ['run_service_account', 'manager'],
  ])('rejects %s = %j (image override)', (f, v) => {
    expectThrowsIssue(
      () => validateJobRunPrototype({ job_name: 'myjob', [f]: v }, theJob()),
      'image_override_not_allowed',
      f,
      JSON.stringify(v),
      "you cannot override the job's image",
      'myjob',
    );
  });
  it('accepts the job\'s own image, secret and service account', () => {
    expect(() =>
      validateJobRunPrototype({ job_name: 'myjob', image_reference: IMAGE, image_secret: 'reg', run_service_account: 'default' }, theJob()),
    ).not.toThrow();
  });
  it('overrides task fields within range', () => {
    const run = validateJobRunPrototype({ scale_retry_limit: 0, scale_max_execution_time: 1 }, theJob());
    expect(run.spec.scale_retry_limit).toBe(0);
    expect(run.spec.scale_max_execution_time).toBe(1);
  });
  it('switching the run to daemon drops the job\'s task fields', () => {
    const spec = validateJobRunPrototype({ run_mode: 'daemon' }, theJob()).spec;
    expect(spec).not.toHaveProperty('scale_retry_limit');
    expect(spec).not.toHaveProperty('scale_max_execution_time');
  });
  it.each(['scale_retry_limit', 'scale_max_execution_time'])('a run of a daemon job may not set %s', (f) => {
    const daemon = validateJobPrototype(job({ run_mode: 'daemon' }));
    expectThrowsIssue(() => validateJobRunPrototype({ [f]: 1 }, daemon), 'not_allowed_in_daemon_mode', f, 'daemon mode');
  });
  it('a run of a daemon job may switch to task', () => {
    const daemon = validateJobPrototype(job({ run_mode: 'daemon' }));
    expect(validateJobRunPrototype({ run_mode: 'task' }, daemon).spec.scale_retry_limit).toBe(3);
  });
  it('checks the pair against the inherited memory', () => {
    expectThrowsIssue(() => validateJobRunPrototype({ scale_cpu_limit: '12' }, theJob()), 'invalid_resources', 'scale_memory_limit', '"4G"', '24G, 48G');
  });
  it('null inherits', () => {
    expect(validateJobRunPrototype({ scale_array_spec: null }, theJob()).spec.scale_array_spec).toBe('0-9');
  });
});

describe('validateJobRunPrototype standalone', () => {
  it('uses the defaults', () => {
    expect(validateJobRunPrototype({ name: 'hi-job', image_reference: IMAGE, scale_array_spec: '1' }, undefined)).toEqual({
      name: 'hi-job',
      spec: withDefaults({ image_reference: IMAGE, scale_array_spec: '1' }),
    });
  });
  it('accepts run_commands without an image (process driver)', () => {
    expect(validateJobRunPrototype({ run_commands: ['echo'] }, undefined).spec.image_reference).toBeUndefined();
  });
  it('accepts image_secret and service account', () => {
    expect(() =>
      validateJobRunPrototype({ image_reference: IMAGE, image_secret: 'reg', run_service_account: 'none' }, undefined),
    ).not.toThrow();
  });
  it('needs an image or a command', () => {
    expectThrowsIssue(() => validateJobRunPrototype({ run_commands: [] }, undefined), 'missing_field', 'image_reference', 'without job_name');
  });
  it('daemon runs reject task fields', () => {
    expectThrowsIssue(
      () => validateJobRunPrototype({ image_reference: IMAGE, run_mode: 'daemon', scale_retry_limit: 3 }, undefined),
      'not_allowed_in_daemon_mode',
      'scale_retry_limit',
      'scale_retry_limit 3 is not allowed in daemon mode',
    );
  });
});

describe('validateJobRunPrototype: names and the override', () => {
  it.each([1, 10, 1000, MAX_ARRAY_SIZE_OVERRIDE])('override %i is valid', (n) => {
    expect(validateJobRunPrototype({ image_reference: IMAGE, scale_array_size_variable_override: n }, undefined).scale_array_size_variable_override).toBe(n);
  });
  it.each<[unknown, string]>([
    [0, '0'],
    [-1, '-1'],
    [10_000_001, '10000001'],
    [2.5, '2.5'],
    ['10', '"10"'],
  ])('override %j is invalid', (n, shown) => {
    expectThrowsIssue(
      () => validateJobRunPrototype({ image_reference: IMAGE, scale_array_size_variable_override: n }, undefined),
      'invalid_field',
      'scale_array_size_variable_override',
      shown,
      '1 to 10000000',
    );
  });
  it('accepts a 53-char run name and rejects 54', () => {
    expect(validateJobRunPrototype({ name: 'r'.repeat(53), image_reference: IMAGE }, undefined).name).toBe('r'.repeat(53));
    expectThrowsIssue(() => validateJobRunPrototype({ name: 'r'.repeat(54), image_reference: IMAGE }, undefined), 'invalid_name', 'name', 'it has 54 characters');
  });
  it('checks the job_name syntax', () => {
    expectThrowsIssue(() => validateJobRunPrototype({ job_name: 'Bad Job' }, undefined), 'invalid_name', 'job_name', '"Bad Job"');
  });
  it('rejects unknown fields, listing the allowed ones', () => {
    expectThrowsIssue(
      () => validateJobRunPrototype({ image_reference: IMAGE, status: 'running' }, undefined),
      'unknown_field',
      'status',
      '"running"',
      'scale_array_size_variable_override',
    );
  });
  it('rejects a non-object', () => {
    expectThrowsIssue(() => validateJobRunPrototype('x', undefined), 'invalid_field', 'job_run', '"x"');
  });
});
