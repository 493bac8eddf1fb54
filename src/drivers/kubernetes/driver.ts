/**
 * The `kubernetes` driver: every attempt is one Pod (docs/kubernetes.md).
 *
 * - Identity: pod `ce-<attemptId>` in the project's namespace (`config.ts`), labelled with
 *   project, run, index, retry, attempt id and owner (`pod-spec.ts`); creating an existing
 *   name (409) adopts that pod, so an attempt never runs twice.
 * - Status: one list + watch per namespace (`watch.ts`), mapped by `pod-status.ts`; pending
 *   problems (image pulls, scheduling) are judged by an in-memory sweep, not by polling.
 * - Pace: creations go through `pacer.ts` (QPS for all, pods in flight per project).
 * - Output: followed live and completed from the pod log API before the exit is reported
 *   (`logs.ts`); the pod is deleted only at `release`.
 * - Durable record: the pod itself until `release`, plus `<workDir>/k8s-exit-<attemptId>.json`
 *   (the `AttemptExit`, written before delivery) for an attempt whose pod is gone.
 * - Stop: the pod is deleted with the grace period; the kubelet sends SIGTERM, then SIGKILL.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { AttemptOutcome } from '../../domain/failure-reasons.js';
import type {
  AttemptExit,
  AttemptHandle,
  AttemptRef,
  ConfigObjectRef,
  Driver,
  DriverCapabilities,
  ExitListener,
  InstanceSpec,
  RecoveredAttempt,
} from '../driver.js';
import { ExitListeners, heldExits } from '../exit-listeners.js';
import { InFlightStarts } from '../in-flight-starts.js';
import { createKubeApi, errorMessage, statusOf, type KubeApi } from './api.js';
import { resolveOptions, type KubernetesDriverOptions, type ResolvedOptions } from './config.js';
import { loadKubeConfig } from './kubeconfig.js';
import { lineCountFileOf, PodLog, readLineCount } from './logs.js';
import { Pacer, type PacerClock } from './pacer.js';
import {
  ANNOTATION,
  configObjectsOf,
  LABEL,
  labelValueOf,
  containerNameOf,
  mirrorNameOf,
  mirrorScopeOf,
  namespaceOf,
  ownerSelector,
  podNameOf,
  podOf,
  pullSecretNameOf,
  pullSecretOf,
} from './pod-spec.js';
import { observePod, verdictOf, type PendingProblem, type PodObservation } from './pod-status.js';
import { PodWatch } from './watch.js';

export { optionsFromEnv, type KubernetesDriverOptions } from './config.js';

export const KUBERNETES_HANDLE_VERSION = 1;

interface HandleData {
  namespace: string;
  podName: string;
  containerName: string;
  workDir: string;
  logPath: string;
}

function makeHandle(d: HandleData): AttemptHandle {
  return { driver: 'kubernetes', version: KUBERNETES_HANDLE_VERSION, data: { ...d } };
}

function parseHandle(h: AttemptHandle | undefined): HandleData | undefined {
  if (!h || h.driver !== 'kubernetes' || h.version !== KUBERNETES_HANDLE_VERSION) return undefined;
  const d = h.data;
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const namespace = s('namespace');
  const podName = s('podName');
  if (!namespace || !podName) return undefined;
  return { namespace, podName, containerName: s('containerName') ?? '', workDir: s('workDir') ?? '', logPath: s('logPath') ?? '' };
}

type Phase = 'queued' | 'pending' | 'running' | 'exited';

interface Attempt {
  attemptId: string;
  projectId: string;
  data: HandleData;
  phase: Phase;
  /** Settles once the pod was created (or the attempt failed to start). */
  started: Promise<void>;
  releaseSlot?: () => void;
  problem?: { key: string; firstSeenAt: number; problem: PendingProblem };
  startedAt?: number;
  log?: PodLog;
  follow?: { abort: () => void; ended: Promise<void> };
  stopRequested: boolean;
  finishing?: Promise<void>;
  exit?: AttemptExit;
  delivered: boolean;
}

const exitFileOf = (workDir: string, attemptId: string) => path.join(workDir, `k8s-exit-${attemptId}.json`);

function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value));
  fs.renameSync(tmp, file);
}

function readExit(workDir: string, attemptId: string): AttemptExit | undefined {
  if (!workDir) return undefined;
  try {
    const e = JSON.parse(fs.readFileSync(exitFileOf(workDir, attemptId), 'utf8')) as AttemptExit;
    return e.attemptId === attemptId ? e : undefined;
  } catch {
    return undefined;
  }
}

export interface KubernetesDriverDeps {
  /** The API facade (tests); default: built from the kubeconfig. */
  api?: KubeApi;
  clock?: PacerClock;
}

export async function createKubernetesDriver(options: KubernetesDriverOptions = {}, deps: KubernetesDriverDeps = {}): Promise<Driver> {
  let api = deps.api;
  if (!api) {
    api = createKubeApi(loadKubeConfig(options));
  }
  const driver = new KubernetesDriver(api, resolveOptions(options), deps.clock);
  await driver.init();
  return driver;
}

export class KubernetesDriver implements Driver {
  readonly name = 'kubernetes';
  readonly capabilities: DriverCapabilities = {
    limits: {
      cpu: { enforced: true, how: 'pod resources (requests = limits)' },
      memory: { enforced: true, how: 'pod resources (requests = limits)' },
      ephemeralStorage: { enforced: true, how: 'pod resources (kubelet eviction)' },
    },
    capacity: null,
    mounts: { enforced: true, how: 'ConfigMap and Secret volumes' },
    requiresCommand: false,
    runsImages: true,
  };
  private readonly attempts = new Map<string, Attempt>();
  private readonly starting = new InFlightStarts();
  private readonly listeners = new ExitListeners();
  private readonly watches = new Map<string, Promise<PodWatch>>();
  /** Last pod object seen per namespace/name (the watch's cache). */
  private readonly pods = new Map<string, V1Pod>();
  private readonly namespacesReady = new Map<string, Promise<void>>();
  /** Pods (namespace/name) released and deleted, until the watch reports them gone. */
  private readonly released = new Set<string>();
  /** The last write of every config object (its data hash), by namespace/kind/name. */
  private readonly applied = new Map<string, { hash: string; done: Promise<void> }>();
  private readonly pacer: Pacer;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly selector: string;
  /** Live log follows open now (capped by `maxLogFollows`). */
  private follows = 0;
  private closed = false;

  constructor(
    private readonly api: KubeApi,
    private readonly o: ResolvedOptions,
    private readonly clock: PacerClock = { now: () => Date.now(), setTimer: (fn, ms) => { const t = setTimeout(fn, ms); t.unref?.(); return () => clearTimeout(t); } },
  ) {
    this.selector = ownerSelector(o.owner);
    this.pacer = new Pacer({ qps: o.qps, burst: o.burst, maxInFlightPerProject: o.maxInFlightPerProject }, clock);
    this.sweepTimer = setInterval(() => this.sweep(), o.sweepMs);
    this.sweepTimer.unref?.();
  }

  /**
   * Checks that the API server answers and watches the fixed namespace. With a namespace per
   * project, a namespace is watched from its project's first start or recovery.
   */
  async init(): Promise<void> {
    try {
      await this.api.serverVersion();
    } catch (e) {
      throw new Error(`the kubernetes driver cannot reach the API server: ${errorMessage(e)}`);
    }
    if (!this.o.namespace.includes('{project}')) await this.watchOf(this.o.namespace);
  }

  private key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  /** The watch of `namespace`, started (and listed once) on first use. */
  private watchOf(namespace: string): Promise<PodWatch> {
    let w = this.watches.get(namespace);
    if (!w) {
      const watch = new PodWatch(this.api, namespace, this.selector, {
        onSync: (pods) => this.onSync(namespace, pods),
        onPod: (type, pod) => this.onPod(namespace, type, pod),
      });
      w = watch.start().then(
        () => watch,
        (e) => {
          watch.close();
          this.watches.delete(namespace);
          throw e;
        },
      );
      this.watches.set(namespace, w);
    }
    return w;
  }

  private ensureNamespace(namespace: string): Promise<void> {
    if (!this.o.createNamespaces) return Promise.resolve();
    let p = this.namespacesReady.get(namespace);
    if (!p) {
      p = this.api.ensureNamespace(namespace);
      p.catch(() => this.namespacesReady.delete(namespace));
      this.namespacesReady.set(namespace, p);
    }
    return p;
  }

  // ─── start ────────────────────────────────────────────────────────────────────────────

  async start(spec: InstanceSpec): Promise<AttemptHandle> {
    this.assertOpen();
    return this.starting.run(spec.attemptId, () => this.startOnce(spec));
  }

  private async startOnce(spec: InstanceSpec): Promise<AttemptHandle> {
    const known = this.attempts.get(spec.attemptId);
    if (known) {
      await known.started;
      return makeHandle(known.data);
    }
    const namespace = namespaceOf(this.o.namespace, spec.projectId);
    const data: HandleData = {
      namespace,
      podName: podNameOf(spec.attemptId),
      containerName: containerNameOf(spec),
      workDir: spec.workDir,
      logPath: spec.logPath,
    };
    // An exit record or a pod from before a restart: the existing attempt, never a new one.
    const found = await this.find({ attemptId: spec.attemptId, handle: makeHandle(data) });
    if (found) {
      await found.started;
      return makeHandle(found.data);
    }
    let markStarted!: () => void;
    const a: Attempt = {
      attemptId: spec.attemptId,
      projectId: spec.projectId,
      data,
      phase: 'queued',
      started: new Promise<void>((r) => (markStarted = r)),
      stopRequested: false,
      delivered: false,
    };
    this.attempts.set(spec.attemptId, a);
    try {
      await this.launch(spec, a);
    } catch (e) {
      // The cluster is unusable: forget the attempt so a later start can try again.
      if (a.phase === 'queued' || a.phase === 'pending') {
        a.releaseSlot?.();
        a.log?.close();
        if (!a.exit) this.attempts.delete(spec.attemptId);
      }
      throw e;
    } finally {
      markStarted();
    }
    return makeHandle(a.data);
  }

  private async launch(spec: InstanceSpec, a: Attempt): Promise<void> {
    fs.mkdirSync(spec.workDir, { recursive: true });
    a.log = new PodLog(spec.logPath, spec.workDir, spec.attemptId, 0, spec.logMaxBytes);
    if (!spec.image) {
      this.failStart(a, { kind: 'start-failed', reason: 'StartFailed', message: 'no image to run: the kubernetes driver needs image_reference' });
      return;
    }
    const { namespace } = a.data;
    await this.ensureNamespace(namespace);
    await this.watchOf(namespace);
    a.releaseSlot = await this.pacer.acquire(spec.projectId);
    if (a.stopRequested) {
      a.releaseSlot();
      this.failStart(a, { kind: 'exited', exitCode: null, signal: 'SIGTERM' }, 'stopped before its pod was created');
      return;
    }
    const shared = this.sharedNamespace();
    for (const obj of [...configObjectsOf(spec, namespace, shared), pullSecretOf(spec, namespace, shared)]) {
      if (!obj) continue;
      const id = `${namespace}/${obj.kind}/${obj.metadata!.name!}`;
      const h = obj.metadata!.annotations![ANNOTATION.dataHash]!;
      // One write per content, shared by concurrent starts; a failed write is tried again.
      const known = this.applied.get(id);
      if (known?.hash === h) {
        await known.done;
        continue;
      }
      const done = obj.kind === 'ConfigMap' ? this.api.applyConfigMap(obj) : this.api.applySecret(obj);
      const entry = { hash: h, done };
      this.applied.set(id, entry);
      done.catch(() => {
        if (this.applied.get(id) === entry) this.applied.delete(id);
      });
      await done;
    }
    const pod = podOf(spec, { namespace, owner: this.o.owner, shared, ...(this.o.serviceAccountName ? { serviceAccountName: this.o.serviceAccountName } : {}) });
    a.phase = 'pending';
    try {
      const created = await this.api.createPod(pod);
      this.onPodObject(a, created);
    } catch (e) {
      const status = statusOf(e);
      if (status === undefined || status >= 500 || status === 401 || status === 403 || status === 429) throw e;
      if (status === 409) {
        // Another driver of this owner created it meanwhile: that pod is the attempt.
        const existing = await this.api.readPod(namespace, a.data.podName);
        if (existing) this.onPodObject(a, existing);
        return;
      }
      a.releaseSlot?.();
      this.failStart(a, { kind: 'start-failed', reason: 'StartFailed', message: `cannot create the pod: ${errorMessage(e)}` });
    }
  }

  private failStart(a: Attempt, outcome: AttemptOutcome, note?: string): void {
    if (outcome.kind === 'start-failed') a.log?.note(`failed to start: ${outcome.message}`);
    else if (note) a.log?.note(note);
    a.log?.close();
    this.recordExit(a, { attemptId: a.attemptId, outcome, finishedAt: this.clock.now() });
  }

  // ─── status ───────────────────────────────────────────────────────────────────────────

  private attemptOfPod(pod: V1Pod): Attempt | undefined {
    const id = pod.metadata?.annotations?.[ANNOTATION.attemptId];
    return id ? this.attempts.get(id) : undefined;
  }

  private onSync(namespace: string, pods: V1Pod[]): void {
    const present = new Set<string>();
    for (const k of [...this.released]) {
      if (k.startsWith(`${namespace}/`) && !pods.some((p) => this.key(namespace, p.metadata?.name ?? '') === k)) this.released.delete(k);
    }
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      if (this.released.has(this.key(namespace, name))) continue;
      present.add(name);
      this.pods.set(this.key(namespace, name), pod);
      const a = this.attemptOfPod(pod);
      if (a) this.onPodObject(a, pod);
    }
    for (const [k] of this.pods) {
      if (k.startsWith(`${namespace}/`) && !present.has(k.slice(namespace.length + 1))) this.pods.delete(k);
    }
    // Attempts whose pod vanished while no watch ran. The list may predate a pod created while
    // it was in flight, so an absence is confirmed with a read before the attempt is given up.
    for (const a of this.attempts.values()) {
      if (a.data.namespace === namespace && (a.phase === 'pending' || a.phase === 'running') && !present.has(a.data.podName)) {
        this.api.readPod(namespace, a.data.podName).then(
          (pod) => (pod ? this.onPodObject(a, pod) : this.onPodGone(a, undefined)),
          () => {
            // the next event or re-list decides
          },
        );
      }
    }
  }

  private onPod(namespace: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod): void {
    const k = this.key(namespace, pod.metadata?.name ?? '');
    if (this.released.has(k)) {
      if (type === 'DELETED') this.released.delete(k);
      return;
    }
    if (type === 'DELETED') this.pods.delete(k);
    else this.pods.set(k, pod);
    const a = this.attemptOfPod(pod);
    if (!a) return;
    if (type === 'DELETED') this.onPodGone(a, pod);
    else this.onPodObject(a, pod);
  }

  private onPodGone(a: Attempt, last: V1Pod | undefined): void {
    if (a.phase === 'exited' || a.finishing || a.phase === 'queued') return;
    const seen = last ? observePod(last) : undefined;
    if (seen?.state === 'ended') return void this.finish(a, seen);
    // Every deleted pod carries a deletionTimestamp: only our own stop makes it a kill.
    const outcome: AttemptOutcome = a.stopRequested
      ? { kind: 'exited', exitCode: null, signal: 'SIGKILL' }
      : { kind: 'lost', message: 'its pod was deleted before it ended' };
    void this.finish(a, { state: 'ended', outcome });
  }

  /** Applies one observed pod object to its attempt. */
  private onPodObject(a: Attempt, pod: V1Pod): void {
    if (a.phase === 'exited' || a.finishing) return;
    this.pods.set(this.key(a.data.namespace, a.data.podName), pod);
    const seen = observePod(pod);
    if (seen.state === 'ended') {
      a.releaseSlot?.();
      void this.finish(a, seen);
      return;
    }
    if (seen.state === 'running') {
      a.releaseSlot?.();
      a.problem = undefined;
      if (seen.startedAt !== undefined) a.startedAt = seen.startedAt;
      if (a.phase !== 'running') {
        a.phase = 'running';
        this.followLog(a);
      }
      return;
    }
    if (a.phase === 'queued') a.phase = 'pending';
    if (!seen.problem) {
      a.problem = undefined;
      return;
    }
    const key = `${seen.problem.reason}:${seen.problem.wait}`;
    if (a.problem?.key !== key) a.problem = { key, firstSeenAt: this.clock.now(), problem: seen.problem };
    else a.problem.problem = seen.problem;
    this.judge(a);
  }

  /** Fails a pending attempt whose problem has waited long enough, then deletes its pod. */
  private judge(a: Attempt): void {
    if (!a.problem || a.phase !== 'pending' || a.finishing) return;
    const outcome = verdictOf(a.problem.problem, a.problem.firstSeenAt, this.clock.now(), this.o);
    if (!outcome) return;
    a.releaseSlot?.();
    void this.finish(a, { state: 'ended', outcome }).then(() => {
      // It will never run: free the node's reservation now rather than at release.
      this.api.deletePod(a.data.namespace, a.data.podName, 0).catch(() => {});
    });
  }

  private sweep(): void {
    if (this.closed) return;
    for (const a of this.attempts.values()) if (a.problem) this.judge(a);
  }

  private followLog(a: Attempt): void {
    if (!a.log || a.follow || this.closed) return;
    // Over the cap, the complete read at the exit is the only source (no live output).
    if (this.follows >= this.o.maxLogFollows) return;
    this.follows++;
    const sink = a.log.followSink();
    let abort: () => void = () => {};
    let counted = true;
    const ended = new Promise<void>((resolve) => {
      const done = () => {
        if (counted) {
          counted = false;
          this.follows--;
        }
        resolve();
      };
      sink.on('finish', done);
      sink.on('close', done);
      sink.on('error', done);
    });
    a.follow = { abort: () => abort(), ended };
    this.api.followLog(a.data.namespace, a.data.podName, a.data.containerName, sink, { timestamps: true }).then(
      (stop) => {
        abort = stop;
        if (a.phase === 'exited' || this.closed) stop();
      },
      () => sink.destroy(),
    );
  }

  /** The pod ended: complete the log, record and deliver the exit. */
  private finish(a: Attempt, seen: Extract<PodObservation, { state: 'ended' }>): Promise<void> {
    if (a.finishing) return a.finishing;
    a.finishing = (async () => {
      await a.started;
      if (a.phase === 'exited' || this.closed) return;
      const log = a.log;
      if (log) {
        if (a.follow) await Promise.race([a.follow.ended, new Promise((r) => setTimeout(r, 2000).unref?.())]);
        if (seen.outcome.kind !== 'start-failed' || seen.outcome.reason === 'ExecutableNotFound') {
          try {
            log.complete(await this.api.readLog(a.data.namespace, a.data.podName, a.data.containerName, { timestamps: true }));
          } catch (e) {
            if (seen.outcome.kind !== 'start-failed') log.note(`the complete log of the pod could not be read: ${errorMessage(e)}`);
          }
        }
        a.follow?.abort();
        const o = seen.outcome;
        if (o.kind === 'start-failed') log.note(`failed to start: ${o.message}`);
        else if ((o.kind === 'oom-killed' || o.kind === 'storage-exceeded' || o.kind === 'lost') && o.message) log.note(o.message);
        log.close();
      }
      const startedAt = seen.startedAt ?? a.startedAt;
      let finishedAt = seen.finishedAt ?? this.clock.now();
      if (startedAt !== undefined && finishedAt < startedAt) finishedAt = startedAt;
      this.recordExit(a, { attemptId: a.attemptId, outcome: seen.outcome, ...(startedAt !== undefined ? { startedAt } : {}), finishedAt });
    })();
    return a.finishing;
  }

  private recordExit(a: Attempt, exit: AttemptExit): void {
    try {
      if (a.data.workDir) writeJsonAtomic(exitFileOf(a.data.workDir, a.attemptId), exit);
    } catch {
      // the work dir is gone (run deleted): the exit is still delivered from memory
    }
    a.exit = exit;
    a.phase = 'exited';
    a.releaseSlot?.();
    this.deliver(a);
  }

  private deliver(a: Attempt): void {
    if (this.closed || !a.exit || a.delivered) return;
    a.delivered = true;
    this.listeners.emit(a.exit);
  }

  // ─── recovery ─────────────────────────────────────────────────────────────────────────

  /**
   * Finds an attempt this driver does not hold: its pod (through the namespace's watch), else
   * its exit record. Adopts and returns it, or `undefined`.
   */
  private async find(ref: AttemptRef): Promise<Attempt | undefined> {
    const known = this.attempts.get(ref.attemptId);
    if (known) return known;
    const data = parseHandle(ref.handle);
    const namespaces = data ? [data.namespace] : [...this.watches.keys()];
    const podName = data?.podName ?? podNameOf(ref.attemptId);
    if (!data && this.o.namespace.includes('{project}')) {
      // No handle (the engine crashed before it recorded the start) and the project's namespace
      // is unknown: one cluster-wide lookup by the attempt's label finds it.
      try {
        const pods = await this.api.findPods(`${this.selector},${LABEL.attemptId}=${labelValueOf(ref.attemptId)}`);
        for (const p of pods) if (p.metadata?.namespace && !namespaces.includes(p.metadata.namespace)) namespaces.push(p.metadata.namespace);
      } catch {
        // no cluster-wide list permission: only the namespaces watched already are searched
      }
    }
    for (const namespace of namespaces) {
      await this.watchOf(namespace);
      const again = this.attempts.get(ref.attemptId);
      if (again) return again;
      const pod = this.pods.get(this.key(namespace, podName));
      if (pod && pod.metadata?.annotations?.[ANNOTATION.attemptId] === ref.attemptId) return this.adopt(ref.attemptId, namespace, pod);
    }
    if (data?.workDir) {
      const exit = readExit(data.workDir, ref.attemptId);
      if (exit) {
        const a: Attempt = { attemptId: ref.attemptId, projectId: '', data, phase: 'exited', started: Promise.resolve(), stopRequested: false, exit, delivered: false };
        this.attempts.set(ref.attemptId, a);
        this.deliver(a);
        return a;
      }
    }
    return undefined;
  }

  private adopt(attemptId: string, namespace: string, pod: V1Pod): Attempt {
    const ann = pod.metadata?.annotations ?? {};
    const data: HandleData = {
      namespace,
      podName: pod.metadata?.name ?? podNameOf(attemptId),
      containerName: pod.spec?.containers?.[0]?.name ?? 'job',
      workDir: ann[ANNOTATION.workDir] ?? '',
      logPath: ann[ANNOTATION.logPath] ?? '',
    };
    const recorded = readExit(data.workDir, attemptId);
    const a: Attempt = {
      attemptId,
      projectId: pod.metadata?.labels?.['cejobs.dev/project'] ?? '',
      data,
      phase: recorded ? 'exited' : 'pending',
      started: Promise.resolve(),
      stopRequested: pod.metadata?.deletionTimestamp !== undefined,
      delivered: false,
      ...(recorded ? { exit: recorded } : {}),
    };
    this.attempts.set(attemptId, a);
    if (recorded) {
      this.deliver(a);
      return a;
    }
    if (data.logPath && data.workDir) a.log = new PodLog(data.logPath, data.workDir, attemptId, readLineCount(data.workDir, attemptId));
    this.onPodObject(a, pod);
    return a;
  }

  async recover(ref: AttemptRef): Promise<RecoveredAttempt> {
    this.assertOpen();
    const a = await this.find(ref);
    if (!a) return { state: 'vanished' };
    if (a.phase !== 'exited') await a.finishing;
    if (a.phase === 'exited' && a.exit) return { state: 'exited', exit: a.exit };
    return { state: 'running' };
  }

  // ─── stop, release, subscribe, close ───────────────────────────────────────────────────

  async stop(ref: AttemptRef, options: { graceMs: number }): Promise<void> {
    this.assertOpen();
    const a = await this.find(ref);
    if (!a || a.phase === 'exited') return;
    a.stopRequested = true;
    if (a.phase === 'queued') return; // the pacer's turn sees it and creates nothing
    await a.started;
    if ((a.phase as Phase) === 'exited') return;
    const grace = Number.isFinite(options.graceMs) ? Math.max(0, options.graceMs) : 10_000;
    // The kubelet sends SIGTERM, then SIGKILL after the grace; the exit arrives through the watch.
    this.api.deletePod(a.data.namespace, a.data.podName, Math.ceil(grace / 1000)).catch(() => {});
  }

  async release(ref: AttemptRef): Promise<void> {
    const a = this.attempts.get(ref.attemptId);
    const data = a?.data ?? parseHandle(ref.handle);
    if (data) {
      const k = this.key(data.namespace, data.podName);
      this.released.add(k);
      this.pods.delete(k);
      await this.api.deletePod(data.namespace, data.podName, 0);
      if (data.workDir) {
        for (const f of [exitFileOf(data.workDir, ref.attemptId), lineCountFileOf(data.workDir, ref.attemptId)]) fs.rmSync(f, { force: true });
      }
    }
    if (a) {
      a.follow?.abort();
      a.log?.close();
      a.releaseSlot?.();
    }
    this.attempts.delete(ref.attemptId);
  }

  subscribe(listener: ExitListener): () => void {
    return this.listeners.subscribe(listener, heldExits(this.attempts.values()));
  }

  /** Deletes the mirrors of a deleted config map or secret (for a secret: also its pull Secret). */
  async forgetConfig(ref: ConfigObjectRef): Promise<void> {
    const namespace = namespaceOf(this.o.namespace, ref.projectId);
    const scope = mirrorScopeOf(ref.projectId, this.sharedNamespace());
    const mirrors =
      ref.source === 'config_map'
        ? [{ kind: 'ConfigMap', name: mirrorNameOf('config_map', ref.name, scope) }]
        : [
            { kind: 'Secret', name: mirrorNameOf('secret', ref.name, scope) },
            { kind: 'Secret', name: pullSecretNameOf(ref.name, scope) },
          ];
    for (const m of mirrors) {
      // A start that applies it again after this resolved the object before it was deleted.
      this.applied.delete(`${namespace}/${m.kind}/${m.name}`);
      await (m.kind === 'ConfigMap' ? this.api.deleteConfigMap(namespace, m.name) : this.api.deleteSecret(namespace, m.name));
    }
  }

  /** A fixed namespace holds every project's pods and mirrors: mirror names then carry the project. */
  private sharedNamespace(): boolean {
    return !this.o.namespace.includes('{project}');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.pacer.close();
    this.listeners.clear();
    for (const w of this.watches.values()) w.then((x) => x.close(), () => {});
    for (const a of this.attempts.values()) {
      a.follow?.abort();
      a.log?.close();
    }
    this.attempts.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the kubernetes driver is closed');
  }
}

