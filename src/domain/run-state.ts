/**
 * The state machines of a job run and of one array index, derived from instances.
 *
 * Index status (Code Engine's `indices_details[i].status`), from the index's latest instance:
 *
 *     instance state      task mode     daemon mode
 *     pending             pending       pending
 *     starting            pending       pending   (admitted, being created: Code Engine's Pending)
 *     backoff             pending       running   (a daemon restarting is still running)
 *     running             running       running
 *     stopping            running       running
 *     succeeded           succeeded     succeeded (exit 0: stopped on purpose)
 *     failed / stopped    failed        failed
 *
 * Run status (`JobRun.status`):
 *
 *     pending ──first instance admitted──▶ running ──every index terminal──▶ completed | failed
 *        │                                                                       ▲
 *        └──────────────── every index terminal without starting ────────────────┘
 *
 * A run is `completed` when every index succeeded and `failed` when every index is terminal and
 * at least one failed (reference §3.2, SPEC). `completed` and `failed` are terminal.
 */
import { IllegalTransitionError } from './instance-state.js';
import type { IndexStatus, InstanceState, JobRunStatus, RunMode } from './types.js';

export const RUN_TRANSITIONS: Readonly<Record<JobRunStatus, readonly JobRunStatus[]>> = {
  pending: ['running', 'completed', 'failed'],
  running: ['completed', 'failed'],
  completed: [],
  failed: [],
};

export function isRunTerminal(status: JobRunStatus): boolean {
  return status === 'completed' || status === 'failed';
}

/** Returns `to` when the move is allowed (or a no-op); throws otherwise. */
export function transitionRun(from: JobRunStatus, to: JobRunStatus): JobRunStatus {
  if (from === to || RUN_TRANSITIONS[from].includes(to)) return to;
  throw new IllegalTransitionError('job run', from, to);
}

/** Status of an index from the state of its latest instance. */
export function indexStatusOf(state: InstanceState, mode: RunMode): IndexStatus {
  switch (state) {
    case 'pending':
    case 'starting':
      return 'pending';
    case 'backoff':
      return mode === 'daemon' ? 'running' : 'pending';
    case 'running':
    case 'stopping':
      return 'running';
    case 'succeeded':
      return 'succeeded';
    case 'failed':
    case 'stopped':
      return 'failed';
  }
}

/**
 * The run status implied by its index statuses. `started` says whether any instance was ever
 * admitted (a run never goes back to `pending`).
 */
export function runStatusOf(indexStatuses: readonly IndexStatus[], started: boolean): JobRunStatus {
  let terminal = 0;
  let failed = 0;
  for (const s of indexStatuses) {
    if (s === 'succeeded' || s === 'failed') terminal++;
    if (s === 'failed') failed++;
  }
  if (indexStatuses.length > 0 && terminal === indexStatuses.length) return failed > 0 ? 'failed' : 'completed';
  return started ? 'running' : 'pending';
}
