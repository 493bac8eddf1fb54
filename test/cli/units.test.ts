import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { age, humanDuration, keyValues, table } from '../../src/cli/format.js';
import { jsonPathText, jsonPathValues, JsonPathError } from '../../src/cli/jsonpath.js';
import { addBooleanCounterparts, flag, rewriteArgv } from '../../src/cli/options.js';
import { applyEnvChanges, parseEnvFrom } from '../../src/cli/runtime-flags.js';

describe('humanDuration (Kubernetes ages)', () => {
  const s = 1000;
  const m = 60 * s;
  const hr = 60 * m;
  const d = 24 * hr;
  it.each([
    [-5 * s, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [3 * m + 58 * s, '3m58s'],
    [10 * m + 5 * s, '10m'],
    [179 * m, '179m'],
    [3 * hr + 20 * m, '3h20m'],
    [5 * hr, '5h'],
    [26 * hr, '26h'],
    [2 * d + 4 * hr, '2d4h'],
    [2 * d + 15 * hr, '2d15h'],
    [3 * d, '3d'],
    [30 * d, '30d'],
    [800 * d, '2y70d'],
    [365 * 9 * d, '9y'],
  ])('%d ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('age of an ISO time', () => {
    expect(age('2024-05-01T10:00:00Z', new Date('2024-05-03T14:00:00Z'))).toBe('2d4h');
    expect(age(undefined, new Date())).toBe('');
  });
});

describe('table and keyValues', () => {
  it('aligns columns with two spaces and trims trailing blanks', () => {
    expect(table(['Name', 'Age'], [['a', '1s'], ['longer', '']], '  ')).toEqual(['  Name    Age', '  a       1s', '  longer']);
  });
  it('aligns values after the longest label, headings included', () => {
    expect(keyValues([['Image', 'x'], ['Resource Allocation', null]])).toEqual(['Image:                x', 'Resource Allocation:']);
  });
});

describe('jsonpath', () => {
  const doc = {
    name: 'r',
    items: [
      { name: 'a', status: 'failed', n: 1, meta: { 'with-dash': 'x' } },
      { name: 'b', status: 'completed', n: 2 },
      { name: 'c', status: 'failed', n: 3 },
    ],
    details: { '3': { status: 'failed' } },
  };
  it.each([
    ['{.name}', 'r'],
    ['name', 'r'],
    ['{.items[*].name}', 'a b c'],
    ['{.items[0].name}', 'a'],
    ['{.items[-1].name}', 'c'],
    ['{.items[0:2].name}', 'a b'],
    ["{.items[0].meta['with-dash']}", 'x'],
    ['{.details.3.status}', 'failed'],
    ['{.items[?(@.status=="failed")].name}', 'a c'],
    ['{.items[?(@.n > 1)].name}', 'b c'],
    ['{..status}', 'failed completed failed failed'],
    ['{$.items[1]}', '{"name":"b","status":"completed","n":2}'],
    ['name={.name} first={.items[0].n}', 'name=r first=1'],
    ['{range .items[*]}{.name}:{.n}{"\\n"}{end}', 'a:1\nb:2\nc:3\n'],
    ['{.missing}', ''],
  ])('%s', (expr, text) => {
    expect(jsonPathText(expr, doc)).toBe(text);
  });

  it('values for jsonpath-as-json', () => {
    expect(jsonPathValues('{.items[*].n}', doc)).toEqual([1, 2, 3]);
  });

  it('reports malformed templates', () => {
    expect(() => jsonPathText('{.items[0}', doc)).toThrow(JsonPathError);
    expect(() => jsonPathText('{range .items[*]}{.name}', doc)).toThrow(/without \{end\}/);
    expect(() => jsonPathText('{.name', doc)).toThrow(/unclosed/);
  });
});

describe('rewriteArgv', () => {
  const program = new Command('ce');
  const sub = program.command('jobrun').command('submit');
  flag(sub, '-a, --argument <arg>', 'x', { aliases: ['--arg'], repeatable: true });
  flag(sub, '--array-indices <spec>', 'x', { aliases: ['--array-indexes', '--ai'] });
  flag(sub, '-w, --wait', 'x');
  flag(sub, '--no-wait', 'x', { aliases: ['--nw'] });
  flag(sub, '-f, --force', 'x');
  flag(sub, '--no-select', 'x');
  addBooleanCounterparts(sub);

  it.each([
    [['jobrun', 'submit', '--arg', 'x', '--ai=1'], ['jobrun', 'submit', '--argument', 'x', '--array-indices=1']],
    [['jobrun', 'submit', '--arg', '--ai', '--array-indexes', '2'], ['jobrun', 'submit', '--argument', '--ai', '--array-indices', '2']],
    [['jobrun', 'submit', '--nw', '--wait=true', '--force=false'], ['jobrun', 'submit', '--no-wait', '--wait', '--no-force']],
    [['jobrun', 'submit', '--force=TRUE', '--select=false', '--select=true'], ['jobrun', 'submit', '--force', '--no-select', '--select']],
    [['jobrun', 'submit', '--no-select=false', '--no-wait=true'], ['jobrun', 'submit', '--select', '--no-wait']],
    [['jobrun', 'submit', '--wait=false'], ['jobrun', 'submit', '--no-wait']],
    [['jobrun', 'submit', '--', '--arg'], ['jobrun', 'submit', '--', '--arg']],
    [['jobrun', 'nope', '--arg'], ['jobrun', 'nope', '--arg']],
  ])('%j → %j', (input, output) => {
    expect(rewriteArgv(program, input)).toEqual(output);
  });

  it('refuses a boolean flag with a value other than true or false, naming the flag', () => {
    expect(() => rewriteArgv(program, ['jobrun', 'submit', '--force=yes'])).toThrow(/'--force' takes no value/);
  });
});

describe('env helpers', () => {
  it('parses the four --env-from forms', () => {
    expect(parseEnvFrom('cm', 'config_map')).toEqual([{ type: 'config_map_full_reference', reference: 'cm' }]);
    expect(parseEnvFrom('P_=cm', 'config_map')).toEqual([{ type: 'config_map_full_reference', reference: 'cm', prefix: 'P_' }]);
    expect(parseEnvFrom('s:A,B', 'secret')).toEqual([
      { type: 'secret_key_reference', name: 'A', reference: 's', key: 'A' },
      { type: 'secret_key_reference', name: 'B', reference: 's', key: 'B' },
    ]);
    expect(parseEnvFrom('s:NEW=key', 'secret')).toEqual([{ type: 'secret_key_reference', name: 'NEW', reference: 's', key: 'key' }]);
    expect(() => parseEnvFrom(':A', 'secret')).toThrow(/SECRET:KEY1,KEY2/);
    expect(() => parseEnvFrom('=cm', 'config_map')).toThrow();
  });

  it('applies env changes: removals, then replacing additions', () => {
    const current = [
      { type: 'literal' as const, name: 'A', value: '1' },
      { type: 'config_map_full_reference' as const, reference: 'cm', prefix: 'OLD_' },
      { type: 'secret_key_reference' as const, name: 'K', reference: 's', key: 'k' },
    ];
    expect(
      applyEnvChanges(current, {
        envAdds: [
          { type: 'literal', name: 'K', value: 'lit' },
          { type: 'config_map_full_reference', reference: 'cm', prefix: 'NEW_' },
        ],
        envRemove: ['A'],
        envConfigMapRemove: [],
        envSecretRemove: [],
      }),
    ).toEqual([
      { type: 'literal', name: 'K', value: 'lit' },
      { type: 'config_map_full_reference', reference: 'cm', prefix: 'NEW_' },
    ]);
  });
});
