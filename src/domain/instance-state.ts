/**
 * The state machine of an instance (one index's attempt line: `<run>-<index>-<retry>`).
 *
 *                 admitted             driver accepted
 *     pending ───────────────▶ starting ───────────────▶ running
 *       ▲  │                      │                        │
 *       │  │ never fits /         │ exited (any outcome)   │ exited
 *       │  │ deadline / deleted   ▼                        ▼
 *       │  │                ┌─────────── decide (policy.ts) ───────────┐
 *       │  │                │ exit 0 ........................ succeeded │
 *       │  │                │ task failure .................. failed    │  (a retry is a NEW
 *       │  │                │ daemon failure ................ backoff   │   instance, retry+1,
 *       │  │                └──────────────────────────────────────────┘   born in `backoff`)
 *       │  ▼
 *       │ failed / stopped                      backoff ──(delay over)──▶ pending
 *       │
 *       └──── lost: the attempt vanished while the server was down (rerun, no retry used)
 *
 *     starting | running ──stop requested (delete, deadline, restart)──▶ stopping
 *     stopping ──exited──▶ stopped (deleted) | failed (deadline) | pending (restart) | decide
 *
 * Terminal: `succeeded`, `failed`, `stopped`. `transition` is the only way to change a state;
 * it throws `IllegalTransitionError` naming both states for any move not in the table.
 */
import type { InstanceState } from './types.js';

export const INSTANCE_TRANSITIONS: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  pending: ['starting', 'failed', 'stopped'],
  starting: ['running', 'succeeded', 'failed', 'backoff', 'stopping', 'pending'],
  running: ['succeeded', 'failed', 'backoff', 'stopping', 'pending'],
  backoff: ['pending', 'failed', 'stopped'],
  stopping: ['succeeded', 'failed', 'stopped', 'backoff', 'pending'],
  succeeded: [],
  failed: [],
  stopped: [],
};

/** States in which an attempt may be alive on a driver (and holds capacity). */
export const ACTIVE_INSTANCE_STATES: readonly InstanceState[] = ['starting', 'running', 'stopping'];
export const TERMINAL_INSTANCE_STATES: readonly InstanceState[] = ['succeeded', 'failed', 'stopped'];

export function isActive(state: InstanceState): boolean {
  return ACTIVE_INSTANCE_STATES.includes(state);
}

export function isTerminal(state: InstanceState): boolean {
  return TERMINAL_INSTANCE_STATES.includes(state);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly what: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`Illegal ${what} transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Returns `to` when the move is allowed; throws otherwise. Staying in place is allowed. */
export function transition(from: InstanceState, to: InstanceState): InstanceState {
  if (from === to || INSTANCE_TRANSITIONS[from].includes(to)) return to;
  throw new IllegalTransitionError('instance', from, to);
}
