import { describe, expect, it } from 'vitest';
import { computeStatusDetails, type IndexView } from '../../src/domain/status-details.js';
import type { InstanceState, RunMode } from '../../src/domain/types.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const view = (index: number, state: InstanceState, over: Partial<IndexView> = {}): IndexView => ({
  index,
  state,
  retry: 0,
  restarts: 0,
  ...over,
});

describe('computeStatusDetails: counters', () => {
  // `pending` counts admitted instances being started; see the test of `starting` below.
  const table: [string, RunMode, InstanceState[], { requested: number; running: number; succeeded: number; failed: number }][] = [
    ['no indices', 'task', [], { requested: 0, running: 0, succeeded: 0, failed: 0 }],
    ['every task index waiting for capacity', 'task', ['pending', 'pending', 'pending'], { requested: 3, running: 0, succeeded: 0, failed: 0 }],
    ['task indices waiting for a retry backoff count as requested', 'task', ['backoff', 'pending'], { requested: 2, running: 0, succeeded: 0, failed: 0 }],
    ['a daemon in backoff counts as running', 'daemon', ['backoff', 'pending'], { requested: 1, running: 1, succeeded: 0, failed: 0 }],
    ['running and stopping count as running', 'task', ['running', 'stopping'], { requested: 0, running: 2, succeeded: 0, failed: 0 }],
    ['a finished mixed task run', 'task', ['succeeded', 'failed', 'stopped', 'succeeded'], { requested: 0, running: 0, succeeded: 2, failed: 2 }],
    [
      'a task run in every state but starting',
      'task',
      ['pending', 'backoff', 'running', 'stopping', 'succeeded', 'failed', 'stopped'],
      { requested: 2, running: 2, succeeded: 1, failed: 2 },
    ],
    [
      'a daemon run in every state but starting',
      'daemon',
      ['pending', 'backoff', 'running', 'stopping', 'succeeded', 'failed', 'stopped'],
      { requested: 1, running: 3, succeeded: 1, failed: 2 },
    ],
  ];

  it.each(table)('counts %s (%s mode)', (_w, mode, states, expected) => {
    const d = computeStatusDetails(mode, states.map((s, i) => view(i, s)), undefined, undefined);
    expect({ requested: d.requested, running: d.running, succeeded: d.succeeded, failed: d.failed }).toEqual(expected);
    expect(d.pending).toBe(0);
    expect(d.unknown).toBe(0);
    expect(Object.keys(d.indices_details)).toHaveLength(states.length);
  });

  it.each(['task', 'daemon'] as const)('counts a starting instance as pending, not requested (%s mode)', (mode) => {
    const d = computeStatusDetails(mode, [view(0, 'starting'), view(1, 'pending')], undefined, undefined);
    expect(d.indices_details['0']!.status).toBe('pending');
    expect(d.pending_indices).toBe('0-1');
    expect(d.pending).toBe(1);
    expect(d.requested).toBe(1);
    expect(d.running).toBe(0);
  });
});

describe('computeStatusDetails: index lists', () => {
  it('writes each list in the compact array-spec form', () => {
    const states: [number, InstanceState][] = [
      [0, 'succeeded'], [1, 'succeeded'], [2, 'succeeded'], [4, 'succeeded'],
      [3, 'failed'], [9, 'stopped'],
      [5, 'running'], [6, 'stopping'], [7, 'starting'],
      [8, 'pending'], [10, 'backoff'], [11, 'pending'],
    ];
    const d = computeStatusDetails('task', states.map(([i, s]) => view(i, s)), undefined, undefined);
    expect(d.succeeded_indices).toBe('0-2,4');
    expect(d.failed_indices).toBe('3,9');
    expect(d.running_indices).toBe('5-6');
    expect(d.pending_indices).toBe('7-8,10-11');
  });

  it('sorts indices given in any order', () => {
    const d = computeStatusDetails('task', [7, 3, 5, 4, 0].map((i) => view(i, 'succeeded')), undefined, undefined);
    expect(d.succeeded_indices).toBe('0,3-5,7');
  });

  it('leaves out every empty list', () => {
    const d = computeStatusDetails('task', [view(0, 'succeeded')], undefined, undefined);
    expect(d.succeeded_indices).toBe('0');
    for (const k of ['pending_indices', 'running_indices', 'failed_indices'] as const) expect(d).not.toHaveProperty(k);
  });

  it('leaves out all lists and times for a run without indices', () => {
    const d = computeStatusDetails('task', [], undefined, undefined);
    expect(d).toEqual({ requested: 0, pending: 0, running: 0, succeeded: 0, failed: 0, unknown: 0, indices_details: {} });
  });

  it('puts a daemon in backoff in the running list, not the pending list', () => {
    const d = computeStatusDetails('daemon', [view(0, 'backoff'), view(1, 'pending')], undefined, undefined);
    expect(d.running_indices).toBe('0');
    expect(d.pending_indices).toBe('1');
  });
});

describe('computeStatusDetails: indices_details', () => {
  it('keys details by the index as a string', () => {
    const d = computeStatusDetails('task', [view(3, 'running'), view(12, 'pending')], undefined, undefined);
    expect(Object.keys(d.indices_details).sort()).toEqual(['12', '3']);
  });

  it('gives a task index its status, retries, failure reason and times', () => {
    const d = computeStatusDetails(
      'task',
      [
        view(0, 'failed', {
          retry: 2,
          restarts: 5,
          firstStartedMs: T0,
          finishedMs: T0 + 90_000,
          lastFailureReason: 'ContainerExitedCode1',
        }),
      ],
      T0,
      T0 + 90_000,
    );
    expect(d.indices_details['0']).toEqual({
      status: 'failed',
      retries: 2,
      last_failure_reason: 'ContainerExitedCode1',
      started_at: iso(T0),
      finished_at: iso(T0 + 90_000),
    });
  });

  it('reports restarts only in daemon mode', () => {
    const task = computeStatusDetails('task', [view(0, 'running', { restarts: 4 })], undefined, undefined);
    const daemon = computeStatusDetails('daemon', [view(0, 'running', { restarts: 4 })], undefined, undefined);
    expect(task.indices_details['0']).not.toHaveProperty('restarts');
    expect(daemon.indices_details['0']!.restarts).toBe(4);
  });

  it('reports restarts 0 for a daemon that never restarted', () => {
    const d = computeStatusDetails('daemon', [view(0, 'running')], undefined, undefined);
    expect(d.indices_details['0']!.restarts).toBe(0);
  });

  const finishedTable: [InstanceState, boolean][] = [
    ['pending', false],
    ['starting', false],
    ['running', false],
    ['backoff', false],
    ['stopping', false],
    ['succeeded', true],
    ['failed', true],
    ['stopped', true],
  ];
  it.each(finishedTable)('gives finished_at to an index whose instance is %s only when terminal (%s)', (state, has) => {
    const d = computeStatusDetails('task', [view(0, state, { firstStartedMs: T0, finishedMs: T0 + 5000 })], undefined, undefined);
    const detail = d.indices_details['0']!;
    if (has) expect(detail.finished_at).toBe(iso(T0 + 5000));
    else expect(detail).not.toHaveProperty('finished_at');
    expect(detail.started_at).toBe(iso(T0));
  });

  it('leaves out started_at, finished_at and last_failure_reason when unknown', () => {
    const d = computeStatusDetails('task', [view(0, 'succeeded')], undefined, undefined);
    expect(d.indices_details['0']).toEqual({ status: 'succeeded', retries: 0 });
  });

  it('leaves out an empty failure reason', () => {
    const d = computeStatusDetails('task', [view(0, 'running', { lastFailureReason: '' })], undefined, undefined);
    expect(d.indices_details['0']).not.toHaveProperty('last_failure_reason');
  });

  it('keeps the failure reason of an earlier attempt on an index that is being retried', () => {
    const d = computeStatusDetails('task', [view(0, 'backoff', { retry: 1, lastFailureReason: 'OOMKilled' })], undefined, undefined);
    expect(d.indices_details['0']).toEqual({ status: 'pending', retries: 1, last_failure_reason: 'OOMKilled' });
  });

  it('writes an epoch-0 start time as a time, not as absent', () => {
    const d = computeStatusDetails('task', [view(0, 'succeeded', { firstStartedMs: 0, finishedMs: 0 })], 0, 0);
    expect(d.indices_details['0']!.started_at).toBe('1970-01-01T00:00:00.000Z');
    expect(d.indices_details['0']!.finished_at).toBe('1970-01-01T00:00:00.000Z');
    expect(d.start_time).toBe('1970-01-01T00:00:00.000Z');
    expect(d.completion_time).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('computeStatusDetails: run times', () => {
  it('writes start and completion times as ISO strings', () => {
    const d = computeStatusDetails('task', [view(0, 'succeeded')], T0, T0 + 1234);
    expect(d.start_time).toBe('2026-01-01T12:00:00.000Z');
    expect(d.completion_time).toBe('2026-01-01T12:00:01.234Z');
  });

  it('leaves out the completion time of an unfinished run', () => {
    const d = computeStatusDetails('task', [view(0, 'running')], T0, undefined);
    expect(d.start_time).toBe(iso(T0));
    expect(d).not.toHaveProperty('completion_time');
  });

  it('leaves out both times of a run that never started', () => {
    const d = computeStatusDetails('task', [view(0, 'pending')], undefined, undefined);
    expect(d).not.toHaveProperty('start_time');
    expect(d).not.toHaveProperty('completion_time');
  });

  it('is plain JSON that survives a round trip unchanged', () => {
    const d = computeStatusDetails('daemon', [view(0, 'running', { firstStartedMs: T0 }), view(1, 'failed', { finishedMs: T0 })], T0, undefined);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});
