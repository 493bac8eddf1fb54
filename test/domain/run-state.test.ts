import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../src/domain/instance-state.js';
import { RUN_TRANSITIONS, indexStatusOf, isRunTerminal, runStatusOf, transitionRun } from '../../src/domain/run-state.js';
import type { IndexStatus, InstanceState, JobRunStatus, RunMode } from '../../src/domain/types.js';

const STATUSES: readonly JobRunStatus[] = ['pending', 'running', 'completed', 'failed'];

const allowed: [JobRunStatus, JobRunStatus][] = [
  ['pending', 'running'],
  ['pending', 'completed'],
  ['pending', 'failed'],
  ['running', 'completed'],
  ['running', 'failed'],
];
const forbidden: [JobRunStatus, JobRunStatus][] = STATUSES.flatMap((from) =>
  STATUSES.filter((to) => to !== from && !allowed.some(([f, t]) => f === from && t === to)).map(
    (to) => [from, to] as [JobRunStatus, JobRunStatus],
  ),
);

describe('RUN_TRANSITIONS', () => {
  it('allows exactly the moves drawn in the run state diagram', () => {
    const listed = STATUSES.flatMap((from) => RUN_TRANSITIONS[from].map((to) => `${from}->${to}`)).sort();
    expect(listed).toEqual(allowed.map(([f, t]) => `${f}->${t}`).sort());
  });

  it('gives completed and failed no exits', () => {
    expect(RUN_TRANSITIONS.completed).toEqual([]);
    expect(RUN_TRANSITIONS.failed).toEqual([]);
  });

  it('never lets a run go back to pending', () => {
    for (const from of STATUSES) expect(RUN_TRANSITIONS[from]).not.toContain('pending');
  });
});

describe('transitionRun', () => {
  it.each(allowed)('moves a run from %s to %s', (from, to) => {
    expect(transitionRun(from, to)).toBe(to);
  });

  it.each(STATUSES)('lets a %s run stay in place', (s) => {
    expect(transitionRun(s, s)).toBe(s);
  });

  it.each(forbidden)('refuses to move a run from %s to %s with an error naming both', (from, to) => {
    let caught: unknown;
    try {
      transitionRun(from, to);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IllegalTransitionError);
    const err = caught as IllegalTransitionError;
    expect(err.message).toBe(`Illegal job run transition ${from} -> ${to}`);
    expect([err.what, err.from, err.to]).toEqual(['job run', from, to]);
  });
});

describe('isRunTerminal', () => {
  it.each([
    ['pending', false],
    ['running', false],
    ['completed', true],
    ['failed', true],
  ] as [JobRunStatus, boolean][])('says a %s run is terminal=%s', (s, t) => {
    expect(isRunTerminal(s)).toBe(t);
  });
});

describe('indexStatusOf (the table in the header of run-state.ts)', () => {
  const table: [InstanceState, IndexStatus, IndexStatus][] = [
    // instance state, task mode, daemon mode
    ['pending', 'pending', 'pending'],
    ['backoff', 'pending', 'running'],
    ['starting', 'pending', 'pending'],
    ['running', 'running', 'running'],
    ['stopping', 'running', 'running'],
    ['succeeded', 'succeeded', 'succeeded'],
    ['failed', 'failed', 'failed'],
    ['stopped', 'failed', 'failed'],
  ];

  it.each(table)('maps an instance in %s to index status %s in task mode and %s in daemon mode', (state, task, daemon) => {
    expect(indexStatusOf(state, 'task')).toBe(task);
    expect(indexStatusOf(state, 'daemon')).toBe(daemon);
  });

  it('covers every instance state', () => {
    expect(table.map(([s]) => s).sort()).toEqual(
      ['backoff', 'failed', 'pending', 'running', 'starting', 'stopped', 'stopping', 'succeeded'],
    );
  });

  it('never reports unknown for any state in either mode', () => {
    for (const [s] of table) for (const m of ['task', 'daemon'] as RunMode[]) expect(indexStatusOf(s, m)).not.toBe('unknown');
  });
});

describe('runStatusOf', () => {
  const table: [string, IndexStatus[], boolean, JobRunStatus][] = [
    ['every index succeeded', ['succeeded', 'succeeded', 'succeeded'], true, 'completed'],
    ['a single index succeeded', ['succeeded'], true, 'completed'],
    ['every index terminal and one failed', ['succeeded', 'failed', 'succeeded'], true, 'failed'],
    ['every index failed', ['failed', 'failed'], true, 'failed'],
    ['every index terminal without ever starting (all failed)', ['failed', 'failed'], false, 'failed'],
    ['every index terminal without ever starting (all succeeded)', ['succeeded'], false, 'completed'],
    ['some indices pending and none ever started', ['pending', 'pending'], false, 'pending'],
    ['some pending, some failed, never started', ['pending', 'failed'], false, 'pending'],
    ['some indices pending after the run started', ['pending', 'succeeded'], true, 'running'],
    ['an index running', ['running', 'succeeded'], true, 'running'],
    ['one index still running while another failed', ['running', 'failed'], true, 'running'],
    ['an unknown index keeps the run unfinished', ['unknown', 'succeeded'], true, 'running'],
    ['no indices, never started', [], false, 'pending'],
    ['no indices, started', [], true, 'running'],
  ];

  it.each(table)('with %s the run is as expected', (_what, statuses, started, expected) => {
    expect(runStatusOf(statuses, started)).toBe(expected);
  });

  it('does not depend on the order of the indices', () => {
    expect(runStatusOf(['failed', 'succeeded', 'succeeded'], true)).toBe('failed');
    expect(runStatusOf(['succeeded', 'succeeded', 'failed'], true)).toBe('failed');
    expect(runStatusOf(['succeeded', 'running', 'failed'], true)).toBe('running');
  });
});
