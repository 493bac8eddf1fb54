/** Test helpers for the domain layer: catch a CejobsError and find the issue about a field. */
import { expect } from 'vitest';
import { CejobsError, type ErrorCode, type FieldIssue } from '../../src/domain/errors.js';

/** Runs `f`, expects a CejobsError, and returns it. */
export function catchError(f: () => unknown): CejobsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CejobsError);
    return e as CejobsError;
  }
  throw new Error('expected a CejobsError, nothing was thrown');
}

/**
 * Expects `issues` to hold an issue with `code` on `field` whose message names the field and
 * contains every fragment (the offending value, the rule).
 */
export function expectIssue(issues: readonly FieldIssue[], code: ErrorCode, field: string, ...fragments: string[]): FieldIssue {
  const found = issues.find((i) => i.field === field && i.code === code);
  expect(found, `no ${code} issue on ${field} in ${JSON.stringify(issues, null, 1)}`).toBeDefined();
  expect(found!.message).toContain(field);
  for (const f of fragments) expect(found!.message).toContain(f);
  return found!;
}

/** Expects `f` to throw a CejobsError with such an issue; returns the error. */
export function expectThrowsIssue(f: () => unknown, code: ErrorCode, field: string, ...fragments: string[]): CejobsError {
  const e = catchError(f);
  expectIssue(e.issues, code, field, ...fragments);
  expect(e.message).toContain(field);
  return e;
}
