/**
 * What happens after an attempt ends: a pure decision from persisted facts. Messages complete
 * the sentence "Instance <name> ..." (e.g. `exited with code 1; retry 1 of 3 in 1.0s`).
 *
 * | situation                                   | task mode                         | daemon mode                    |
 * |---------------------------------------------|-----------------------------------|--------------------------------|
 * | stopped because the run/job was deleted      | `stop`                            | `stop`                         |
 * | stopped by the run's deadline (not exit 0)   | `fail` MaxExecutionTimeExceeded   | (daemons have no deadline)     |
 * | stopped by a restart request                 | `restart` now, no failure counted | `restart` now                  |
 * | lost (how it ended is unknown)               | `rerun` now, no retry used        | `rerun` now                    |
 * | exit 0                                       | `succeed`                         | `succeed` (stopped on purpose) |
 * | failure that can never work (Unschedulable)  | `fail`                            | `fail`                         |
 * | failure, retries left                        | `retry` (new instance) after backoff | `restart` after backoff     |
 * | failure, no retries left                     | `fail`                            | —                              |
 */
import { backoffDelayMs, nextFailureCount, type BackoffSettings } from './backoff.js';
import { describeOutcome, failureReasonOf, isRetryable, isSuccess, type AttemptOutcome, type FailureReason } from './failure-reasons.js';
import type { RunMode } from './types.js';

/** Why the engine asked an attempt to stop; recorded before the stop is sent. */
export type StopReason = 'delete' | 'deadline' | 'restart';

export interface ExitFacts {
  mode: RunMode;
  outcome: AttemptOutcome;
  stopReason?: StopReason;
  /** The instance's retry number (0 for the first instance of the index). */
  retry: number;
  /** `scale_retry_limit` (task mode). */
  retryLimit: number;
  /** Consecutive failures before this attempt. */
  failures: number;
  /** How long the attempt ran, 0 if it never ran. */
  ranForMs: number;
}

export type ExitDecision =
  | { action: 'succeed' }
  | { action: 'stop' }
  | { action: 'fail'; reason: FailureReason; message: string }
  /** Task: a new instance for the same index (retry + 1) after `delayMs`. */
  | { action: 'retry'; reason: FailureReason; message: string; failures: number; delayMs: number }
  /** The attempt was lost: the same instance runs again at once; no retry or restart counted. */
  | { action: 'rerun'; message: string }
  /** Daemon failure (or a restart request): the same instance starts again after `delayMs`. */
  | { action: 'restart'; reason?: FailureReason; message: string; failures: number; delayMs: number };

export function decideAfterExit(facts: ExitFacts, backoff: BackoffSettings, random: () => number): ExitDecision {
  const reason = failureReasonOf(facts.outcome);
  const what = describeOutcome(facts.outcome);

  if (facts.stopReason === 'delete') return { action: 'stop' };
  if (facts.stopReason === 'restart') {
    return { action: 'restart', message: `was restarted on request (it ${what})`, failures: facts.failures, delayMs: 0 };
  }
  if (facts.stopReason === 'deadline' && !isSuccess(facts.outcome)) {
    return {
      action: 'fail',
      reason: 'MaxExecutionTimeExceeded',
      message: `was stopped because the job run exceeded its maximum execution time (it ${what})`,
    };
  }
  if (facts.outcome.kind === 'lost') return { action: 'rerun', message: what };
  if (reason === undefined) return { action: 'succeed' };
  if (!isRetryable(reason)) return { action: 'fail', reason, message: what };

  const failures = nextFailureCount(facts.failures, facts.ranForMs, backoff);
  const delayMs = backoffDelayMs(failures, backoff, random);
  if (facts.mode === 'daemon') {
    return { action: 'restart', reason, message: `${what}; restarting in ${formatDelay(delayMs)}`, failures, delayMs };
  }
  if (facts.retry < facts.retryLimit) {
    return {
      action: 'retry',
      reason,
      message: `${what}; retry ${facts.retry + 1} of ${facts.retryLimit} in ${formatDelay(delayMs)}`,
      failures,
      delayMs,
    };
  }
  const tail = facts.retryLimit === 0 ? 'no retries allowed' : `all ${facts.retryLimit} retries used`;
  return { action: 'fail', reason, message: `${what}; ${tail}` };
}

export function formatDelay(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}
