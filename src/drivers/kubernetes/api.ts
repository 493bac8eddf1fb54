/**
 * The few Kubernetes API calls the driver makes, behind one small interface (`KubeApi`) so the
 * watch loop and the driver are independent of the client's shapes. `createKubeApi` implements
 * it with `@kubernetes/client-node` (`CoreV1Api`, `Watch`, `Log`).
 *
 * Errors: every call rejects with the client's error; `statusOf` reads its HTTP status
 * (`undefined` when the API server was not reached at all).
 */
import { Writable } from 'node:stream';
import { CoreV1Api, Log, VersionApi, Watch, type KubeConfig, type V1ConfigMap, type V1Pod, type V1Secret } from '@kubernetes/client-node';

/**
 * The API permissions the calls below need (RBAC rules of deploy/kubernetes; a test keeps them
 * in sync). `namespaces` only with `createNamespaces`.
 */
export const REQUIRED_PERMISSIONS: readonly { resource: string; verbs: readonly string[] }[] = [
  { resource: 'pods', verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { resource: 'pods/log', verbs: ['get'] },
  { resource: 'configmaps', verbs: ['create', 'update', 'delete'] },
  { resource: 'secrets', verbs: ['create', 'update', 'delete'] },
];
export const NAMESPACE_PERMISSIONS = { resource: 'namespaces', verbs: ['get', 'create'] } as const;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface PodList {
  items: V1Pod[];
  /** The list's resourceVersion: where a watch continues from. */
  resourceVersion: string;
}

export interface KubeApi {
  /** The API server's version (`/version`): proves it answers. */
  serverVersion(): Promise<string>;
  listPods(namespace: string, labelSelector: string): Promise<PodList>;
  /**
   * Watches pods from `resourceVersion`. `onEvent` gets every event (an `ERROR` event carries a
   * `Status`, e.g. code 410 when the version expired); `onDone` once, when the stream ends for
   * any reason. Resolves with a function that aborts the watch.
   */
  watchPods(
    namespace: string,
    labelSelector: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void>;
  readPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** Pods of every namespace matching `labelSelector` (needs cluster-wide `list pods`). */
  findPods(labelSelector: string): Promise<V1Pod[]>;
  createPod(pod: V1Pod): Promise<V1Pod>;
  /** Deletes with a grace period (seconds); a pod that is gone already is not an error. */
  deletePod(namespace: string, name: string, graceSeconds?: number): Promise<void>;
  /** Creates the object or, when it exists, replaces it. */
  applyConfigMap(cm: V1ConfigMap): Promise<void>;
  applySecret(secret: V1Secret): Promise<void>;
  /** Deletes the object; one that is gone already is not an error. */
  deleteConfigMap(namespace: string, name: string): Promise<void>;
  deleteSecret(namespace: string, name: string): Promise<void>;
  /** Creates the namespace unless it exists. */
  ensureNamespace(name: string): Promise<void>;
  /**
   * Streams the container's log (follow) into `sink`, which is ended with the stream; the
   * returned function aborts the stream and destroys `sink`.
   */
  followLog(namespace: string, pod: string, container: string, sink: Writable, opts: { timestamps: boolean; sinceTime?: string }): Promise<() => void>;
  /** The container's complete log so far. */
  readLog(namespace: string, pod: string, container: string, opts: { timestamps: boolean }): Promise<string>;
}

/** HTTP status of a client error; `undefined` when no answer came from the API server. */
export function statusOf(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { code?: unknown; statusCode?: unknown; status?: unknown };
  for (const v of [o.code, o.statusCode, o.status]) if (typeof v === 'number' && v >= 100 && v < 600) return v;
  return undefined;
}

/** A short message of a client error (the Status' message when the server sent one). */
export function errorMessage(e: unknown): string {
  const body = (e as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      const m = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof m === 'string') return m;
    } catch {
      // not JSON
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return e instanceof Error ? e.message : String(e);
}

export function createKubeApi(kc: KubeConfig): KubeApi {
  const core = kc.makeApiClient(CoreV1Api);
  const version = kc.makeApiClient(VersionApi);
  const watcher = new Watch(kc);
  const logs = new Log(kc);
  const ignore404 = (e: unknown) => {
    if (statusOf(e) !== 404) throw e;
  };
  return {
    async serverVersion() {
      return (await version.getCode()).gitVersion;
    },
    async listPods(namespace, labelSelector) {
      const list = await core.listNamespacedPod({ namespace, labelSelector });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    async watchPods(namespace, labelSelector, resourceVersion, onEvent, onDone) {
      const controller = await watcher.watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        { labelSelector, resourceVersion, allowWatchBookmarks: true },
        (type: string, object: unknown) => onEvent(type as WatchEventType, object),
        onDone,
      );
      return () => controller.abort();
    },
    async readPod(namespace, name) {
      try {
        return await core.readNamespacedPod({ namespace, name });
      } catch (e) {
        ignore404(e);
        return undefined;
      }
    },
    async findPods(labelSelector) {
      return (await core.listPodForAllNamespaces({ labelSelector })).items;
    },
    async createPod(pod) {
      return core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body: pod });
    },
    async deletePod(namespace, name, graceSeconds) {
      try {
        await core.deleteNamespacedPod({ namespace, name, ...(graceSeconds !== undefined ? { gracePeriodSeconds: graceSeconds } : {}) });
      } catch (e) {
        ignore404(e);
      }
    },
    async applyConfigMap(cm) {
      const namespace = cm.metadata!.namespace!;
      try {
        await core.createNamespacedConfigMap({ namespace, body: cm });
      } catch (e) {
        if (statusOf(e) !== 409) throw e;
        await core.replaceNamespacedConfigMap({ namespace, name: cm.metadata!.name!, body: cm });
      }
    },
    async applySecret(secret) {
      const namespace = secret.metadata!.namespace!;
      try {
        await core.createNamespacedSecret({ namespace, body: secret });
      } catch (e) {
        if (statusOf(e) !== 409) throw e;
        await core.replaceNamespacedSecret({ namespace, name: secret.metadata!.name!, body: secret });
      }
    },
    async deleteConfigMap(namespace, name) {
      try {
        await core.deleteNamespacedConfigMap({ namespace, name });
      } catch (e) {
        ignore404(e);
      }
    },
    async deleteSecret(namespace, name) {
      try {
        await core.deleteNamespacedSecret({ namespace, name });
      } catch (e) {
        ignore404(e);
      }
    },
    async ensureNamespace(name) {
      try {
        await core.readNamespace({ name });
        return;
      } catch (e) {
        ignore404(e);
      }
      try {
        await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'cejobs' } } } });
      } catch (e) {
        if (statusOf(e) !== 409) throw e;
      }
    },
    async followLog(namespace, pod, container, sink, opts) {
      const controller = await logs.log(namespace, pod, container, sink, {
        follow: true,
        timestamps: opts.timestamps,
        ...(opts.sinceTime ? { sinceTime: opts.sinceTime } : {}),
      });
      // An aborted body is not piped to its end: destroy the sink too, so its owner sees the end.
      return () => {
        controller.abort();
        sink.destroy();
      };
    },
    async readLog(namespace, pod, container, opts) {
      const chunks: Buffer[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const sink = new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
            cb();
          },
          final(cb) {
            resolve();
            cb();
          },
        });
        sink.on('error', reject);
        logs.log(namespace, pod, container, sink, { follow: false, timestamps: opts.timestamps }).catch(reject);
      });
      await done;
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
