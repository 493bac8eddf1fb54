/**
 * Array specs: which indices a job run executes (reference §1.7, §4.1).
 *
 * Grammar (API regex of the Terraform validator, reference §1.7): comma-separated items, each a
 * number `N` or a range `A-B` with `A ≤ B`; numbers `0`…`9999999` without leading zeros; the
 * string is 1–253 characters; the resulting set of unique indices has at most 1000 entries.
 * Like the CLI (`--array-indices "1 - 5"`), spaces around items and around the hyphen are
 * tolerated; `normalizeArraySpec` returns the compact API form.
 */
import { CejobsError, type FieldIssue } from './errors.js';
import { invalid, throwIfAny } from './issues.js';

export const MAX_ARRAY_SIZE = 1000;
export const MAX_ARRAY_INDEX = 9_999_999;
export const MAX_ARRAY_SPEC_LENGTH = 253;

const ITEM = /^([0-9]+)(?:\s*-\s*([0-9]+))?$/;
const NUMBER = /^(?:0|[1-9][0-9]*)$/;

type Range = readonly [number, number];

/**
 * Checks an array spec and returns its ranges (sorted, merged) plus the issues found.
 * Counts indices from the ranges, so `"0-9999999"` fails without building 10 million numbers.
 */
function scan(spec: unknown, field: string): { ranges: Range[]; issues: FieldIssue[] } {
  const bad = (rule: string): { ranges: Range[]; issues: FieldIssue[] } => ({
    ranges: [],
    issues: [invalid('invalid_array_spec', field, spec, rule)],
  });
  if (typeof spec !== 'string') return bad('an array spec must be a string such as "0-4,7"');
  if (spec.length > MAX_ARRAY_SPEC_LENGTH) {
    return bad(`an array spec is at most ${MAX_ARRAY_SPEC_LENGTH} characters long (it has ${spec.length})`);
  }
  if (spec.trim() === '') return bad('an array spec needs at least one index, e.g. "0" or "0-4,7"');

  const issues: FieldIssue[] = [];
  const ranges: Range[] = [];
  const items = spec.split(',');
  items.forEach((raw, i) => {
    const item = raw.trim();
    const where = `item ${i + 1}`;
    if (item === '') {
      issues.push(invalid('invalid_array_spec', field, spec, `${where} is empty; items are separated by single commas`));
      return;
    }
    const m = ITEM.exec(item);
    if (!m) {
      issues.push(
        invalid('invalid_array_spec', field, spec, `${where} "${item}" is not a number N or a range A-B of non-negative integers`),
      );
      return;
    }
    const nums: number[] = [];
    for (const text of [m[1], m[2]]) {
      if (text === undefined) continue;
      if (!NUMBER.test(text)) {
        issues.push(invalid('invalid_array_spec', field, spec, `${where} "${item}": the number ${text} has a leading zero`));
        return;
      }
      const n = Number(text);
      if (n > MAX_ARRAY_INDEX) {
        issues.push(
          invalid('invalid_array_spec', field, spec, `${where} "${item}": index ${text} is above the maximum index ${MAX_ARRAY_INDEX}`),
        );
        return;
      }
      nums.push(n);
    }
    const a = nums[0]!;
    const b = nums[1] ?? a;
    if (a > b) {
      issues.push(
        invalid('invalid_array_spec', field, spec, `${where} "${item}" is a reversed range; write the smaller index first (${b}-${a})`),
      );
      return;
    }
    ranges.push([a, b]);
  });
  if (issues.length > 0) return { ranges: [], issues };

  const merged = mergeRanges(ranges);
  const count = merged.reduce((sum, [a, b]) => sum + (b - a + 1), 0);
  if (count > MAX_ARRAY_SIZE) {
    return bad(`it selects more than ${MAX_ARRAY_SIZE} indices (${count}); a job run has at most ${MAX_ARRAY_SIZE} indices`);
  }
  return { ranges: merged, issues: [] };
}

function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * The issues of an array spec (reference §1.7), `[]` when it is valid. Non-throwing variant of
 * `parseArraySpec`, for validators that collect every issue.
 */
export function checkArraySpec(spec: unknown, field = 'scale_array_spec'): FieldIssue[] {
  return scan(spec, field).issues;
}

/**
 * Parses an array spec such as `"0-4,7"` or `"1 - 5"` into its sorted, de-duplicated indices.
 * Throws `CejobsError('invalid_array_spec')` naming `field`, the value and the broken rule:
 * empty item, not a number, leading zero, reversed range, index above 9999999, more than 1000
 * indices, string longer than 253 characters (reference §1.7, §4.1).
 */
export function parseArraySpec(spec: string, field = 'scale_array_spec'): number[] {
  const { ranges, issues } = scan(spec, field);
  throwIfAny(issues);
  const out: number[] = [];
  for (const [a, b] of ranges) for (let i = a; i <= b; i++) out.push(i);
  return out;
}

/**
 * The compact form of a set of indices, as Code Engine prints index lists (`succeeded_indices`,
 * reference §3.2): sorted, de-duplicated, runs of two or more consecutive indices as `A-B`
 * (`[0,1,2,4,6,7,8]` → `"0-2,4,6-8"`, `[4,5]` → `"4-5"`); `""` for none.
 */
export function formatIndices(indices: Iterable<number>): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i]!;
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}

/**
 * The array spec of `--array-size N`: `"0-(N-1)"`, `"0"` for N = 1 (reference §1.7, CLI 1.20.0
 * fix). N must be an integer in 1..1000; otherwise throws `invalid_array_spec` naming `field`.
 */
export function arraySpecForSize(n: number, field = 'array_size'): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ARRAY_SIZE) {
    throw CejobsError.fromIssues([
      invalid('invalid_array_spec', field, n, `an array size is an integer from 1 to ${MAX_ARRAY_SIZE}`),
    ]);
  }
  return n === 1 ? '0' : `0-${n - 1}`;
}

/** Parses then formats: `" 7, 1 - 3,2"` → `"1-3,7"`. Throws like `parseArraySpec`. */
export function normalizeArraySpec(spec: string, field = 'scale_array_spec'): string {
  const { ranges, issues } = scan(spec, field);
  throwIfAny(issues);
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(',');
}

/** Number of unique indices of a valid array spec, without materialising them. */
export function countArraySpec(spec: string, field = 'scale_array_spec'): number {
  const { ranges, issues } = scan(spec, field);
  throwIfAny(issues);
  return ranges.reduce((sum, [a, b]) => sum + (b - a + 1), 0);
}
