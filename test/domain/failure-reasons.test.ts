import { describe, expect, it } from 'vitest';
import {
  describeOutcome,
  effectiveExitCode,
  failureReasonOf,
  isRetryable,
  isSuccess,
  type AttemptOutcome,
  type FailureReason,
} from '../../src/domain/failure-reasons.js';

const exited = (exitCode: number | null, signal: string | null = null): AttemptOutcome => ({ kind: 'exited', exitCode, signal });

describe('effectiveExitCode, failureReasonOf, describeOutcome and isSuccess per outcome', () => {
  const table: [string, AttemptOutcome, number | null, FailureReason | undefined, string, boolean][] = [
    // what, outcome, effective exit code, reason, description, success
    ['exit 0', exited(0), 0, undefined, 'exited with code 0', true],
    ['exit 1', exited(1), 1, 'ContainerExitedCode1', 'exited with code 1', false],
    ['exit 2', exited(2), 2, 'ContainerExitedCode2', 'exited with code 2', false],
    ['exit 127', exited(127), 127, 'ContainerExitedCode127', 'exited with code 127', false],
    ['exit 255', exited(255), 255, 'ContainerExitedCode255', 'exited with code 255', false],
    ['killed by SIGKILL', exited(null, 'SIGKILL'), 137, 'ContainerExitedCode137', 'was killed by SIGKILL', false],
    ['killed by SIGTERM', exited(null, 'SIGTERM'), 143, 'ContainerExitedCode143', 'was killed by SIGTERM', false],
    ['killed by SIGINT', exited(null, 'SIGINT'), 130, 'ContainerExitedCode130', 'was killed by SIGINT', false],
    ['killed by SIGSEGV', exited(null, 'SIGSEGV'), 139, 'ContainerExitedCode139', 'was killed by SIGSEGV', false],
    ['killed by SIGABRT', exited(null, 'SIGABRT'), 134, 'ContainerExitedCode134', 'was killed by SIGABRT', false],
    ['killed by SIGHUP', exited(null, 'SIGHUP'), 129, 'ContainerExitedCode129', 'was killed by SIGHUP', false],
    ['an exit code wins over a signal', exited(3, 'SIGKILL'), 3, 'ContainerExitedCode3', 'exited with code 3', false],
    ['exit 0 with a signal still succeeds', exited(0, 'SIGTERM'), 0, undefined, 'exited with code 0', true],
    ['neither code nor signal', exited(null, null), null, 'StartFailed', 'ended', false],
    ['OOM kill', { kind: 'oom-killed' }, 137, 'OOMKilled', 'was killed for exceeding its memory limit', false],
    ['OOM kill with a message', { kind: 'oom-killed', message: 'used 600M of 512M' }, 137, 'OOMKilled', 'used 600M of 512M', false],
    [
      'storage overrun',
      { kind: 'storage-exceeded' },
      137,
      'ExceededEphemeralStorage',
      'was killed for exceeding its ephemeral storage limit',
      false,
    ],
    ['storage overrun with a message', { kind: 'storage-exceeded', message: 'wrote 2G' }, 137, 'ExceededEphemeralStorage', 'wrote 2G', false],
    [
      'executable not found',
      { kind: 'start-failed', reason: 'ExecutableNotFound', message: 'no such file: /bin/nope' },
      127,
      'ExecutableNotFound',
      'failed to start: no such file: /bin/nope',
      false,
    ],
    [
      'image pull failure',
      { kind: 'start-failed', reason: 'ImagePullFailed', message: 'manifest unknown' },
      null,
      'ImagePullFailed',
      'failed to start: manifest unknown',
      false,
    ],
    [
      'unschedulable',
      { kind: 'start-failed', reason: 'Unschedulable', message: 'asked for 64 cpu, 8 exist' },
      null,
      'Unschedulable',
      'failed to start: asked for 64 cpu, 8 exist',
      false,
    ],
    [
      'other start failure',
      { kind: 'start-failed', reason: 'StartFailed', message: 'permission denied' },
      null,
      'StartFailed',
      'failed to start: permission denied',
      false,
    ],
  ];

  it.each(table)('for %s gives the exit code, reason, words and success flag a container runtime would', (_w, outcome, code, reason, words, success) => {
    expect(effectiveExitCode(outcome)).toBe(code);
    expect(failureReasonOf(outcome)).toBe(reason);
    expect(describeOutcome(outcome)).toBe(words);
    expect(isSuccess(outcome)).toBe(success);
  });

  it('reports 128 + N for every signal it knows by number', () => {
    const known: [string, number][] = [
      ['SIGHUP', 1], ['SIGINT', 2], ['SIGQUIT', 3], ['SIGILL', 4], ['SIGTRAP', 5], ['SIGABRT', 6], ['SIGBUS', 7],
      ['SIGFPE', 8], ['SIGKILL', 9], ['SIGUSR1', 10], ['SIGSEGV', 11], ['SIGUSR2', 12], ['SIGPIPE', 13],
      ['SIGALRM', 14], ['SIGTERM', 15],
    ];
    for (const [sig, n] of known) expect(effectiveExitCode(exited(null, sig)), sig).toBe(128 + n);
  });

  it('names the failure of a non-zero exit after its code for a range of codes', () => {
    for (const code of [1, 7, 42, 100, 126, 128, 200, 254]) {
      expect(failureReasonOf(exited(code))).toBe(`ContainerExitedCode${code}`);
    }
  });
});

describe('isRetryable', () => {
  const table: [FailureReason, boolean][] = [
    ['ContainerExitedCode1', true],
    ['ContainerExitedCode137', true],
    ['OOMKilled', true],
    ['ExceededEphemeralStorage', true],
    ['ExecutableNotFound', true],
    ['ImagePullFailed', true],
    ['StartFailed', true],
    ['MaxExecutionTimeExceeded', false],
    ['Unschedulable', false],
  ];
  it.each(table)('says %s is retryable=%s', (reason, retryable) => {
    expect(isRetryable(reason)).toBe(retryable);
  });
});
