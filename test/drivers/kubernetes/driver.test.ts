/**
 * The kubernetes driver's logic against an in-memory API (`fake-api.ts`): objects created per
 * attempt, status from watch events, logs completed before the exit, idempotent start,
 * recovery by label after a restart, pacing, pending timeouts on an injected clock, stop and
 * release. The real-cluster behaviour is the conformance suite's (kubernetes.conformance.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttemptExit, Driver, InstanceSpec } from '../../../src/drivers/driver.js';
import { createKubernetesDriver } from '../../../src/drivers/kubernetes/driver.js';
import type { KubernetesDriverOptions } from '../../../src/drivers/kubernetes/config.js';
import { podNameOf } from '../../../src/drivers/kubernetes/pod-spec.js';
import { decodeLogText } from '../../../src/logs/format.js';
import { makeTestSpec, waitFor } from '../../conformance/driver-conformance.js';
import { FakeKubeApi, running, terminated, waiting } from './fake-api.js';

const NS = 'cejobs-driver-test';

describe('kubernetes driver logic (in-memory API)', () => {
  let dir: string;
  let api: FakeKubeApi;
  let now: number;
  const drivers: Driver[] = [];
  const clock = {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-k8s-driver-'));
    api = new FakeKubeApi();
    now = Date.parse('2024-05-02T10:00:00Z');
  });
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function driver(options: KubernetesDriverOptions = {}) {
    const d = await createKubernetesDriver({ namespace: 'cejobs-{project}', sweepMs: 5, ...options }, { api, clock });
    drivers.push(d);
    const exits: AttemptExit[] = [];
    d.subscribe((e) => exits.push(e));
    return { d, exits };
  }

  function spec(label: string, extra: Partial<InstanceSpec> = {}): InstanceSpec {
    return makeTestSpec(dir, label, ['/bin/sh', '-c', 'true'], { image: 'busybox', projectId: 'driver-test', containerName: 'job', ...extra });
  }

  const exitOf = (exits: AttemptExit[], id: string) => waitFor(`the exit of ${id}`, () => exits.find((e) => e.attemptId === id));
  const logOf = (s: InstanceSpec) =>
    fs.existsSync(s.logPath) ? decodeLogText(fs.readFileSync(s.logPath, 'utf8')) : [];

  it('runs an attempt: namespace, config objects, pod; live and complete logs before the exit', async () => {
    const { d, exits } = await driver();
    const s = spec('ok', {
      env: { A: 'literal', PASSWORD: 'secret-value' },
      envSources: { PASSWORD: { source: 'secret', name: 'db', key: 'PASSWORD' } },
      configObjects: [{ source: 'secret', name: 'db', data: { PASSWORD: 'secret-value' } }],
    });
    const handle = await d.start(s);
    const pod = podNameOf(s.attemptId);
    expect(handle).toMatchObject({ driver: 'kubernetes', data: { namespace: NS, podName: pod } });
    expect(api.namespaces.has(NS)).toBe(true);
    expect(api.applies).toEqual(['Secret/ce-secret-db']);
    expect(api.created).toEqual([pod]);
    expect(JSON.stringify(api.pods.get(`${NS}/${pod}`))).not.toContain('secret-value');

    api.setStatus(NS, pod, running());
    api.log(NS, pod, '2024-05-02T10:00:04.000000001Z', 'live line');
    await waitFor('the live line', () => logOf(s).some((r) => r.text === 'live line'));
    // A line the follow never saw (it broke): the complete read at the exit adds it.
    api.log(NS, pod, '2024-05-02T10:00:05Z', 'late line', false);
    api.setStatus(NS, pod, terminated(3));
    const exit = await exitOf(exits, s.attemptId);
    expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 3, signal: null });
    expect(exit.startedAt).toBe(Date.parse('2024-05-02T10:00:03Z'));
    expect(exit.finishedAt).toBe(Date.parse('2024-05-02T10:00:09Z'));
    const records = logOf(s).filter((r) => r.stream !== 'system');
    expect(records.map((r) => r.text)).toEqual(['live line', 'late line']);
    expect(records[1]!.time).toBe(Date.parse('2024-05-02T10:00:05Z'));
    // The pod stays until release, which deletes it and the driver's files.
    expect(api.pods.has(`${NS}/${pod}`)).toBe(true);
    await d.release({ attemptId: s.attemptId, handle });
    expect(api.pods.has(`${NS}/${pod}`)).toBe(false);
    expect(fs.readdirSync(s.workDir)).toEqual([]);
    expect(await d.recover({ attemptId: s.attemptId })).toEqual({ state: 'vanished' });
    await d.release({ attemptId: s.attemptId });
  });

  it('start is idempotent, also across a restart: never a second pod', async () => {
    const first = await driver();
    const s = spec('idem');
    const [h1, h2] = await Promise.all([first.d.start(s), first.d.start(s)]);
    expect(h1).toEqual(h2);
    await first.d.close();
    const second = await driver();
    await second.d.start(s);
    expect(api.created).toHaveLength(1);
    expect(await second.d.recover({ attemptId: s.attemptId, handle: h1 })).toEqual({ state: 'running' });
  });

  it('recovers by label after a restart: an exit that happened while nobody listened is delivered, the log completed', async () => {
    const first = await driver();
    const s = spec('gone');
    const handle = await first.d.start(s);
    const pod = podNameOf(s.attemptId);
    api.setStatus(NS, pod, running());
    api.log(NS, pod, '2024-05-02T10:00:04Z', 'before');
    await waitFor('the live line', () => logOf(s).length > 0);
    await first.d.close();
    api.log(NS, pod, '2024-05-02T10:00:05Z', 'while away');
    api.setStatus(NS, pod, terminated(5));
    const second = await driver();
    const r = await second.d.recover({ attemptId: s.attemptId, handle });
    expect(r).toMatchObject({ state: 'exited', exit: { outcome: { kind: 'exited', exitCode: 5, signal: null } } });
    await exitOf(second.exits, s.attemptId);
    expect(logOf(s).filter((x) => x.stream !== 'system').map((x) => x.text)).toEqual(['before', 'while away']);
    // An unknown attempt has vanished.
    expect(await second.d.recover({ attemptId: 'nope.0.0.0' })).toEqual({ state: 'vanished' });
  });

  it('recovers without a handle (engine crashed before recording the start): a cluster-wide lookup by label', async () => {
    const first = await driver();
    const s = spec('nohandle');
    await first.d.start(s);
    api.setStatus(NS, podNameOf(s.attemptId), running());
    await first.d.close();
    const second = await driver();
    expect(await second.d.recover({ attemptId: s.attemptId })).toEqual({ state: 'running' });
    // Starting it again adopts the same pod.
    await second.d.start(s);
    expect(api.created).toHaveLength(1);
    api.setStatus(NS, podNameOf(s.attemptId), terminated(0));
    await exitOf(second.exits, s.attemptId);
  });

  it('an image that cannot be pulled fails ImagePullFailed with the kubelet message, after the pull timeout', async () => {
    const { d, exits } = await driver({ imagePullTimeoutMs: 60_000 });
    const s = spec('pull');
    await d.start(s);
    const pod = podNameOf(s.attemptId);
    api.setStatus(NS, pod, waiting('ErrImagePull', 'pull access denied for no-such-image'));
    api.setStatus(NS, pod, waiting('ImagePullBackOff', 'Back-off pulling image "no-such-image"'));
    now += 59_000;
    await new Promise((r) => setTimeout(r, 30)); // several sweeps: still inside the timeout
    expect(exits).toEqual([]);
    now += 1_000;
    const exit = await exitOf(exits, s.attemptId);
    expect(exit.outcome).toMatchObject({ kind: 'start-failed', reason: 'ImagePullFailed' });
    expect(JSON.stringify(exit.outcome)).toContain('Back-off pulling image');
    await waitFor('the pod deleted', () => api.deleted.some((x) => x.name === pod));
  });

  it('a missing executable fails ExecutableNotFound at once', async () => {
    const { d, exits } = await driver();
    const s = spec('missing');
    await d.start(s);
    api.setStatus(NS, podNameOf(s.attemptId), waiting('CreateContainerError', 'exec: "nope": executable file not found in $PATH'));
    expect((await exitOf(exits, s.attemptId)).outcome).toMatchObject({ kind: 'start-failed', reason: 'ExecutableNotFound' });
  });

  it('stop deletes the pod with the grace period; the final status is the exit', async () => {
    api.gracefulDelete = true;
    const { d, exits } = await driver();
    const s = spec('stop');
    await d.start(s);
    const pod = podNameOf(s.attemptId);
    api.setStatus(NS, pod, running());
    await d.stop({ attemptId: s.attemptId }, { graceMs: 7_500 });
    await waitFor('the delete', () => api.deleted.length > 0);
    expect(api.deleted).toEqual([{ name: pod, grace: 8 }]);
    api.setStatus(NS, pod, terminated(143));
    api.remove(NS, pod);
    expect((await exitOf(exits, s.attemptId)).outcome).toEqual({ kind: 'exited', exitCode: null, signal: 'SIGTERM' });
  });

  it('a pod deleted by someone else (not stopped by cejobs) is lost: rerun without using a retry', async () => {
    const { d, exits } = await driver();
    const s = spec('lost');
    await d.start(s);
    api.setStatus(NS, podNameOf(s.attemptId), running());
    await api.deletePod(NS, podNameOf(s.attemptId));
    expect((await exitOf(exits, s.attemptId)).outcome.kind).toBe('lost');
  });

  it('paces creations: at most maxInFlightPerProject pods not yet running per project', async () => {
    const { d } = await driver({ maxInFlightPerProject: 2 });
    const specs = [1, 2, 3, 4].map((i) => spec(`p${i}`));
    const other = spec('other', { projectId: 'other-project' });
    const starts = specs.map((s) => d.start(s));
    const otherStart = d.start(other);
    await waitFor('two pods and the other project', () => api.created.length === 3);
    await otherStart;
    expect(api.created).toContain(podNameOf(other.attemptId));
    api.setStatus(NS, podNameOf(specs[0]!.attemptId), running());
    await waitFor('a third pod of the project', () => api.created.length === 4);
    api.setStatus(NS, podNameOf(specs[1]!.attemptId), terminated(0));
    await Promise.all(starts);
    expect(api.created).toHaveLength(5);
  });

  it('caps live log follows: beyond the cap the log arrives complete at the exit', async () => {
    const { d, exits } = await driver({ maxLogFollows: 1 });
    const [a, b] = [spec('fa'), spec('fb')];
    await d.start(a);
    await d.start(b);
    for (const s of [a, b]) api.setStatus(NS, podNameOf(s.attemptId), running());
    for (const s of [a, b]) api.log(NS, podNameOf(s.attemptId), '2024-05-02T10:00:04Z', `line of ${s.runName}`);
    await waitFor('the followed line', () => logOf(a).length === 1);
    expect(logOf(b)).toEqual([]);
    api.setStatus(NS, podNameOf(b.attemptId), terminated(0));
    await exitOf(exits, b.attemptId);
    expect(logOf(b).map((r) => r.text)).toEqual(['line of fb']);
  });

  it('a 1,000-index run: one list and one watch, one create per pod, config written once, no per-pod reads, at most the cap pending', async () => {
    const calls: Record<string, number> = {};
    const counted = new Proxy(api, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const d = await createKubernetesDriver({ namespace: 'jobs', sweepMs: 5, maxInFlightPerProject: 100, qps: 1e6, burst: 1e6 }, { api: counted, clock });
    drivers.push(d);
    const secret = { envSources: { P: { source: 'secret' as const, name: 'db', key: 'P' } }, env: { P: 'x' }, configObjects: [{ source: 'secret' as const, name: 'db', data: { P: 'x' } }] };
    const specs = Array.from({ length: 1000 }, (_, i) => spec(`big${i}`, secret));
    const starts = specs.map((s) => d.start(s));
    let maxPending = 0;
    let started = 0;
    while (started < 1000) {
      await new Promise((r) => setImmediate(r));
      const pending = [...api.pods.values()].filter((p) => p.status?.phase === 'Pending');
      maxPending = Math.max(maxPending, pending.length);
      for (const p of pending) {
        api.setStatus('jobs', p.metadata!.name!, running());
        started++;
      }
    }
    await Promise.all(starts);
    expect(maxPending).toBeLessThanOrEqual(100);
    // Live follows stop at their cap (256 by default); the rest get their log at the exit.
    expect(calls).toEqual({ serverVersion: 1, listPods: 1, watchPods: 1, applySecret: 1, createPod: 1000, followLog: 256 });
  });

  it('an unschedulable pod fails Unschedulable with the scheduler message after the configured wait', async () => {
    const { d, exits } = await driver({ unschedulableAfterMs: 30_000 });
    const s = spec('big');
    await d.start(s);
    api.setStatus(NS, podNameOf(s.attemptId), {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.', lastTransitionTime: new Date(now).toISOString() as unknown as Date }],
    });
    now += 30_000;
    const exit = await exitOf(exits, s.attemptId);
    expect(exit.outcome).toMatchObject({ kind: 'start-failed', reason: 'Unschedulable' });
    expect(JSON.stringify(exit.outcome)).toContain('Insufficient memory');
  });

  it('an attempt without an image fails StartFailed; a fixed namespace is watched from the start', async () => {
    const { d, exits } = await driver({ namespace: 'jobs' });
    const s = spec('noimage');
    delete s.image;
    await d.start(s);
    expect((await exitOf(exits, s.attemptId)).outcome).toMatchObject({ kind: 'start-failed', reason: 'StartFailed' });
    expect(api.namespaces.size).toBe(0);
    expect(d.capabilities).toMatchObject({ capacity: null, runsImages: true, requiresCommand: false });
  });
});
