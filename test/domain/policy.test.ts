import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelayMs } from '../../src/domain/backoff.js';
import type { AttemptOutcome } from '../../src/domain/failure-reasons.js';
import { decideAfterExit, formatDelay, type ExitFacts, type StopReason } from '../../src/domain/policy.js';
import type { RunMode } from '../../src/domain/types.js';

const mid = (): number => 0.5; // no jitter
const exited = (exitCode: number | null, signal: string | null = null): AttemptOutcome => ({ kind: 'exited', exitCode, signal });
const OOM: AttemptOutcome = { kind: 'oom-killed' };
const STORAGE: AttemptOutcome = { kind: 'storage-exceeded' };
const NOT_FOUND: AttemptOutcome = { kind: 'start-failed', reason: 'ExecutableNotFound', message: 'no such file: /bin/nope' };
const PULL: AttemptOutcome = { kind: 'start-failed', reason: 'ImagePullFailed', message: 'manifest unknown' };
const UNSCHEDULABLE: AttemptOutcome = { kind: 'start-failed', reason: 'Unschedulable', message: 'asked for 64 cpu, 8 exist' };

function facts(over: Partial<ExitFacts> = {}): ExitFacts {
  return { mode: 'task', outcome: exited(1), retry: 0, retryLimit: 3, failures: 0, ranForMs: 1000, ...over };
}
const decide = (over: Partial<ExitFacts> = {}, random: () => number = mid) => decideAfterExit(facts(over), DEFAULT_BACKOFF, random);

const MODES: RunMode[] = ['task', 'daemon'];
const OUTCOMES: [string, AttemptOutcome][] = [
  ['exit 0', exited(0)],
  ['exit 1', exited(1)],
  ['SIGKILL', exited(null, 'SIGKILL')],
  ['OOM', OOM],
  ['storage overrun', STORAGE],
  ['executable not found', NOT_FOUND],
  ['unschedulable', UNSCHEDULABLE],
];

describe('decideAfterExit: a stop because the run or job was deleted', () => {
  for (const mode of MODES) {
    it.each(OUTCOMES)(`stops a ${mode} instance whatever the outcome (%s)`, (_w, outcome) => {
      expect(decide({ mode, outcome, stopReason: 'delete' })).toEqual({ action: 'stop' });
    });
  }
  it('stops even when no retries are left or the failure count is high', () => {
    expect(decide({ stopReason: 'delete', retry: 3, retryLimit: 3, failures: 9 })).toEqual({ action: 'stop' });
  });
});

describe('decideAfterExit: a stop because of a restart request', () => {
  for (const mode of MODES) {
    it.each(OUTCOMES)(`restarts a ${mode} instance at once without counting a failure (%s)`, (_w, outcome) => {
      const d = decide({ mode, outcome, stopReason: 'restart', failures: 4 });
      expect(d.action).toBe('restart');
      if (d.action !== 'restart') return;
      expect(d.delayMs).toBe(0);
      expect(d.failures).toBe(4);
      expect(d.reason).toBeUndefined();
      expect(d.message).toMatch(/restarted on request/);
    });
  }
  it('says how the attempt ended in the restart message', () => {
    const d = decide({ stopReason: 'restart', outcome: exited(null, 'SIGTERM') });
    expect(d.action).toBe('restart');
    if (d.action === 'restart') expect(d.message).toContain('was killed by SIGTERM');
  });
  it('does not consult random for a requested restart', () => {
    let calls = 0;
    decideAfterExit(facts({ stopReason: 'restart' }), DEFAULT_BACKOFF, () => (calls++, 0.5));
    expect(calls).toBe(0);
  });
});

describe('decideAfterExit: exit 0', () => {
  it.each(MODES)('succeeds in %s mode', (mode) => {
    expect(decide({ mode, outcome: exited(0) })).toEqual({ action: 'succeed' });
  });
  it('succeeds even with no retries left and failures counted', () => {
    expect(decide({ outcome: exited(0), retry: 3, retryLimit: 3, failures: 5 })).toEqual({ action: 'succeed' });
  });
  it('succeeds when the deadline stop found the instance exiting 0', () => {
    expect(decide({ outcome: exited(0), stopReason: 'deadline' })).toEqual({ action: 'succeed' });
  });
});

describe('decideAfterExit: a stop by the run deadline', () => {
  const failures: [string, AttemptOutcome][] = OUTCOMES.filter(([w]) => w !== 'exit 0');
  it.each(failures)('fails the index with MaxExecutionTimeExceeded and does not retry (%s)', (_w, outcome) => {
    const d = decide({ outcome, stopReason: 'deadline', retry: 0, retryLimit: 5 });
    expect(d.action).toBe('fail');
    if (d.action !== 'fail') return;
    expect(d.reason).toBe('MaxExecutionTimeExceeded');
    expect(d.message).toContain('exceeded its maximum execution time');
  });
  it('names how the attempt ended in the deadline message', () => {
    const d = decide({ outcome: exited(null, 'SIGTERM'), stopReason: 'deadline' });
    expect(d).toMatchObject({ action: 'fail', reason: 'MaxExecutionTimeExceeded' });
    if (d.action === 'fail') {
      expect(d.message).toContain('exceeded its maximum execution time');
      expect(d.message).toContain('was killed by SIGTERM');
    }
  });
});

describe('decideAfterExit: failures that can never work', () => {
  it.each(MODES)('fails an Unschedulable instance in %s mode at once', (mode) => {
    const d = decide({ mode, outcome: UNSCHEDULABLE, retry: 0, retryLimit: 10 });
    expect(d).toMatchObject({ action: 'fail', reason: 'Unschedulable' });
    if (d.action === 'fail') expect(d.message).toContain('failed to start: asked for 64 cpu, 8 exist');
  });
});

describe('decideAfterExit: task failures with retries left', () => {
  const table: [string, AttemptOutcome, string, string][] = [
    ['exit 1', exited(1), 'ContainerExitedCode1', 'exited with code 1'],
    ['exit 42', exited(42), 'ContainerExitedCode42', 'exited with code 42'],
    ['SIGKILL', exited(null, 'SIGKILL'), 'ContainerExitedCode137', 'was killed by SIGKILL'],
    ['SIGTERM', exited(null, 'SIGTERM'), 'ContainerExitedCode143', 'was killed by SIGTERM'],
    ['OOM', OOM, 'OOMKilled', 'was killed for exceeding its memory limit'],
    ['storage overrun', STORAGE, 'ExceededEphemeralStorage', 'was killed for exceeding its ephemeral storage limit'],
    ['executable not found', NOT_FOUND, 'ExecutableNotFound', 'failed to start: no such file: /bin/nope'],
    ['image pull failure', PULL, 'ImagePullFailed', 'failed to start: manifest unknown'],
  ];
  it.each(table)('retries after %s with the matching reason, one more failure and a backoff delay', (_w, outcome, reason, words) => {
    const d = decide({ outcome, retry: 0, retryLimit: 3, failures: 0 });
    expect(d).toMatchObject({ action: 'retry', reason, failures: 1, delayMs: 1000 });
    if (d.action === 'retry') {
      expect(d.message).toContain(words);
      expect(d.message).toContain('retry 1 of 3 in 1.0s');
    }
  });

  const growth: [number, number, number, string][] = [
    // retry (and failures before), failures after, delay, formatted
    [0, 1, 1000, '1.0s'],
    [1, 2, 2000, '2.0s'],
    [2, 3, 4000, '4.0s'],
    [3, 4, 8000, '8.0s'],
    [4, 5, 16_000, '16s'],
    [5, 6, 32_000, '32s'],
    [6, 7, 60_000, '60s'],
    [8, 9, 60_000, '60s'],
  ];
  it.each(growth)('on retry %i counts failure %i and waits %i ms (%s)', (retry, failuresAfter, delay, text) => {
    const d = decide({ outcome: exited(2), retry, retryLimit: 10, failures: retry, ranForMs: 10 });
    expect(d).toMatchObject({ action: 'retry', reason: 'ContainerExitedCode2', failures: failuresAfter, delayMs: delay });
    if (d.action === 'retry') expect(d.message).toContain(`retry ${retry + 1} of 10 in ${text}`);
  });

  it('takes the delay from backoffDelayMs with the injected random (jitter)', () => {
    const d = decide({ retry: 2, retryLimit: 5, failures: 2 }, () => 0);
    expect(d).toMatchObject({ action: 'retry', failures: 3, delayMs: backoffDelayMs(3, DEFAULT_BACKOFF, () => 0) });
    expect(d).toMatchObject({ delayMs: 3200 });
  });

  it('resets the failure count when the failed attempt ran for at least 60 s', () => {
    expect(decide({ retry: 2, retryLimit: 5, failures: 7, ranForMs: 60_000 })).toMatchObject({
      action: 'retry',
      failures: 1,
      delayMs: 1000,
    });
  });

  it('retries on the last allowed retry (retry = limit - 1)', () => {
    expect(decide({ retry: 2, retryLimit: 3, failures: 2 })).toMatchObject({ action: 'retry', message: expect.stringContaining('retry 3 of 3') });
  });
});

describe('decideAfterExit: task failures without retries left', () => {
  it('fails when retry equals the retry limit, saying all N retries were used', () => {
    const d = decide({ outcome: exited(1), retry: 3, retryLimit: 3, failures: 3 });
    expect(d).toMatchObject({ action: 'fail', reason: 'ContainerExitedCode1' });
    if (d.action === 'fail') {
      expect(d.message).toContain('exited with code 1');
      expect(d.message).toContain('all 3 retries used');
    }
  });
  it('fails when the retry is already above the limit (the limit was lowered)', () => {
    expect(decide({ outcome: exited(1), retry: 5, retryLimit: 2 })).toMatchObject({
      action: 'fail',
      message: expect.stringContaining('all 2 retries used'),
    });
  });
  it('fails the first attempt with "no retries allowed" when the retry limit is 0', () => {
    const d = decide({ outcome: exited(1), retry: 0, retryLimit: 0 });
    expect(d).toMatchObject({ action: 'fail', reason: 'ContainerExitedCode1' });
    if (d.action === 'fail') {
      expect(d.message).toContain('exited with code 1');
      expect(d.message).toContain('no retries allowed');
    }
  });
  const kinds: [string, AttemptOutcome, string][] = [
    ['OOM', OOM, 'OOMKilled'],
    ['SIGKILL', exited(null, 'SIGKILL'), 'ContainerExitedCode137'],
    ['executable not found', NOT_FOUND, 'ExecutableNotFound'],
    ['storage overrun', STORAGE, 'ExceededEphemeralStorage'],
  ];
  it.each(kinds)('keeps the reason of the last failure (%s)', (_w, outcome, reason) => {
    expect(decide({ outcome, retry: 1, retryLimit: 1 })).toMatchObject({ action: 'fail', reason });
  });
});

describe('decideAfterExit: daemon failures', () => {
  const table: [string, AttemptOutcome, string][] = [
    ['exit 1', exited(1), 'ContainerExitedCode1'],
    ['SIGKILL', exited(null, 'SIGKILL'), 'ContainerExitedCode137'],
    ['OOM', OOM, 'OOMKilled'],
    ['executable not found', NOT_FOUND, 'ExecutableNotFound'],
    ['storage overrun', STORAGE, 'ExceededEphemeralStorage'],
  ];
  it.each(table)('restarts a daemon after %s with the matching reason and a backoff, never failing', (_w, outcome, reason) => {
    // retryLimit and retry do not matter for daemons
    const d = decide({ mode: 'daemon', outcome, retry: 0, retryLimit: 0, failures: 2 });
    expect(d).toMatchObject({ action: 'restart', reason, failures: 3, delayMs: 4000 });
    if (d.action === 'restart') expect(d.message).toMatch(/; restarting in 4\.0s$/);
  });
  it('keeps restarting a daemon with the delay capped at 60 s after many failures', () => {
    expect(decide({ mode: 'daemon', failures: 50, ranForMs: 5 })).toMatchObject({ action: 'restart', failures: 51, delayMs: 60_000 });
  });
  it('resets a daemon failure streak after 60 s of healthy running', () => {
    expect(decide({ mode: 'daemon', failures: 50, ranForMs: 61_000 })).toMatchObject({ action: 'restart', failures: 1, delayMs: 1000 });
  });
  it('writes the full daemon restart message', () => {
    const d = decide({ mode: 'daemon', outcome: exited(3), failures: 0 });
    expect(d).toMatchObject({ action: 'restart', reason: 'ContainerExitedCode3', failures: 1, delayMs: 1000 });
    if (d.action === 'restart') {
      expect(d.message).toContain('exited with code 3');
      expect(d.message).toContain('restarting in 1.0s');
    }
  });
});

describe('decideAfterExit: precedence of stop reasons', () => {
  const table: [StopReason, string, AttemptOutcome, string][] = [
    ['delete', 'exit 0', exited(0), 'stop'],
    ['restart', 'exit 0', exited(0), 'restart'],
    ['deadline', 'exit 0', exited(0), 'succeed'],
    ['delete', 'Unschedulable', UNSCHEDULABLE, 'stop'],
    ['deadline', 'Unschedulable', UNSCHEDULABLE, 'fail'],
  ];
  it.each(table)('a %s stop of an attempt that ended with %s decides %s', (stopReason, _w, outcome, action) => {
    expect(decide({ stopReason, outcome }).action).toBe(action);
  });
});

describe('formatDelay', () => {
  const table: [number, string][] = [
    [0, '0ms'],
    [999, '999ms'],
    [1000, '1.0s'],
    [1500, '1.5s'],
    [9999, '10.0s'],
    [10_000, '10s'],
    [32_000, '32s'],
    [60_000, '60s'],
  ];
  it.each(table)('prints %i ms as %s', (ms, text) => {
    expect(formatDelay(ms)).toBe(text);
  });
});
