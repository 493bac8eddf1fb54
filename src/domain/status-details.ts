/**
 * Code Engine's `status_details` of a job run, computed from the latest instance of each index.
 *
 * Counters (reference §3.2): `requested` = indices waiting to be admitted (for capacity or a
 * retry backoff), `pending` = admitted and being started, `running`, `succeeded`, `failed`,
 * `unknown` (always 0 here: cejobs always knows). Index lists are array-spec strings
 * (`"0-2,4"`), left out when empty. `indices_details` is keyed by the index as a string.
 */
import { formatIndices } from './array-spec.js';
import { isoTime } from './iso-time.js';
import { indexStatusOf } from './run-state.js';
import type { IndexDetails, IndexStatus, InstanceState, JobRunStatusDetails, RunMode } from './types.js';

/** What status details need to know about one index. */
export interface IndexView {
  index: number;
  /** State of the latest instance of the index. */
  state: InstanceState;
  /** Retry number of the latest instance. */
  retry: number;
  restarts: number;
  /** When the index's first instance started running (epoch ms). */
  firstStartedMs?: number;
  /** When the latest instance reached a terminal state (epoch ms). */
  finishedMs?: number;
  /** Reason of the index's most recent failure, if any. */
  lastFailureReason?: string;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : isoTime(ms));

export function computeStatusDetails(
  mode: RunMode,
  indices: readonly IndexView[],
  startMs: number | undefined,
  completionMs: number | undefined,
): JobRunStatusDetails {
  const lists: Record<IndexStatus, number[]> = { pending: [], running: [], succeeded: [], failed: [], unknown: [] };
  const details: Record<string, IndexDetails> = {};
  let requested = 0;
  let admitted = 0;
  for (const v of indices) {
    const status = indexStatusOf(v.state, mode);
    lists[status].push(v.index);
    if (status === 'pending') {
      if (v.state === 'pending' || v.state === 'backoff') requested++;
      else admitted++;
    }
    const d: IndexDetails = { status, retries: v.retry };
    if (mode === 'daemon') d.restarts = v.restarts;
    if (v.lastFailureReason) d.last_failure_reason = v.lastFailureReason;
    const started = iso(v.firstStartedMs);
    if (started) d.started_at = started;
    const finished = status === 'succeeded' || status === 'failed' ? iso(v.finishedMs) : undefined;
    if (finished) d.finished_at = finished;
    details[String(v.index)] = d;
  }
  const out: JobRunStatusDetails = {
    requested,
    pending: admitted,
    running: lists.running.length,
    succeeded: lists.succeeded.length,
    failed: lists.failed.length,
    unknown: 0,
    indices_details: details,
  };
  const start = iso(startMs);
  if (start) out.start_time = start;
  const completion = iso(completionMs);
  if (completion) out.completion_time = completion;
  if (lists.pending.length) out.pending_indices = formatIndices(lists.pending);
  if (lists.running.length) out.running_indices = formatIndices(lists.running);
  if (lists.succeeded.length) out.succeeded_indices = formatIndices(lists.succeeded);
  if (lists.failed.length) out.failed_indices = formatIndices(lists.failed);
  return out;
}
