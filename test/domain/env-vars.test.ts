import { describe, expect, it } from 'vitest';
import {
  RESERVED_ENV_NAMES,
  checkEnvVars,
  checkVolumeMounts,
  composeEnv,
  instanceSystemEnv,
  mergeEnvVars,
  toEnvVars,
  toVolumeMounts,
} from '../../src/domain/env-vars.js';
import { CejobsError } from '../../src/domain/errors.js';
import type { EnvVar } from '../../src/domain/types.js';
import { catchError, expectIssue } from './helpers.js';

describe('checkEnvVars: valid lists (reference §5.3)', () => {
  it.each<[string, unknown[]]>([
    ['empty', []],
    ['literal', [{ type: 'literal', name: 'TARGET', value: 'World' }]],
    ['literal without type', [{ name: 'TARGET', value: 'World' }]],
    ['empty value', [{ name: 'EMPTY', value: '' }]],
    ['cm full reference', [{ type: 'config_map_full_reference', reference: 'my-cm' }]],
    ['secret full reference with prefix', [{ type: 'secret_full_reference', reference: 'sec', prefix: 'CFG_' }]],
    ['cm key reference', [{ type: 'config_map_key_reference', name: 'A', reference: 'cm', key: 'k.e-y_1' }]],
    ['secret key reference', [{ type: 'secret_key_reference', name: 'DB_PASSWORD', reference: 'db-secret', key: 'password' }]],
    ['name charset', [{ name: '-._aZ09', value: 'x' }]],
    ['253-char name', [{ name: 'N'.repeat(253), value: 'x' }]],
    ['value of 1048576 chars', [{ name: 'BIG', value: 'v'.repeat(1_048_576) }]],
    ['100 entries', Array.from({ length: 100 }, (_, i) => ({ name: `V${i}`, value: '' }))],
  ])('%s', (_label, list) => {
    expect(checkEnvVars(list)).toEqual([]);
  });
});

describe('checkEnvVars: invalid lists name the field path, the value and the rule', () => {
  it.each<[string, unknown, string, string, string[]]>([
    ['not an array', { a: 1 }, 'invalid_field', 'run_env_variables', ['{"a":1}', 'must be an array']],
    ['101 entries', Array.from({ length: 101 }, (_, i) => ({ name: `V${i}`, value: '' })), 'invalid_field', 'run_env_variables', ['101 entries', 'limit of 100']],
    ['entry not an object', ['A=B'], 'invalid_field', 'run_env_variables[0]', ['"A=B"', 'must be an object']],
    ['unknown type', [{ type: 'file', name: 'A' }], 'invalid_field', 'run_env_variables[0].type', ['"file"', 'literal, config_map_full_reference']],
    ['literal with key', [{ name: 'A', value: 'b', key: 'k' }], 'unknown_field', 'run_env_variables[0].key', ['"k"', 'not allowed for a literal variable']],
    ['full ref with name', [{ type: 'secret_full_reference', reference: 's', name: 'A' }], 'unknown_field', 'run_env_variables[0].name', ['"A"', 'uses type, reference, prefix']],
    ['key ref with prefix', [{ type: 'secret_key_reference', name: 'A', reference: 's', key: 'k', prefix: 'P' }], 'unknown_field', 'run_env_variables[0].prefix', ['"P"']],
    ['literal without value', [{ name: 'A' }], 'missing_field', 'run_env_variables[0].value', ['needs name, value']],
    ['literal without name', [{ value: 'x' }], 'missing_field', 'run_env_variables[0].name', ['needs name, value']],
    ['key ref without key', [{ type: 'config_map_key_reference', name: 'A', reference: 'cm' }], 'missing_field', 'run_env_variables[0].key', ['needs name, reference, key']],
    ['full ref without reference', [{ type: 'config_map_full_reference' }], 'missing_field', 'run_env_variables[0].reference', ['needs reference']],
    ['value not a string', [{ name: 'A', value: 5 }], 'invalid_field', 'run_env_variables[0].value', ['5', 'must be a string']],
    ['bad name chars', [{ name: 'A B', value: '' }], 'invalid_field', 'run_env_variables[0].name', ['"A B"', '1-253 characters']],
    ['empty name', [{ name: '', value: '' }], 'invalid_field', 'run_env_variables[0].name', ['""', '1-253 characters']],
    ['254-char name', [{ name: 'N'.repeat(254), value: '' }], 'invalid_field', 'run_env_variables[0].name', ['NNN', '1-253 characters']],
    ['bad key', [{ type: 'secret_key_reference', name: 'A', reference: 's', key: 'a/b' }], 'invalid_field', 'run_env_variables[0].key', ['"a/b"']],
    ['bad prefix', [{ type: 'secret_full_reference', reference: 's', prefix: '1X' }], 'invalid_field', 'run_env_variables[0].prefix', ['"1X"', 'a prefix must start']],
    ['prefix with dash', [{ type: 'secret_full_reference', reference: 's', prefix: 'A-' }], 'invalid_field', 'run_env_variables[0].prefix', ['"A-"']],
    ['bad reference', [{ type: 'secret_full_reference', reference: 'My_Secret' }], 'invalid_field', 'run_env_variables[0].reference', ['"My_Secret"', 'config map or secret name']],
    ['value too long', [{ name: 'BIG', value: 'v'.repeat(1_048_577) }], 'invalid_field', 'run_env_variables[0].value', ['vvv', 'it has 1048577']],
    ['second entry', [{ name: 'OK', value: '' }, { name: 'A B', value: '' }], 'invalid_field', 'run_env_variables[1].name', ['"A B"']],
  ])('%s', (_label, list, code, field, fragments) => {
    expectIssue(checkEnvVars(list), code as 'invalid_field', field, ...fragments);
  });

  it.each(RESERVED_ENV_NAMES)('reserved name %s is rejected for literals and key references', (name) => {
    expectIssue(checkEnvVars([{ name, value: 'x' }]), 'invalid_field', 'run_env_variables[0].name', `"${name}"`, 'reserved', 'the engine sets');
    expectIssue(
      checkEnvVars([{ type: 'secret_key_reference', name, reference: 's', key: 'k' }]),
      'invalid_field',
      'run_env_variables[0].name',
      'reserved',
    );
  });

  it('has the 13 reserved names of the brief', () => {
    expect([...RESERVED_ENV_NAMES].sort()).toEqual(
      ['CE_JOB', 'CE_JOBRUN', 'CE_PROJECT_ID', 'CE_SUBDOMAIN', 'CE_DOMAIN', 'CE_REGION', 'CE_API_BASE_URL', 'JOB_INDEX', 'JOB_ARRAY_SIZE', 'JOB_INDEX_RETRY_COUNT', 'JOB_RETRY_LIMIT', 'JOB_MODE', 'HOSTNAME'].sort(),
    );
  });

  it('uses the field name it is given', () => {
    expectIssue(checkEnvVars([{ name: 'A B', value: '' }], 'env'), 'invalid_field', 'env[0].name');
  });

  it('toEnvVars fills the default type and keeps only used properties', () => {
    expect(toEnvVars([{ name: 'A', value: 'b' }, { type: 'secret_full_reference', reference: 's' }])).toEqual([
      { type: 'literal', name: 'A', value: 'b' },
      { type: 'secret_full_reference', reference: 's' },
    ]);
  });
});

describe('checkVolumeMounts (reference §5.3)', () => {
  it.each<[string, unknown[]]>([
    ['empty', []],
    ['secret (default type)', [{ reference: 'db-secret', mount_path: '/etc/secret' }]],
    ['config map', [{ type: 'config_map', reference: 'cm', mount_path: '/cfg' }]],
    ['pds with sub_path', [{ type: 'persistent_data_store', reference: 'store', mount_path: '/mnt/data', sub_path: 'a/b', read_only: false }]],
    ['two distinct paths', [{ reference: 'a', mount_path: '/a' }, { reference: 'b', mount_path: '/b' }]],
    ['256-char path', [{ reference: 'a', mount_path: '/' + 'p'.repeat(255) }]],
    ['100 mounts', Array.from({ length: 100 }, (_, i) => ({ reference: 'a', mount_path: `/m${i}` }))],
  ])('%s is valid', (_label, list) => {
    expect(checkVolumeMounts(list)).toEqual([]);
  });

  it.each<[string, unknown, string, string, string[]]>([
    ['not an array', 'x', 'invalid_field', 'run_volume_mounts', ['"x"', 'must be an array']],
    ['101 mounts', Array.from({ length: 101 }, (_, i) => ({ reference: 'a', mount_path: `/m${i}` })), 'invalid_field', 'run_volume_mounts', ['101 entries']],
    ['bad type', [{ type: 'nfs', reference: 'a', mount_path: '/a' }], 'invalid_field', 'run_volume_mounts[0].type', ['"nfs"', 'config_map, secret, persistent_data_store']],
    ['relative path', [{ reference: 'a', mount_path: 'etc/x' }], 'invalid_field', 'run_volume_mounts[0].mount_path', ['"etc/x"', 'absolute path']],
    ['257-char path', [{ reference: 'a', mount_path: '/' + 'p'.repeat(256) }], 'invalid_field', 'run_volume_mounts[0].mount_path', ['ppp', 'at most 256']],
    ['root', [{ reference: 'a', mount_path: '/' }], 'invalid_field', 'run_volume_mounts[0].mount_path', ['"/"', "may not be '/'"]],
    ['dot-dot', [{ reference: 'a', mount_path: '/a/../b' }], 'invalid_field', 'run_volume_mounts[0].mount_path', ['"/a/../b"', "'..'"]],
    ['duplicate path', [{ reference: 'a', mount_path: '/a' }, { reference: 'b', mount_path: '/a/' }], 'invalid_field', 'run_volume_mounts[1].mount_path', ['"/a/"', 'unique', 'run_volume_mounts[0]']],
    ['missing reference', [{ mount_path: '/a' }], 'missing_field', 'run_volume_mounts[0].reference', ['needs reference and mount_path']],
    ['missing mount_path', [{ reference: 'a' }], 'missing_field', 'run_volume_mounts[0].mount_path', []],
    ['bad reference', [{ reference: 'A!', mount_path: '/a' }], 'invalid_field', 'run_volume_mounts[0].reference', ['"A!"']],
    ['sub_path on a secret', [{ reference: 'a', mount_path: '/a', sub_path: 'x' }], 'unknown_field', 'run_volume_mounts[0].sub_path', ['"x"', 'not allowed for a secret mount']],
    ['absolute sub_path', [{ type: 'persistent_data_store', reference: 'a', mount_path: '/a', sub_path: '/x' }], 'invalid_field', 'run_volume_mounts[0].sub_path', ['"/x"', 'relative']],
    ['read_only not boolean', [{ reference: 'a', mount_path: '/a', read_only: 'yes' }], 'invalid_field', 'run_volume_mounts[0].read_only', ['"yes"', 'boolean']],
    ['unknown property', [{ reference: 'a', mount_path: '/a', name: 'x' }], 'unknown_field', 'run_volume_mounts[0].name', ['"x"']],
  ])('%s is invalid', (_label, list, code, field, fragments) => {
    expectIssue(checkVolumeMounts(list), code as 'invalid_field', field, ...fragments);
  });

  it('toVolumeMounts fills the default type', () => {
    expect(toVolumeMounts([{ reference: 'a', mount_path: '/a' }])).toEqual([{ type: 'secret', reference: 'a', mount_path: '/a' }]);
  });
});

const lit = (name: string, value: string): EnvVar => ({ type: 'literal', name, value });

describe('mergeEnvVars (reference §1.8)', () => {
  it('job envA, envB + run envB=BB, envC ⇒ envA, envB=BB, envC', () => {
    expect(mergeEnvVars([lit('envA', 'a'), lit('envB', 'b')], [lit('envB', 'BB'), lit('envC', 'C')])).toEqual([
      lit('envA', 'a'),
      lit('envB', 'BB'),
      lit('envC', 'C'),
    ]);
  });
  it.each<[string, EnvVar[], EnvVar[], EnvVar[]]>([
    ['empty overrides', [lit('A', '1')], [], [lit('A', '1')]],
    ['empty base', [], [lit('A', '1')], [lit('A', '1')]],
    [
      'a key reference replaces a literal of the same name',
      [lit('A', '1')],
      [{ type: 'secret_key_reference', name: 'A', reference: 's', key: 'k' }],
      [{ type: 'secret_key_reference', name: 'A', reference: 's', key: 'k' }],
    ],
    [
      'a literal replaces a key reference of the same name',
      [{ type: 'config_map_key_reference', name: 'A', reference: 'cm', key: 'k' }],
      [lit('A', 'x')],
      [lit('A', 'x')],
    ],
    [
      'the same full reference is replaced, not duplicated',
      [{ type: 'config_map_full_reference', reference: 'cm' }, lit('B', '2')],
      [{ type: 'config_map_full_reference', reference: 'cm' }],
      [{ type: 'config_map_full_reference', reference: 'cm' }, lit('B', '2')],
    ],
    [
      'a full reference with another prefix is appended',
      [{ type: 'config_map_full_reference', reference: 'cm' }],
      [{ type: 'config_map_full_reference', reference: 'cm', prefix: 'P_' }],
      [{ type: 'config_map_full_reference', reference: 'cm' }, { type: 'config_map_full_reference', reference: 'cm', prefix: 'P_' }],
    ],
    [
      'a secret full reference does not replace a config map one',
      [{ type: 'config_map_full_reference', reference: 'x' }],
      [{ type: 'secret_full_reference', reference: 'x' }],
      [{ type: 'config_map_full_reference', reference: 'x' }, { type: 'secret_full_reference', reference: 'x' }],
    ],
  ])('%s', (_label, base, overrides, expected) => {
    expect(mergeEnvVars(base, overrides)).toEqual(expected);
  });
  it('does not modify its inputs', () => {
    const base = [lit('A', '1')];
    mergeEnvVars(base, [lit('A', '2')]);
    expect(base).toEqual([lit('A', '1')]);
  });
});

const DATA: Record<string, Record<string, string>> = {
  'config_map/cm1': { key1: 'cm1-key1', key2: 'cm1-key2' },
  'config_map/cm2': { key1: 'cm2-key1', key3: 'cm2-key3' },
  'secret/sec1': { key1: 'sec1-key1', pw: 'hunter2' },
  'secret/sys': { HOSTNAME: 'evil', PATH: '/user/bin' },
};
const resolve = (kind: 'config_map' | 'secret', name: string) => {
  const d = DATA[`${kind}/${name}`];
  if (!d) throw CejobsError.notFound(kind === 'config_map' ? 'config map' : 'secret', name);
  return d;
};
const SYSTEM = { CE_JOB: 'job', HOSTNAME: 'run-0-0', PATH: '/usr/bin' };

describe('composeEnv: precedence (reference §1.8, CMREF)', () => {
  it.each<[string, EnvVar[], Record<string, string>]>([
    [
      'scenario A: among full references the later one wins',
      [
        { type: 'config_map_full_reference', reference: 'cm1' },
        { type: 'config_map_full_reference', reference: 'cm2' },
      ],
      { key1: 'cm2-key1', key2: 'cm1-key2', key3: 'cm2-key3' },
    ],
    [
      'scenario A reversed',
      [
        { type: 'config_map_full_reference', reference: 'cm2' },
        { type: 'config_map_full_reference', reference: 'cm1' },
      ],
      { key1: 'cm1-key1', key2: 'cm1-key2', key3: 'cm2-key3' },
    ],
    [
      'scenario B: a key reference beats a full reference listed after it',
      [
        { type: 'config_map_key_reference', name: 'key1', reference: 'cm2', key: 'key1' },
        { type: 'config_map_full_reference', reference: 'cm1' },
      ],
      { key1: 'cm2-key1', key2: 'cm1-key2' },
    ],
    [
      'scenario B: and one listed before it',
      [
        { type: 'config_map_full_reference', reference: 'cm1' },
        { type: 'secret_key_reference', name: 'key1', reference: 'sec1', key: 'key1' },
      ],
      { key1: 'sec1-key1', key2: 'cm1-key2' },
    ],
    [
      'the last of two key references to the same name wins',
      [
        { type: 'secret_key_reference', name: 'K', reference: 'sec1', key: 'key1' },
        { type: 'config_map_key_reference', name: 'K', reference: 'cm1', key: 'key1' },
      ],
      { K: 'cm1-key1' },
    ],
    [
      'scenario C: a literal beats a key reference, whatever the order',
      [
        { type: 'literal', name: 'key1', value: 'literal' },
        { type: 'secret_key_reference', name: 'key1', reference: 'sec1', key: 'key1' },
      ],
      { key1: 'literal' },
    ],
    [
      'a literal beats a full reference',
      [lit('key1', 'literal'), { type: 'config_map_full_reference', reference: 'cm1' }],
      { key1: 'literal', key2: 'cm1-key2' },
    ],
    ['the last literal wins', [lit('A', '1'), lit('A', '2')], { A: '2' }],
    [
      'prefix applies to every key of a full reference',
      [{ type: 'secret_full_reference', reference: 'sec1', prefix: 'S_' }],
      { S_key1: 'sec1-key1', S_pw: 'hunter2' },
    ],
  ])('%s', (_label, vars, expected) => {
    expect(composeEnv(SYSTEM, vars, resolve)).toEqual({ ...SYSTEM, ...expected });
  });

  it('never overrides a reserved system name, but lets users override other system values', () => {
    const env = composeEnv(SYSTEM, [{ type: 'secret_full_reference', reference: 'sys' }], resolve);
    expect(env.HOSTNAME).toBe('run-0-0');
    expect(env.PATH).toBe('/user/bin');
  });

  it('puts the system variables first', () => {
    expect(Object.keys(composeEnv(SYSTEM, [lit('Z', '1')], resolve))).toEqual(['CE_JOB', 'HOSTNAME', 'PATH', 'Z']);
  });

  it('lets a missing config map through', () => {
    const e = catchError(() => composeEnv(SYSTEM, [{ type: 'config_map_full_reference', reference: 'nope' }], resolve));
    expect(e.code).toBe('not_found');
    expect(e.message).toContain('nope');
  });

  it('throws not_found naming the reference and the key for a missing key', () => {
    const e = catchError(() =>
      composeEnv(SYSTEM, [{ type: 'secret_key_reference', name: 'X', reference: 'sec1', key: 'missing' }], resolve),
    );
    expect(e.code).toBe('not_found');
    expect(e.message).toContain('"missing"');
    expect(e.message).toContain('secret "sec1"');
  });

  it('resolves each reference once', () => {
    let calls = 0;
    composeEnv(
      {},
      [
        { type: 'config_map_full_reference', reference: 'cm1' },
        { type: 'config_map_key_reference', name: 'A', reference: 'cm1', key: 'key1' },
      ],
      (k, n) => {
        calls++;
        return resolve(k, n);
      },
    );
    expect(calls).toBe(1);
  });
});

describe('instanceSystemEnv (reference §2.1)', () => {
  const base = {
    project: { id: 'p-1', subdomain: 'abcd', region: 'local' },
    domain: 'local.cejobs',
    apiBaseUrl: 'http://127.0.0.1:8080/v2',
    runName: 'myjob-jobrun-abcde',
    instanceName: 'myjob-jobrun-abcde-3-1',
    index: 3,
    arraySize: 10,
    retry: 1,
    retryLimit: 3,
  };
  it('sets exactly the 13 variables (task run of a job)', () => {
    expect(instanceSystemEnv({ ...base, jobName: 'myjob', mode: 'task' })).toEqual({
      CE_JOB: 'myjob',
      CE_JOBRUN: 'myjob-jobrun-abcde',
      CE_PROJECT_ID: 'p-1',
      CE_SUBDOMAIN: 'abcd',
      CE_DOMAIN: 'local.cejobs',
      CE_REGION: 'local',
      CE_API_BASE_URL: 'http://127.0.0.1:8080/v2',
      JOB_INDEX: '3',
      JOB_ARRAY_SIZE: '10',
      JOB_INDEX_RETRY_COUNT: '1',
      JOB_RETRY_LIMIT: '3',
      JOB_MODE: 'task',
      HOSTNAME: 'myjob-jobrun-abcde-3-1',
    });
  });
  it('uses the run name as CE_JOB for a standalone run', () => {
    expect(instanceSystemEnv({ ...base, mode: 'task' }).CE_JOB).toBe('myjob-jobrun-abcde');
  });
  it('sets JOB_RETRY_LIMIT 0 and JOB_MODE daemon in daemon mode', () => {
    const env = instanceSystemEnv({ ...base, jobName: 'j', mode: 'daemon' });
    expect(env.JOB_RETRY_LIMIT).toBe('0');
    expect(env.JOB_MODE).toBe('daemon');
  });
  it('covers every reserved name', () => {
    expect(Object.keys(instanceSystemEnv({ ...base, mode: 'task' })).sort()).toEqual([...RESERVED_ENV_NAMES].sort());
  });
});
