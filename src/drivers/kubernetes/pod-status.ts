/**
 * What a Pod's status says about its attempt (pure; fixtures in test/fixtures/kubernetes).
 *
 * `observePod` reads one Pod object (as the watch delivers it: JSON with string times, or the
 * client's model with `Date`s) into an observation:
 *
 * | pod status                                                        | observation                               |
 * |-------------------------------------------------------------------|-------------------------------------------|
 * | container `terminated`, reason `OOMKilled`                        | ended: `oom-killed`                       |
 * | container `terminated`, exit code N (128+S: killed by signal S)   | ended: `exited`                           |
 * | container `terminated`, reason `StartError`/`ContainerCannotRun`  | ended: `start-failed` (`ExecutableNotFound` when the message says the executable is missing) |
 * | phase `Failed`, reason `Evicted`                                  | ended: `storage-exceeded` for the pod's own ephemeral-storage limit, else `lost` (node pressure: not the workload's fault) |
 * | phase `Failed`, reason `DeadlineExceeded`                         | ended: killed by SIGKILL                  |
 * | phase `Succeeded` / `Failed` without a container state            | ended: exit 0 / `lost`                    |
 * | waiting `CreateContainerError`/`RunContainerError`, executable not found | pending, problem `ExecutableNotFound`, at once |
 * | waiting `InvalidImageName`, `ErrImageNeverPull`                   | pending, problem `ImagePullFailed`, at once |
 * | waiting `ErrImagePull`, `ImagePullBackOff`                        | pending, problem `ImagePullFailed` after the image pull timeout |
 * | waiting `CreateContainerConfigError`, other `CreateContainerError` | pending, problem `StartFailed` after the image pull timeout (a config map may appear) |
 * | condition `PodScheduled=False`, reason `Unschedulable`            | pending, problem `Unschedulable` after the unschedulable wait, counted from the condition's transition |
 * | container `running`                                               | running                                   |
 * | anything else (`ContainerCreating`, no status yet)                | pending                                   |
 *
 * `verdictOf` turns a pending problem into an outcome once its wait is over (`now` injected).
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { AttemptOutcome } from '../../domain/failure-reasons.js';
import { outcomeOfExitCode } from '../exit-code.js';

export type ProblemWait = 'none' | 'image-pull' | 'unschedulable';

export interface PendingProblem {
  reason: 'ImagePullFailed' | 'Unschedulable' | 'ExecutableNotFound' | 'StartFailed';
  /** For a person: the kubelet's or the scheduler's own words. */
  message: string;
  wait: ProblemWait;
  /** Epoch ms the condition began, when the pod says (the scheduling condition's transition). */
  since?: number;
}

export type PodObservation =
  | { state: 'pending'; problem?: PendingProblem }
  | { state: 'running'; startedAt?: number }
  | { state: 'ended'; outcome: AttemptOutcome; startedAt?: number; finishedAt?: number };

const EXECUTABLE_MISSING = /executable file not found|no such file or directory|not found in \$PATH|permission denied|exec format error/i;

/** Epoch ms of a time the watch (string) or the client (Date) delivers. */
export function timeOf(v: Date | string | undefined | null): number | undefined {
  if (v === undefined || v === null) return undefined;
  const t = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** The status of the pod's (single) workload container. */
function mainStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const name = pod.spec?.containers?.[0]?.name;
  return statuses.find((s) => s.name === name) ?? statuses[0];
}

function ended(outcome: AttemptOutcome, startedAt?: number, finishedAt?: number): PodObservation {
  const o: PodObservation = { state: 'ended', outcome };
  if (startedAt !== undefined) o.startedAt = startedAt;
  if (finishedAt !== undefined) o.finishedAt = finishedAt;
  return o;
}

export function observePod(pod: V1Pod): PodObservation {
  const status = pod.status ?? {};
  const c = mainStatus(pod);
  const image = pod.spec?.containers?.[0]?.image ?? c?.image ?? 'the image';
  // An eviction first: the kubelet also marks the killed container terminated (exit 137).
  if (status.phase === 'Failed' && status.reason === 'Evicted') {
    const message = status.message?.trim() || 'evicted';
    if (/ephemeral[- ]/i.test(message) && /exceed|limit/i.test(message) && !/node was low/i.test(message)) {
      return ended({ kind: 'storage-exceeded', message: `was evicted for exceeding its ephemeral storage limit: ${message}` });
    }
    return ended({ kind: 'lost', message: `its pod was evicted: ${message}` });
  }
  const terminated = c?.state?.terminated;
  if (terminated) {
    const startedAt = timeOf(terminated.startedAt);
    const finishedAt = timeOf(terminated.finishedAt);
    const message = terminated.message?.trim() ?? '';
    if (terminated.reason === 'OOMKilled') {
      const limit = pod.spec?.containers?.[0]?.resources?.limits?.memory;
      return ended({ kind: 'oom-killed', message: `was killed for exceeding its memory limit${limit ? ` of ${limit} bytes` : ''} (OOMKilled)` }, startedAt, finishedAt);
    }
    if (terminated.reason === 'StartError' || terminated.reason === 'ContainerCannotRun') {
      const reason = EXECUTABLE_MISSING.test(message) ? 'ExecutableNotFound' : 'StartFailed';
      return ended({ kind: 'start-failed', reason, message: message || `${terminated.reason} (exit code ${terminated.exitCode})` }, undefined, finishedAt);
    }
    return ended(outcomeOfExitCode(terminated.exitCode), startedAt, finishedAt);
  }
  if (status.phase === 'Failed') {
    const message = status.message?.trim() || status.reason || 'the pod failed';
    if (status.reason === 'DeadlineExceeded') return ended({ kind: 'exited', exitCode: null, signal: 'SIGKILL' });
    return ended({ kind: 'lost', message: `its pod failed without a container exit: ${message}` });
  }
  if (status.phase === 'Succeeded') return ended({ kind: 'exited', exitCode: 0, signal: null });
  if (c?.state?.running) {
    const o: PodObservation = { state: 'running' };
    const t = timeOf(c.state.running.startedAt);
    if (t !== undefined) o.startedAt = t;
    return o;
  }
  const waiting = c?.state?.waiting;
  if (waiting?.reason) {
    const message = waiting.message?.trim() || waiting.reason;
    switch (waiting.reason) {
      case 'InvalidImageName':
      case 'ErrImageNeverPull':
        return { state: 'pending', problem: { reason: 'ImagePullFailed', wait: 'none', message: `cannot pull ${image}: ${message}` } };
      case 'ErrImagePull':
      case 'ImagePullBackOff':
        return { state: 'pending', problem: { reason: 'ImagePullFailed', wait: 'image-pull', message: `cannot pull ${image}: ${message}` } };
      case 'CreateContainerError':
      case 'RunContainerError':
        if (EXECUTABLE_MISSING.test(message)) return { state: 'pending', problem: { reason: 'ExecutableNotFound', wait: 'none', message } };
        return { state: 'pending', problem: { reason: 'StartFailed', wait: 'image-pull', message: `${waiting.reason}: ${message}` } };
      case 'CreateContainerConfigError':
        return { state: 'pending', problem: { reason: 'StartFailed', wait: 'image-pull', message: `${waiting.reason}: ${message}` } };
      default:
        break;
    }
  }
  const scheduled = status.conditions?.find((x) => x.type === 'PodScheduled');
  if (scheduled && scheduled.status === 'False' && scheduled.reason === 'Unschedulable') {
    const problem: PendingProblem = { reason: 'Unschedulable', wait: 'unschedulable', message: scheduled.message?.trim() || 'no node can run the pod' };
    const since = timeOf(scheduled.lastTransitionTime);
    if (since !== undefined) problem.since = since;
    return { state: 'pending', problem };
  }
  return { state: 'pending' };
}

export interface VerdictOptions {
  imagePullTimeoutMs: number;
  unschedulableAfterMs: number;
}

/**
 * The outcome of a pending problem once its wait is over, else `undefined`. `firstSeenAt` is
 * when the driver first saw this problem (for waits the pod does not timestamp).
 */
export function verdictOf(problem: PendingProblem, firstSeenAt: number, now: number, o: VerdictOptions): AttemptOutcome | undefined {
  const outcome: AttemptOutcome = { kind: 'start-failed', reason: problem.reason, message: problem.message };
  switch (problem.wait) {
    case 'none':
      return outcome;
    case 'image-pull':
      return now - firstSeenAt >= o.imagePullTimeoutMs ? outcome : undefined;
    case 'unschedulable': {
      const since = Math.min(problem.since ?? firstSeenAt, firstSeenAt);
      if (now - since < o.unschedulableAfterMs) return undefined;
      return { ...outcome, message: `the pod could not be scheduled for ${Math.round((now - since) / 1000)} s: ${problem.message}` };
    }
  }
}
