import { describe, expect, it } from 'vitest';
import {
  MAX_CONFIG_DATA_BYTES,
  MAX_CONFIG_VALUE_LENGTH,
  REDACTED,
  SECRET_FORMATS,
  checkConfigData,
  checkConfigKey,
  redactData,
  validateConfigMapPrototype,
  validateConfigMapReplace,
  validateSecretPrototype,
  validateSecretReplace,
} from '../../src/domain/config.js';
import type { ErrorCode } from '../../src/domain/errors.js';
import { catchError, expectIssue, expectThrowsIssue } from './helpers.js';

const SECRET_VALUE = 's3cr3t-VALUE-1234';

describe('config map and secret keys', () => {
  it.each(['a', 'A.b_c-d', '.dotfile', '-', '_', 'x'.repeat(253), 'UPPER123'])('accepts %j', (k) => {
    expect(checkConfigKey(k, 'data.k')).toEqual([]);
  });
  it.each([
    ['empty', ''],
    ['a space', 'a b'],
    ['a slash', 'a/b'],
    ['unicode', 'ä'],
    ['254 characters', 'x'.repeat(254)],
    ['a colon', 'a:b'],
  ])('refuses %s', (_what, k) => {
    const [i] = checkConfigKey(k, `data.${k}`);
    expect(i).toMatchObject({ code: 'invalid_field', field: `data.${k}` });
    expect(i!.message).toContain("letters, digits, '-', '.' and '_'");
  });
});

describe('config data', () => {
  it('accepts an empty object and string values up to 1 MiB', () => {
    expect(checkConfigData({}, { secret: false })).toEqual([]);
    expect(checkConfigData({ a: '', b: 'x'.repeat(MAX_CONFIG_VALUE_LENGTH - 10) }, { secret: false })).toEqual([]);
  });

  it.each<[string, unknown, ErrorCode, string, string[]]>([
    ['not an object', 'x', 'invalid_field', 'data', ['"x"', 'must be an object']],
    ['an array', ['a'], 'invalid_field', 'data', ['an array']],
    ['null', null, 'invalid_field', 'data', ['null']],
    ['a number value', { a: 1 }, 'invalid_field', 'data.a', ['1', 'must be a string', 'a number']],
    ['an object value', { a: { b: 'c' } }, 'invalid_field', 'data.a', ['must be a string', 'an object']],
    ['a null value', { a: null }, 'invalid_field', 'data.a', ['null']],
    ['a bad key', { 'a b': 'x' }, 'invalid_field', 'data.a b', ['"a b"']],
    ['a too long value', { big: 'x'.repeat(MAX_CONFIG_VALUE_LENGTH + 1) }, 'invalid_field', 'data.big', ['at most 1048576 characters', `it has ${MAX_CONFIG_VALUE_LENGTH + 1}`]],
    [
      'too much in all',
      { a: 'x'.repeat(600_000), b: 'y'.repeat(600_000) },
      'object_too_large',
      'data',
      ['1200002 bytes', `limit of ${MAX_CONFIG_DATA_BYTES}`],
    ],
  ])('config map: refuses %s', (_what, data, code, field, fragments) => {
    expectIssue(checkConfigData(data, { secret: false }), code, field, ...fragments);
  });

  it('counts UTF-8 bytes for the whole object', () => {
    const data = { a: 'é'.repeat(300_000), b: 'é'.repeat(300_000) }; // 1.2 MB in UTF-8, 600 k characters
    expectIssue(checkConfigData(data, { secret: false }), 'object_too_large', 'data', '1200002 bytes');
  });

  it('never shows a secret value in a message', () => {
    const issues = [
      ...checkConfigData({ k: 42, 'bad key': SECRET_VALUE, long: SECRET_VALUE + 'x'.repeat(MAX_CONFIG_VALUE_LENGTH) }, { secret: true }),
      ...checkConfigData(SECRET_VALUE, { secret: true }),
    ];
    expect(issues.length).toBe(4);
    for (const i of issues) expect(i.message).not.toContain(SECRET_VALUE);
    expect(issues.find((i) => i.field === 'data.k')!.message).toContain('value hidden');
    expect(issues.find((i) => i.field === 'data.long')!.message).toContain('(value hidden)');
  });
});

describe('config maps', () => {
  it('accepts {name, data} and defaults data to {}', () => {
    expect(validateConfigMapPrototype({ name: 'app.config-1', data: { A: '1' } })).toEqual({ name: 'app.config-1', data: { A: '1' } });
    expect(validateConfigMapPrototype({ name: 'c' })).toEqual({ name: 'c', data: {} });
  });

  it.each<[string, unknown, ErrorCode, string, string[]]>([
    ['no name', { data: {} }, 'missing_field', 'name', ['required']],
    ['a bad name', { name: 'Bad_Name' }, 'invalid_name', 'name', ['"Bad_Name"', 'lowercase']],
    ['a name ending with a dot', { name: 'a.' }, 'invalid_name', 'name', ['"a."']],
    ['a 254-character name', { name: 'a'.repeat(254) }, 'invalid_name', 'name', ['254 characters']],
    ['an unknown field', { name: 'c', format: 'generic' }, 'unknown_field', 'format', ['"generic"', 'name, data']],
    ['bad data', { name: 'c', data: { k: 1 } }, 'invalid_field', 'data.k', ['must be a string']],
  ])('refuses %s', (_what, input, code, field, fragments) => {
    expectThrowsIssue(() => validateConfigMapPrototype(input), code, field, ...fragments);
  });

  it('refuses a body that is not an object', () => {
    expect(catchError(() => validateConfigMapPrototype([1])).message).toContain('must be a JSON object');
  });

  it('replace needs data and keeps the name', () => {
    expect(validateConfigMapReplace({ data: { a: 'b' } }, 'c')).toEqual({ data: { a: 'b' } });
    expect(validateConfigMapReplace({ name: 'c', data: {} }, 'c')).toEqual({ data: {} });
    expectThrowsIssue(() => validateConfigMapReplace({}, 'c'), 'missing_field', 'data', 'replaces all keys');
    expectThrowsIssue(() => validateConfigMapReplace({ name: 'd', data: {} }, 'c'), 'invalid_field', 'name', '"d"', 'cannot be changed');
    expectThrowsIssue(() => validateConfigMapReplace({ data: {}, extra: 1 }, 'c'), 'unknown_field', 'extra');
  });
});

describe('secrets', () => {
  const valid: [string, Record<string, string>][] = [
    ['generic', { anything: 'x', 'a.b': 'y' }],
    ['generic', {}],
    ['registry', { username: 'u', password: 'p', server: 'us.icr.io' }],
    ['registry', { username: 'u', password: 'p', server: 's', email: 'e@x' }],
    ['basic_auth', { username: 'u', password: 'p' }],
    ['ssh_auth', { ssh_key: 'k' }],
    ['ssh_auth', { ssh_key: 'k', known_hosts: 'h' }],
    ['tls', { tls_cert: 'c', tls_key: 'k' }],
    ['hmac_auth', { access_key_id: 'a', secret_access_key: 's' }],
  ];
  it.each(valid)('accepts a %s secret with %j', (format, data) => {
    expect(validateSecretPrototype({ name: 's', format, data })).toEqual({ name: 's', format, data });
  });

  it('defaults the format to generic', () => {
    expect(validateSecretPrototype({ name: 's', data: { a: 'b' } }).format).toBe('generic');
    expect(SECRET_FORMATS).toEqual(['generic', 'registry', 'basic_auth', 'ssh_auth', 'tls', 'hmac_auth']);
  });

  it.each<[string, unknown, ErrorCode, string, string[]]>([
    ['an unknown format', { name: 's', format: 'nope', data: {} }, 'invalid_field', 'format', ['"nope"', 'generic, registry']],
    ['an IBM Cloud-only format', { name: 's', format: 'service_access', data: {} }, 'invalid_field', 'format', ['not supported by cejobs']],
    ['registry without server', { name: 's', format: 'registry', data: { username: 'u', password: 'p' } }, 'missing_field', 'data.server', ['registry secret']],
    ['basic_auth without password', { name: 's', format: 'basic_auth', data: { username: 'u' } }, 'missing_field', 'data.password', []],
    ['basic_auth with an extra key', { name: 's', format: 'basic_auth', data: { username: 'u', password: 'p', token: 't' } }, 'unknown_field', 'data.token', ['username, password']],
    ['ssh_auth without a key', { name: 's', format: 'ssh_auth', data: {} }, 'missing_field', 'data.ssh_key', ['known_hosts (optional)']],
    ['tls without a key', { name: 's', format: 'tls', data: { tls_cert: 'c' } }, 'missing_field', 'data.tls_key', []],
    ['hmac_auth with a wrong key', { name: 's', format: 'hmac_auth', data: { access_key_id: 'a', secret: 'x' } }, 'unknown_field', 'data.secret', []],
    ['no name', { format: 'generic', data: {} }, 'missing_field', 'name', []],
    ['a bad name', { name: 'UP', data: {} }, 'invalid_name', 'name', ['"UP"']],
    ['a number value', { name: 's', data: { k: 7 } }, 'invalid_field', 'data.k', ['value hidden', 'a number']],
  ])('refuses %s', (_what, input, code, field, fragments) => {
    expectThrowsIssue(() => validateSecretPrototype(input), code, field, ...fragments);
  });

  it('never shows a value: unknown fields, wrong keys and bad values of a secret', () => {
    const e = catchError(() =>
      validateSecretPrototype({
        name: 's',
        password: SECRET_VALUE,
        format: 'basic_auth',
        data: { username: 'u', password: SECRET_VALUE, pw: SECRET_VALUE },
      }),
    );
    expect(e.issues.map((i) => i.field).sort()).toEqual(['data.pw', 'password']);
    expect(e.message).not.toContain(SECRET_VALUE);
    for (const i of e.issues) expect(i.message).not.toContain(SECRET_VALUE);
    const big = catchError(() => validateSecretPrototype({ name: 's', data: { k: SECRET_VALUE.repeat(70_000) } }));
    expect(big.message).not.toContain(SECRET_VALUE);
  });

  it('replace keeps the format and checks data against it', () => {
    expect(validateSecretReplace({ data: { username: 'a', password: 'b' } }, 's', 'basic_auth')).toEqual({ data: { username: 'a', password: 'b' } });
    expect(validateSecretReplace({ format: 'basic_auth', data: { username: 'a', password: 'b' } }, 's', 'basic_auth').data.username).toBe('a');
    expectThrowsIssue(() => validateSecretReplace({ format: 'generic', data: {} }, 's', 'basic_auth'), 'invalid_field', 'format', 'cannot change', 'basic_auth');
    expectThrowsIssue(() => validateSecretReplace({ format: 'bad', data: {} }, 's', 'generic'), 'invalid_field', 'format', '"bad"');
    expectThrowsIssue(() => validateSecretReplace({ data: { username: 'a' } }, 's', 'basic_auth'), 'missing_field', 'data.password');
    expectThrowsIssue(() => validateSecretReplace({}, 's', 'generic'), 'missing_field', 'data');
    expectThrowsIssue(() => validateSecretReplace({ name: 't', data: {} }, 's', 'generic'), 'invalid_field', 'name', 'cannot be changed');
  });

  it('redacts every value', () => {
    expect(redactData(['a', 'b'])).toEqual({ a: REDACTED, b: REDACTED });
  });
});
