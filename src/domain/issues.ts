/**
 * Small helpers to build `FieldIssue`s whose message names the field, the value and the rule.
 * Internal to the domain layer; other layers use `CejobsError` and `FieldIssue` from errors.ts.
 */
import { CejobsError, showValue, type ErrorCode, type FieldIssue } from './errors.js';

/** `<field> <value> is not valid: <rule>` as a `FieldIssue`. */
export function invalid(code: ErrorCode, field: string, value: unknown, rule: string): FieldIssue {
  return { code, field, message: `${field} ${showValue(value)} is not valid: ${rule}` };
}

/** A free-form issue (the caller's message must still name the field and the value). */
export function issue(code: ErrorCode, field: string, message: string): FieldIssue {
  return { code, field, message };
}

/** Throws the issues as one `CejobsError` when there are any. */
export function throwIfAny(issues: readonly FieldIssue[]): void {
  if (issues.length > 0) throw CejobsError.fromIssues(issues);
}

/** What a JSON value is, for "must be a string, got a number" messages. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/** A plain JSON object (not null, not an array). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property test that ignores the prototype chain. */
export function has(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}
