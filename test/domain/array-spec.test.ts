import { describe, expect, it } from 'vitest';
import {
  MAX_ARRAY_INDEX,
  MAX_ARRAY_SIZE,
  MAX_ARRAY_SPEC_LENGTH,
  arraySpecForSize,
  checkArraySpec,
  countArraySpec,
  formatIndices,
  normalizeArraySpec,
  parseArraySpec,
} from '../../src/domain/array-spec.js';
import { expectThrowsIssue } from './helpers.js';

describe('array spec constants (reference §1.7, §4.1)', () => {
  it('match the reference', () => {
    expect([MAX_ARRAY_SIZE, MAX_ARRAY_INDEX, MAX_ARRAY_SPEC_LENGTH]).toEqual([1000, 9_999_999, 253]);
  });
});

describe('parseArraySpec: valid specs', () => {
  const cases: [string, number[]][] = [
    ['0', [0]],
    ['7', [7]],
    ['0-4,7', [0, 1, 2, 3, 4, 7]],
    ['0,3,6,9', [0, 3, 6, 9]],
    ['1-5,7-8,10', [1, 2, 3, 4, 5, 7, 8, 10]],
    ['1 - 5', [1, 2, 3, 4, 5]],
    [' 2 , 1 ', [1, 2]],
    ['5-5', [5]],
    ['3,1,2,2,1-3', [1, 2, 3]],
    ['9999999', [9_999_999]],
    ['9999000-9999999', Array.from({ length: 1000 }, (_, i) => 9_999_000 + i)],
    ['0-999', Array.from({ length: 1000 }, (_, i) => i)],
    ['0-998,5000', [...Array.from({ length: 999 }, (_, i) => i), 5000]],
    ['0-999,500', Array.from({ length: 1000 }, (_, i) => i)],
  ];
  it.each(cases)('%j', (spec, expected) => {
    expect(parseArraySpec(spec)).toEqual(expected);
    expect(checkArraySpec(spec)).toEqual([]);
  });
});

describe('parseArraySpec: invalid specs name the field, the value and the rule', () => {
  const cases: [string, string][] = [
    ['', 'needs at least one index'],
    ['   ', 'needs at least one index'],
    ['1,,2', 'item 2 is empty'],
    [',1', 'item 1 is empty'],
    ['1,', 'item 2 is empty'],
    ['a', 'is not a number N or a range'],
    ['-1', 'is not a number N or a range'],
    ['1-2-3', 'is not a number N or a range'],
    ['1.5', 'is not a number N or a range'],
    ['1-', 'is not a number N or a range'],
    ['01', 'leading zero'],
    ['0-07', 'leading zero'],
    ['00', 'leading zero'],
    ['5-3', 'reversed range'],
    ['10000000', 'above the maximum index 9999999'],
    ['0-10000000', 'above the maximum index 9999999'],
    ['0-1000', 'more than 1000 indices (1001)'],
    ['0-999,1000', 'more than 1000 indices (1001)'],
    ['0-9999999', 'more than 1000 indices (10000000)'],
    ['1,'.repeat(127) + '1', 'at most 253 characters'],
  ];
  it.each(cases)('%j → %s', (spec, rule) => {
    const shown = JSON.stringify(spec).slice(0, 60);
    expectThrowsIssue(() => parseArraySpec(spec), 'invalid_array_spec', 'scale_array_spec', rule, shown.slice(0, 40));
  });

  it('uses the field name it is given', () => {
    expectThrowsIssue(() => parseArraySpec('x', 'array_indices'), 'invalid_array_spec', 'array_indices', '"x"');
  });

  it('reports every bad item at once', () => {
    expect(checkArraySpec('01,5-3,,x')).toHaveLength(4);
  });

  it('rejects a non-string', () => {
    expect(checkArraySpec(5)[0]!.message).toContain('must be a string');
  });

  it('253 characters are fine, 254 are not', () => {
    const ok = '1,'.repeat(126) + '1'; // 253
    expect(ok).toHaveLength(253);
    expect(parseArraySpec(ok)).toEqual([1]);
    expect(checkArraySpec(ok + '0')[0]!.message).toContain('at most 253 characters long (it has 254)');
  });

  it('fails fast on huge ranges', () => {
    const start = performance.now();
    expect(checkArraySpec('0-9999999,0-9999999')).toHaveLength(1);
    expect(performance.now() - start).toBeLessThan(250);
  });
});

describe('formatIndices', () => {
  const cases: [number[], string][] = [
    [[], ''],
    [[0], '0'],
    [[0, 1, 2, 4, 6, 7, 8], '0-2,4,6-8'],
    [[4, 5], '4-5'],
    [[8, 6, 7, 4, 2, 1, 0, 4], '0-2,4,6-8'],
    [[3, 5, 7], '3,5,7'],
    [[9_999_999], '9999999'],
  ];
  it.each(cases)('%j → %j', (indices, expected) => {
    expect(formatIndices(indices)).toBe(expected);
    expect(formatIndices(new Set(indices))).toBe(expected);
  });
  it('round-trips with parseArraySpec', () => {
    expect(parseArraySpec(formatIndices([1, 2, 3, 10, 12, 13]))).toEqual([1, 2, 3, 10, 12, 13]);
  });
});

describe('arraySpecForSize (reference §1.7)', () => {
  it.each([
    [1, '0'],
    [2, '0-1'],
    [5, '0-4'],
    [1000, '0-999'],
  ])('%i → %j', (n, spec) => {
    expect(arraySpecForSize(n)).toBe(spec);
    expect(countArraySpec(spec)).toBe(n);
  });
  it.each([0, -1, 1001, 2.5, Number.NaN])('rejects %d', (n) => {
    expectThrowsIssue(() => arraySpecForSize(n), 'invalid_array_spec', 'array_size', String(n === n ? n : 'null'), '1 to 1000');
  });
});

describe('normalizeArraySpec', () => {
  it.each([
    ['1 - 5', '1-5'],
    ['7, 1 - 3,2', '1-3,7'],
    ['4,5', '4-5'],
    ['0', '0'],
    ['3,1-2', '1-3'],
  ])('%j → %j', (spec, expected) => {
    expect(normalizeArraySpec(spec)).toBe(expected);
  });
  it('throws like parseArraySpec', () => {
    expectThrowsIssue(() => normalizeArraySpec('2-1'), 'invalid_array_spec', 'scale_array_spec', '"2-1"', 'reversed');
  });
});
