/**
 * Failure reasons (`last_failure_reason`, events, CLI), as Code Engine names them
 * (reference §3.3), and the pure mapping from how an attempt ended to its reason.
 *
 * | reason                      | when                                                    | retried (task) |
 * |-----------------------------|---------------------------------------------------------|----------------|
 * | `ContainerExitedCode<N>`    | the workload exited with N ≠ 0 (killed by signal S: 128+S) | yes          |
 * | `OOMKilled`                 | the memory limit was exceeded                           | yes            |
 * | `ExceededEphemeralStorage`  | the scratch space outgrew its limit                     | yes            |
 * | `ExecutableNotFound`        | the command / entrypoint does not exist                 | yes            |
 * | `ImagePullFailed`           | the image could not be pulled                           | yes            |
 * | `StartFailed`               | any other failure to start (with a message)             | yes            |
 * | `MaxExecutionTimeExceeded`  | the run's deadline fired while the index was unfinished | no             |
 * | `Unschedulable`             | the instance can never fit the capacity                 | no             |
 * | `InstanceLost`              | (event only) the attempt vanished; rerun, no retry used | —              |
 */

export type FixedFailureReason =
  | 'OOMKilled'
  | 'ExceededEphemeralStorage'
  | 'ExecutableNotFound'
  | 'ImagePullFailed'
  | 'StartFailed'
  | 'MaxExecutionTimeExceeded'
  | 'Unschedulable';

/** `ContainerExitedCode<N>` or one of the fixed reasons. */
export type FailureReason = FixedFailureReason | `ContainerExitedCode${number}`;

/**
 * How an attempt ended, as a driver observed it. Drivers report facts; the domain names them.
 * - `exited`: the main process ended with a code, or was killed by a signal.
 * - `oom-killed`: killed for exceeding its memory limit.
 * - `storage-exceeded`: killed for exceeding its ephemeral storage limit.
 * - `start-failed`: it never ran; `reason` says why (`ExecutableNotFound`, `ImagePullFailed`,
 *   `Unschedulable`, `StartFailed`) and `message` says it for a person.
 * - `lost`: it ended but how is unknown (e.g. the process driver's launcher was restarted while
 *   it ran). Not the workload's fault: the engine reruns it without using a retry.
 */
export type AttemptOutcome =
  | { kind: 'exited'; exitCode: number | null; signal: string | null }
  | { kind: 'oom-killed'; message?: string }
  | { kind: 'storage-exceeded'; message?: string }
  | {
      kind: 'start-failed';
      reason: 'ExecutableNotFound' | 'ImagePullFailed' | 'Unschedulable' | 'StartFailed';
      message: string;
    }
  | { kind: 'lost'; message: string };

/** Linux signal numbers (x86-64/arm64), for the 128 + N exit code of a killed process. */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
};

/** The exit code a container runtime reports: the code, or 128 + the signal's number. */
export function effectiveExitCode(outcome: AttemptOutcome): number | null {
  switch (outcome.kind) {
    case 'exited':
      if (outcome.exitCode !== null) return outcome.exitCode;
      if (outcome.signal !== null) return 128 + (SIGNAL_NUMBERS[outcome.signal] ?? 0);
      return null;
    case 'oom-killed':
      return 137;
    case 'storage-exceeded':
      return 137;
    case 'start-failed':
      return outcome.reason === 'ExecutableNotFound' ? 127 : null;
    case 'lost':
      return null;
  }
}

/** True when the attempt ended the way a task index wants: exit code 0. */
export function isSuccess(outcome: AttemptOutcome): boolean {
  return outcome.kind === 'exited' && outcome.exitCode === 0;
}

/** The failure reason of an attempt that did not succeed; `undefined` for a success. */
export function failureReasonOf(outcome: AttemptOutcome): FailureReason | undefined {
  switch (outcome.kind) {
    case 'exited': {
      if (outcome.exitCode === 0) return undefined;
      const code = effectiveExitCode(outcome);
      return code === null ? 'StartFailed' : `ContainerExitedCode${code}`;
    }
    case 'oom-killed':
      return 'OOMKilled';
    case 'storage-exceeded':
      return 'ExceededEphemeralStorage';
    case 'start-failed':
      return outcome.reason;
    case 'lost':
      return undefined;
  }
}

/** A sentence for events and the CLI: what happened, in words. */
export function describeOutcome(outcome: AttemptOutcome): string {
  switch (outcome.kind) {
    case 'exited':
      if (outcome.exitCode !== null) return `exited with code ${outcome.exitCode}`;
      if (outcome.signal !== null) return `was killed by ${outcome.signal}`;
      return 'ended';
    case 'oom-killed':
      return outcome.message ?? 'was killed for exceeding its memory limit';
    case 'storage-exceeded':
      return outcome.message ?? 'was killed for exceeding its ephemeral storage limit';
    case 'start-failed':
      return `failed to start: ${outcome.message}`;
    case 'lost':
      return `was lost: ${outcome.message}`;
  }
}

/** Reasons that end an index for good in task mode, whatever retries are left. */
export function isRetryable(reason: FailureReason): boolean {
  return reason !== 'MaxExecutionTimeExceeded' && reason !== 'Unschedulable';
}
