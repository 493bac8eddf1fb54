/**
 * The status mapping of the kubernetes driver on real pod status objects: fixtures in
 * test/fixtures/kubernetes, written down from Kubernetes' documented examples (each names its
 * source in `_source`). Times are injected; nothing here reads the wall clock.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { failureReasonOf } from '../../../src/domain/failure-reasons.js';
import { observePod, verdictOf, type PodObservation } from '../../../src/drivers/kubernetes/pod-status.js';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/kubernetes');
const fixture = (name: string): V1Pod => JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as V1Pod;
const opts = { imagePullTimeoutMs: 300_000, unschedulableAfterMs: 60_000 };
const T0 = Date.parse('2024-05-02T10:00:00Z');

function ended(o: PodObservation) {
  if (o.state !== 'ended') throw new Error(`expected ended, got ${JSON.stringify(o)}`);
  return o;
}
function pending(o: PodObservation) {
  if (o.state !== 'pending') throw new Error(`expected pending, got ${JSON.stringify(o)}`);
  return o;
}

describe('kubernetes pod status → attempt outcome (documented pod statuses)', () => {
  it('every fixture names its source', () => {
    for (const f of fs.readdirSync(DIR)) expect((JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as { _source?: string })._source, f).toBeTruthy();
  });

  it('Completed: exit 0 with the container times', () => {
    const o = ended(observePod(fixture('completed')));
    expect(o.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    expect(o.startedAt).toBe(Date.parse('2024-05-02T10:00:03Z'));
    expect(o.finishedAt).toBe(Date.parse('2024-05-02T10:00:13Z'));
    expect(failureReasonOf(o.outcome)).toBeUndefined();
  });

  it('Error exit 1: ContainerExitedCode1', () => {
    const o = ended(observePod(fixture('error-exit-1')));
    expect(o.outcome).toEqual({ kind: 'exited', exitCode: 1, signal: null });
    expect(failureReasonOf(o.outcome)).toBe('ContainerExitedCode1');
  });

  it('exit 143: killed by SIGTERM (ContainerExitedCode143)', () => {
    const o = ended(observePod(fixture('killed-sigterm')));
    expect(o.outcome).toEqual({ kind: 'exited', exitCode: null, signal: 'SIGTERM' });
    expect(failureReasonOf(o.outcome)).toBe('ContainerExitedCode143');
  });

  it('OOMKilled: oom-killed naming the limit', () => {
    const o = ended(observePod(fixture('oomkilled')));
    expect(o.outcome.kind).toBe('oom-killed');
    expect(failureReasonOf(o.outcome)).toBe('OOMKilled');
    expect(JSON.stringify(o.outcome)).toContain('104857600');
  });

  it('ErrImagePull / ImagePullBackOff: ImagePullFailed with the kubelet message, only after the pull timeout', () => {
    for (const name of ['errimagepull', 'imagepullbackoff']) {
      const p = pending(observePod(fixture(name)));
      expect(p.problem).toMatchObject({ reason: 'ImagePullFailed', wait: 'image-pull' });
      expect(verdictOf(p.problem!, T0, T0 + 299_999, opts)).toBeUndefined();
      const v = verdictOf(p.problem!, T0, T0 + 300_000, opts);
      expect(v).toMatchObject({ kind: 'start-failed', reason: 'ImagePullFailed' });
      expect(JSON.stringify(v)).toContain('no-such-image');
    }
    expect(JSON.stringify(pending(observePod(fixture('errimagepull'))).problem)).toContain('pull access denied');
  });

  it('InvalidImageName: ImagePullFailed at once', () => {
    const p = pending(observePod(fixture('invalidimagename')));
    expect(verdictOf(p.problem!, T0, T0, opts)).toMatchObject({ kind: 'start-failed', reason: 'ImagePullFailed' });
  });

  it('CreateContainerError "executable file not found": ExecutableNotFound at once, like the other drivers', () => {
    const p = pending(observePod(fixture('createcontainererror-executable')));
    const v = verdictOf(p.problem!, T0, T0, opts);
    expect(v).toMatchObject({ kind: 'start-failed', reason: 'ExecutableNotFound' });
    expect(JSON.stringify(v)).toContain('cejobs-no-such-program-42');
  });

  it('StartError (containerd, restartPolicy Never) for a missing executable: ExecutableNotFound', () => {
    const o = ended(observePod(fixture('starterror-executable')));
    expect(o.outcome).toMatchObject({ kind: 'start-failed', reason: 'ExecutableNotFound' });
    expect(o.startedAt).toBeUndefined();
  });

  it('CreateContainerConfigError: StartFailed after the bounded wait', () => {
    const p = pending(observePod(fixture('createcontainerconfigerror')));
    expect(p.problem).toMatchObject({ reason: 'StartFailed', wait: 'image-pull' });
    expect(verdictOf(p.problem!, T0, T0 + 1000, opts)).toBeUndefined();
    expect(verdictOf(p.problem!, T0, T0 + 300_000, opts)).toMatchObject({ reason: 'StartFailed' });
  });

  it('Evicted for node pressure: lost (rerun without using a retry)', () => {
    const o = ended(observePod(fixture('evicted')));
    expect(o.outcome.kind).toBe('lost');
    expect(JSON.stringify(o.outcome)).toContain('The node was low on resource: memory');
  });

  it('Evicted for its own ephemeral-storage limit: ExceededEphemeralStorage', () => {
    const o = ended(observePod(fixture('evicted-ephemeral')));
    expect(failureReasonOf(o.outcome)).toBe('ExceededEphemeralStorage');
  });

  it('Unschedulable: the scheduler message after the configured wait, counted from the condition', () => {
    const p = pending(observePod(fixture('unschedulable')));
    expect(p.problem).toMatchObject({ reason: 'Unschedulable', since: T0 });
    // Seen by the driver only later: the wait still counts from the condition's transition.
    expect(verdictOf(p.problem!, T0 + 50_000, T0 + 59_999, opts)).toBeUndefined();
    const v = verdictOf(p.problem!, T0 + 50_000, T0 + 60_000, opts);
    expect(v).toMatchObject({ kind: 'start-failed', reason: 'Unschedulable' });
    expect(JSON.stringify(v)).toContain('Insufficient cpu');
    expect(failureReasonOf(v!)).toBe('Unschedulable');
  });

  it('DeadlineExceeded: killed by SIGKILL', () => {
    expect(ended(observePod(fixture('deadline-exceeded'))).outcome).toEqual({ kind: 'exited', exitCode: null, signal: 'SIGKILL' });
  });

  it('Pending/ContainerCreating: pending without a problem; Running: running since the container start', () => {
    expect(observePod(fixture('container-creating'))).toEqual({ state: 'pending' });
    expect(observePod(fixture('running'))).toEqual({ state: 'running', startedAt: Date.parse('2024-05-02T10:00:03Z') });
  });

  it('reads Date times as the client model delivers them', () => {
    const pod = fixture('running');
    (pod.status!.containerStatuses![0]!.state!.running as { startedAt?: unknown }).startedAt = new Date('2024-05-02T10:00:03Z');
    expect(observePod(pod)).toEqual({ state: 'running', startedAt: Date.parse('2024-05-02T10:00:03Z') });
  });
});
