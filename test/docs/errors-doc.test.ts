import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { EVENT_REASONS } from '../../src/domain/types.js';

const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/errors.md'), 'utf8');
const source = (file: string) => fs.readFileSync(path.resolve(__dirname, '../../src', file), 'utf8');

describe('docs/errors.md', () => {
  it.each(Object.entries(ERROR_CODES))('documents error code %s with its HTTP status', (code, { status }) => {
    expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });

  it('documents every failure reason of the domain', () => {
    const union = /export type FixedFailureReason =([^;]+);/.exec(source('domain/failure-reasons.ts'))![1]!;
    const reasons = [...union.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]!);
    expect(reasons.length).toBeGreaterThan(5);
    for (const r of [...reasons, 'ContainerExitedCode<N>']) expect(doc).toContain(`| \`${r}\` |`);
  });

  it.each(EVENT_REASONS)('lists the event reason %s', (reason) => {
    expect(doc.slice(doc.indexOf('## Events'))).toContain(`\`${reason}\``);
  });
});
