/**
 * An in-memory stand-in for the API server behind `KubeApi`, for the driver's logic tests: pods
 * with resource versions and watch events, config objects, and pod logs (with timestamps) that
 * a test appends to and ends. It implements the facade, not the HTTP protocol (the watch
 * protocol test covers that) and not a kubelet (the conformance suite needs a cluster).
 */
import type { Writable } from 'node:stream';
import type { V1ConfigMap, V1Pod, V1PodStatus, V1Secret } from '@kubernetes/client-node';
import type { KubeApi, PodList, WatchEventType } from '../../../src/drivers/kubernetes/api.js';

class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Watcher {
  namespace: string;
  onEvent: (type: WatchEventType, object: unknown) => void;
}

export class FakeKubeApi implements KubeApi {
  rv = 1;
  readonly pods = new Map<string, V1Pod>();
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly secrets = new Map<string, V1Secret>();
  /** `Kind/name` of every config map or secret deleted, in order. */
  readonly removals: string[] = [];
  readonly namespaces = new Set<string>();
  readonly created: string[] = [];
  readonly deleted: { name: string; grace?: number }[] = [];
  readonly applies: string[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly logs = new Map<string, { lines: string[]; sinks: Set<Writable>; ended: boolean }>();
  /** Deletions with a grace period only mark the pod (as the API server does until the kubelet is done). */
  gracefulDelete = false;

  private key(ns: string, name: string) {
    return `${ns}/${name}`;
  }
  private clone<T>(v: T): T {
    return JSON.parse(JSON.stringify(v)) as T;
  }
  private emit(type: WatchEventType, pod: V1Pod) {
    for (const w of this.watchers) if (w.namespace === pod.metadata!.namespace) w.onEvent(type, this.clone(pod));
  }

  async serverVersion() {
    return 'v1.30.0-fake';
  }
  async listPods(namespace: string): Promise<PodList> {
    const items = [...this.pods.values()].filter((p) => p.metadata!.namespace === namespace).map((p) => this.clone(p));
    return { items, resourceVersion: String(this.rv) };
  }
  async watchPods(namespace: string, _selector: string, _rv: string, onEvent: (type: WatchEventType, object: unknown) => void) {
    const w = { namespace, onEvent };
    this.watchers.add(w);
    return () => void this.watchers.delete(w);
  }
  async readPod(namespace: string, name: string) {
    const p = this.pods.get(this.key(namespace, name));
    return p ? this.clone(p) : undefined;
  }
  async findPods(labelSelector: string) {
    const wanted = labelSelector.split(',').map((kv) => kv.split('=') as [string, string]);
    return [...this.pods.values()].filter((p) => wanted.every(([k, v]) => p.metadata!.labels?.[k] === v)).map((p) => this.clone(p));
  }
  async createPod(pod: V1Pod) {
    const k = this.key(pod.metadata!.namespace!, pod.metadata!.name!);
    if (this.pods.has(k)) throw new ApiError(409, 'AlreadyExists');
    const stored = this.clone(pod);
    stored.metadata!.resourceVersion = String(++this.rv);
    stored.status = { phase: 'Pending' };
    this.pods.set(k, stored);
    this.created.push(pod.metadata!.name!);
    queueMicrotask(() => this.emit('ADDED', stored));
    return this.clone(stored);
  }
  async deletePod(namespace: string, name: string, graceSeconds?: number) {
    const k = this.key(namespace, name);
    const p = this.pods.get(k);
    this.deleted.push({ name, ...(graceSeconds !== undefined ? { grace: graceSeconds } : {}) });
    if (!p) return;
    if (this.gracefulDelete && graceSeconds) {
      p.metadata!.deletionTimestamp = new Date(0).toISOString() as unknown as Date;
      p.metadata!.resourceVersion = String(++this.rv);
      this.emit('MODIFIED', p);
      return;
    }
    this.pods.delete(k);
    p.metadata!.resourceVersion = String(++this.rv);
    p.metadata!.deletionTimestamp ??= new Date(0).toISOString() as unknown as Date;
    this.endLog(namespace, name);
    this.emit('DELETED', p);
  }
  async applyConfigMap(cm: V1ConfigMap) {
    this.applies.push(`ConfigMap/${cm.metadata!.name}`);
    this.configMaps.set(this.key(cm.metadata!.namespace!, cm.metadata!.name!), this.clone(cm));
  }
  async applySecret(s: V1Secret) {
    this.applies.push(`Secret/${s.metadata!.name}`);
    this.secrets.set(this.key(s.metadata!.namespace!, s.metadata!.name!), this.clone(s));
  }
  async deleteConfigMap(namespace: string, name: string) {
    this.configMaps.delete(this.key(namespace, name));
    this.removals.push(`ConfigMap/${name}`);
  }
  async deleteSecret(namespace: string, name: string) {
    this.secrets.delete(this.key(namespace, name));
    this.removals.push(`Secret/${name}`);
  }
  async ensureNamespace(name: string) {
    this.namespaces.add(name);
  }
  private logOf(ns: string, name: string) {
    const k = this.key(ns, name);
    let l = this.logs.get(k);
    if (!l) this.logs.set(k, (l = { lines: [], sinks: new Set(), ended: false }));
    return l;
  }
  async followLog(namespace: string, pod: string, _container: string, sink: Writable) {
    const l = this.logOf(namespace, pod);
    for (const line of l.lines) sink.write(`${line}\n`);
    if (l.ended) sink.end();
    else l.sinks.add(sink);
    return () => {
      l.sinks.delete(sink);
      sink.destroy();
    };
  }
  async readLog(namespace: string, pod: string) {
    if (!this.pods.has(this.key(namespace, pod))) throw new ApiError(404, `pods "${pod}" not found`);
    return this.logOf(namespace, pod).lines.map((l) => `${l}\n`).join('');
  }

  // ─── what a kubelet would do, driven by the test ───

  /** Appends a log line with its RFC 3339 time. */
  log(namespace: string, pod: string, time: string, text: string, live = true) {
    const l = this.logOf(namespace, pod);
    l.lines.push(`${time} ${text}`);
    if (live) for (const s of l.sinks) s.write(`${time} ${text}\n`);
  }
  endLog(namespace: string, pod: string) {
    const l = this.logOf(namespace, pod);
    l.ended = true;
    for (const s of l.sinks) s.end();
    l.sinks.clear();
  }
  setStatus(namespace: string, name: string, status: V1PodStatus) {
    const p = this.pods.get(this.key(namespace, name));
    if (!p) throw new Error(`no pod ${name}`);
    p.status = this.clone(status);
    p.metadata!.resourceVersion = String(++this.rv);
    // The kubelet's log follow ends with the container.
    if (status.phase === 'Succeeded' || status.phase === 'Failed') this.endLog(namespace, name);
    this.emit('MODIFIED', p);
  }
  /** Removes a pod for good (the kubelet finished a graceful deletion). */
  remove(namespace: string, name: string) {
    const p = this.pods.get(this.key(namespace, name));
    if (!p) return;
    this.pods.delete(this.key(namespace, name));
    p.metadata!.resourceVersion = String(++this.rv);
    this.emit('DELETED', p);
  }
}

export const running = (startedAt = '2024-05-02T10:00:03Z'): V1PodStatus =>
  ({ phase: 'Running', containerStatuses: [{ name: 'job', image: 'busybox', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt } } }] }) as unknown as V1PodStatus;

export const terminated = (exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): V1PodStatus =>
  ({
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    containerStatuses: [
      { name: 'job', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason, startedAt: '2024-05-02T10:00:03Z', finishedAt: '2024-05-02T10:00:09Z' } } },
    ],
  }) as unknown as V1PodStatus;

export const waiting = (reason: string, message: string): V1PodStatus =>
  ({ phase: 'Pending', containerStatuses: [{ name: 'job', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] }) as unknown as V1PodStatus;
