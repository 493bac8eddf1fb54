import { describe, expect, it } from 'vitest';
import {
  ACTIVE_INSTANCE_STATES,
  IllegalTransitionError,
  INSTANCE_TRANSITIONS,
  TERMINAL_INSTANCE_STATES,
  isActive,
  isTerminal,
  transition,
} from '../../src/domain/instance-state.js';
import type { InstanceState } from '../../src/domain/types.js';

const ALL: readonly InstanceState[] = [
  'pending',
  'starting',
  'running',
  'backoff',
  'stopping',
  'succeeded',
  'failed',
  'stopped',
];

/** The machine drawn in the header of instance-state.ts, written out independently. */
const EXPECTED: Record<InstanceState, InstanceState[]> = {
  pending: ['starting', 'failed', 'stopped'],
  starting: ['running', 'succeeded', 'failed', 'backoff', 'stopping', 'pending'],
  running: ['succeeded', 'failed', 'backoff', 'stopping', 'pending'],
  backoff: ['pending', 'failed', 'stopped'],
  stopping: ['succeeded', 'failed', 'stopped', 'backoff', 'pending'],
  succeeded: [],
  failed: [],
  stopped: [],
};

const allowed: [InstanceState, InstanceState][] = ALL.flatMap((from) =>
  INSTANCE_TRANSITIONS[from].map((to) => [from, to] as [InstanceState, InstanceState]),
);
const forbidden: [InstanceState, InstanceState][] = ALL.flatMap((from) =>
  ALL.filter((to) => to !== from && !INSTANCE_TRANSITIONS[from].includes(to)).map(
    (to) => [from, to] as [InstanceState, InstanceState],
  ),
);

describe('INSTANCE_TRANSITIONS', () => {
  it('has an entry for every instance state and nothing else', () => {
    expect(Object.keys(INSTANCE_TRANSITIONS).sort()).toEqual([...ALL].sort());
  });

  it.each(ALL)('lists exactly the exits of %s drawn in the state diagram', (from) => {
    expect([...INSTANCE_TRANSITIONS[from]].sort()).toEqual([...EXPECTED[from]].sort());
  });

  it('never lists a state as an exit of itself', () => {
    for (const from of ALL) expect(INSTANCE_TRANSITIONS[from]).not.toContain(from);
  });

  it('only names known states as targets', () => {
    for (const from of ALL) for (const to of INSTANCE_TRANSITIONS[from]) expect(ALL).toContain(to);
  });

  it('covers every ordered pair of distinct states as either allowed or forbidden', () => {
    expect(allowed.length + forbidden.length).toBe(ALL.length * (ALL.length - 1));
  });
});

describe('transition: allowed moves', () => {
  it.each(allowed)('moves an instance from %s to %s', (from, to) => {
    expect(transition(from, to)).toBe(to);
  });

  it.each(ALL)('lets %s stay in place (a no-op move)', (s) => {
    expect(transition(s, s)).toBe(s);
  });
});

describe('transition: forbidden moves', () => {
  it.each(forbidden)('refuses to move an instance from %s to %s with an IllegalTransitionError naming both', (from, to) => {
    let caught: unknown;
    try {
      transition(from, to);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IllegalTransitionError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as IllegalTransitionError;
    expect(err.name).toBe('IllegalTransitionError');
    expect(err.message).toContain(from);
    expect(err.message).toContain(to);
    expect(err.message).toBe(`Illegal instance transition ${from} -> ${to}`);
    expect([err.what, err.from, err.to]).toEqual(['instance', from, to]);
  });
});

describe('terminal states', () => {
  it.each(['succeeded', 'failed', 'stopped'] as InstanceState[])('%s has no exits at all', (s) => {
    expect(INSTANCE_TRANSITIONS[s]).toEqual([]);
    for (const to of ALL.filter((t) => t !== s)) expect(() => transition(s, to)).toThrow(IllegalTransitionError);
  });

  it('are exactly succeeded, failed and stopped', () => {
    expect([...TERMINAL_INSTANCE_STATES].sort()).toEqual(['failed', 'stopped', 'succeeded']);
  });

  it('are exactly the states without exits', () => {
    expect(ALL.filter((s) => INSTANCE_TRANSITIONS[s].length === 0).sort()).toEqual([...TERMINAL_INSTANCE_STATES].sort());
  });

  it('can be reached from every non-terminal state by some path', () => {
    for (const start of ALL.filter((s) => !isTerminal(s))) {
      const seen = new Set<InstanceState>([start]);
      const todo = [start];
      while (todo.length) for (const n of INSTANCE_TRANSITIONS[todo.pop()!]) if (!seen.has(n)) (seen.add(n), todo.push(n));
      expect([...seen].some(isTerminal), `no terminal state reachable from ${start}`).toBe(true);
    }
  });
});

describe('isActive and isTerminal', () => {
  const table: [InstanceState, boolean, boolean][] = [
    // state, active, terminal
    ['pending', false, false],
    ['starting', true, false],
    ['running', true, false],
    ['backoff', false, false],
    ['stopping', true, false],
    ['succeeded', false, true],
    ['failed', false, true],
    ['stopped', false, true],
  ];

  it.each(table)('classifies %s as active=%s and terminal=%s', (s, active, terminal) => {
    expect(isActive(s)).toBe(active);
    expect(isTerminal(s)).toBe(terminal);
  });

  it('never classifies a state as both active and terminal', () => {
    for (const s of ALL) expect(isActive(s) && isTerminal(s)).toBe(false);
  });

  it('lists starting, running and stopping as the active states', () => {
    expect([...ACTIVE_INSTANCE_STATES].sort()).toEqual(['running', 'starting', 'stopping']);
  });
});
