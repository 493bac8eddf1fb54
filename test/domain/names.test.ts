import { describe, expect, it } from 'vitest';
import {
  checkConfigName,
  checkJobName,
  checkJobRunName,
  checkProjectName,
  generateRunName,
  instanceName,
} from '../../src/domain/names.js';
import { expectIssue } from './helpers.js';

const a = (n: number) => 'a'.repeat(n);

describe('checkJobName (≤63, reference §1.0)', () => {
  it.each(['a', '0', 'myjob', 'my-job-1', 'a--b', a(63), '1abc'])('%j is valid', (name) => {
    expect(checkJobName(name)).toEqual([]);
  });
  it.each([
    ['', 'it is empty'],
    [a(64), 'it has 64 characters'],
    ['My_Job', '1-63 characters'],
    ['-job', 'starting and ending'],
    ['job-', 'starting and ending'],
    ['my.job', '1-63 characters'],
    ['my job', '1-63 characters'],
    ['jöb', '1-63 characters'],
  ])('%j is invalid (%s)', (name, rule) => {
    const found = expectIssue(checkJobName(name), 'invalid_name', 'name', JSON.stringify(name).slice(0, 40), rule);
    expect(found.message).toContain('is not valid: a job name must be 1-63 characters');
  });
  it('gives the exact message of the brief', () => {
    expect(checkJobName('My_Job')[0]!.message).toBe(
      `name "My_Job" is not valid: a job name must be 1-63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit`,
    );
  });
  it.each([5, null, undefined, {}])('rejects a non-string %j', (name) => {
    expectIssue(checkJobName(name, 'job_name'), 'invalid_name', 'job_name', 'got');
  });
});

describe('checkJobRunName (≤53)', () => {
  it.each(['r', 'myjob-jobrun-fji48', a(53)])('%j is valid', (name) => {
    expect(checkJobRunName(name)).toEqual([]);
  });
  it.each([
    [a(54), 'it has 54 characters'],
    ['Run', '1-53 characters'],
    ['run-', 'starting and ending'],
    ['', 'it is empty'],
  ])('%j is invalid', (name, rule) => {
    expectIssue(checkJobRunName(name), 'invalid_name', 'name', JSON.stringify(name).slice(0, 40), 'job run name', rule);
  });
});

describe('checkConfigName (≤253, dots allowed)', () => {
  it.each(['cm', 'my.config-map', 'a.b.c', a(253), 'ce-auto-icr-private-us-south'])('%j is valid', (name) => {
    expect(checkConfigName(name)).toEqual([]);
  });
  it.each([
    [a(254), 'it has 254 characters'],
    ['.cm', 'starting and ending'],
    ['cm.', 'starting and ending'],
    ['My_Secret', '1-253 characters'],
    ['', 'it is empty'],
  ])('%j is invalid', (name, rule) => {
    expectIssue(checkConfigName(name, 'image_secret'), 'invalid_name', 'image_secret', JSON.stringify(name).slice(0, 40), rule);
  });
});

describe('checkProjectName (1-128, Unicode)', () => {
  it.each(['default', 'My Project', 'proj_1.2:3-x', 'Projekt Größe', '项目', 'é'.repeat(128)])('%j is valid', (name) => {
    expect(checkProjectName(name)).toEqual([]);
  });
  it.each([
    ['', 'it is empty'],
    ['x'.repeat(129), 'it has 129 characters'],
    ['a/b', 'letters, digits'],
    ['a!', 'letters, digits'],
    [' lead', 'not starting or ending with a space'],
    ['trail ', 'not starting or ending with a space'],
  ])('%j is invalid', (name, rule) => {
    expectIssue(checkProjectName(name), 'invalid_name', 'name', JSON.stringify(name).slice(0, 40), rule);
  });
});

/** A deterministic random source cycling through the given values. */
function seq(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('generateRunName (reference §1.4)', () => {
  it('is <job>-jobrun-<5 chars>', () => {
    expect(generateRunName('myjob', seq(0, 0.99, 0.5, 0.1, 0.75))).toBe('myjob-jobrun-a9sd1');
  });
  it('is jobrun-<5 chars> for a standalone run', () => {
    expect(generateRunName(undefined, seq(0))).toBe('jobrun-aaaaa');
  });
  it('survives a random source returning 1 or more', () => {
    expect(generateRunName('j', seq(1, 2))).toBe('j-jobrun-99999');
  });
  it.each([1, 20, 39, 40, 41, 62, 63])('stays ≤ 53 and valid for a %i-char job name', (n) => {
    const name = generateRunName('j'.repeat(n), Math.random);
    expect(name.length).toBeLessThanOrEqual(53);
    expect(checkJobRunName(name)).toEqual([]);
    expect(name).toMatch(/-jobrun-[a-z0-9]{5}$/);
  });
  it('uses exactly 53 characters for a long name', () => {
    expect(generateRunName('x'.repeat(63), seq(0))).toHaveLength(53);
  });
  it('drops a trailing hyphen left by the cut', () => {
    const job = 'a'.repeat(39) + '-bcdef';
    const name = generateRunName(job, seq(0));
    expect(name).toBe(`${'a'.repeat(39)}-jobrun-aaaaa`);
    expect(checkJobRunName(name)).toEqual([]);
  });
  it('draws from [a-z0-9] only', () => {
    for (let i = 0; i < 200; i++) expect(generateRunName('j', Math.random)).toMatch(/^j-jobrun-[a-z0-9]{5}$/);
  });
});

describe('instanceName (reference §2.2)', () => {
  it.each([
    ['myjobrun', 1, 0, 'myjobrun-1-0'],
    ['r', 9_999_999, 5, 'r-9999999-5'],
  ])('%s %i %i → %s', (run, index, retry, expected) => {
    expect(instanceName(run, index, retry)).toBe(expected);
  });
});
