/**
 * Options of the `kubernetes` driver and where they come from: the server's environment
 * (`optionsFromEnv`, the variables below) or a caller (tests). See docs/kubernetes.md.
 *
 * | variable                          | option                  | default                 |
 * |-----------------------------------|-------------------------|-------------------------|
 * | `KUBECONFIG` / in-cluster         | `kubeconfig`            | `loadFromDefault`       |
 * | `CEJOBS_K8S_CONTEXT`              | `context`               | the kubeconfig's current |
 * | `CEJOBS_K8S_NAMESPACE`            | `namespace`             | `cejobs-{project}`      |
 * | `CEJOBS_K8S_CREATE_NAMESPACES`    | `createNamespaces`      | true when templated     |
 * | `CEJOBS_K8S_QPS`                  | `qps`                   | 50                      |
 * | `CEJOBS_K8S_BURST`                | `burst`                 | 100                     |
 * | `CEJOBS_K8S_MAX_IN_FLIGHT`        | `maxInFlightPerProject` | 200                     |
 * | `CEJOBS_K8S_UNSCHEDULABLE_AFTER_MS` | `unschedulableAfterMs` | 300000                  |
 * | `CEJOBS_K8S_IMAGE_PULL_TIMEOUT_MS`  | `imagePullTimeoutMs`   | 300000                  |
 * | `CEJOBS_K8S_OWNER`                | `owner`                 | `cejobs`                |
 * | `CEJOBS_K8S_SERVICE_ACCOUNT`      | `serviceAccountName`    | the namespace's default |
 * | `CEJOBS_K8S_MAX_LOG_FOLLOWS`      | `maxLogFollows`         | 256                     |
 *
 * Nothing here loads the Kubernetes client (only its types), so the server reads these options
 * without paying for the client unless the driver is used (`kubeconfig.ts` loads the cluster).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { CejobsError } from '../../domain/errors.js';

export interface KubernetesDriverOptions {
  /**
   * Where the cluster is: a KubeConfig (tests), a kubeconfig file path, or `in-cluster`.
   * @default in-cluster config when `KUBERNETES_SERVICE_HOST` is set, else `KUBECONFIG` / ~/.kube/config
   */
  kubeconfig?: KubeConfig | string;
  /** Context of the kubeconfig to use. @default its current context */
  context?: string;
  /**
   * Namespace of a project's pods: a fixed name, or a template where `{project}` is replaced by
   * the project's id. @default 'cejobs-{project}'
   */
  namespace?: string;
  /** Create a missing namespace (needs a ClusterRole). @default true when `namespace` has `{project}` */
  createNamespaces?: boolean;
  /** Pod creations per second, all projects together (token bucket). @default 50 */
  qps?: number;
  /** Creations allowed at once after a quiet period. @default 100 */
  burst?: number;
  /** Pods of one project created and not yet running or ended. @default 200 */
  maxInFlightPerProject?: number;
  /** How long a pod may stay unschedulable before it fails `Unschedulable`. @default 300000 */
  unschedulableAfterMs?: number;
  /** How long an image may fail to pull (back-off included) before `ImagePullFailed`. @default 300000 */
  imagePullTimeoutMs?: number;
  /**
   * Scopes the pods this driver watches and adopts (label `cejobs.dev/owner`): two servers on
   * one cluster must use different owners. @default 'cejobs'
   */
  owner?: string;
  /** Service account of the pods. @default the namespace's `default` */
  serviceAccountName?: string;
  /**
   * Live log follows open at once (each is a streaming request through the API server); pods
   * beyond get their complete log at their exit only. @default 256
   */
  maxLogFollows?: number;
  /** Period of the in-memory sweep that applies the pending timeouts (no API calls). @default 1000 */
  sweepMs?: number;
}

export interface ResolvedOptions {
  namespace: string;
  createNamespaces: boolean;
  qps: number;
  burst: number;
  maxInFlightPerProject: number;
  unschedulableAfterMs: number;
  imagePullTimeoutMs: number;
  owner: string;
  serviceAccountName?: string;
  maxLogFollows: number;
  sweepMs: number;
}

export const DEFAULT_NAMESPACE_TEMPLATE = 'cejobs-{project}';

export function resolveOptions(o: KubernetesDriverOptions): ResolvedOptions {
  const namespace = o.namespace ?? DEFAULT_NAMESPACE_TEMPLATE;
  const out: ResolvedOptions = {
    namespace,
    createNamespaces: o.createNamespaces ?? namespace.includes('{project}'),
    qps: positive(o.qps ?? 50, 'qps'),
    burst: positive(o.burst ?? 100, 'burst'),
    maxInFlightPerProject: positive(o.maxInFlightPerProject ?? 200, 'maxInFlightPerProject'),
    unschedulableAfterMs: nonNegative(o.unschedulableAfterMs ?? 300_000, 'unschedulableAfterMs'),
    imagePullTimeoutMs: nonNegative(o.imagePullTimeoutMs ?? 300_000, 'imagePullTimeoutMs'),
    owner: o.owner ?? 'cejobs',
    maxLogFollows: nonNegative(o.maxLogFollows ?? 256, 'maxLogFollows'),
    sweepMs: positive(o.sweepMs ?? 1000, 'sweepMs'),
  };
  if (o.serviceAccountName) out.serviceAccountName = o.serviceAccountName;
  return out;
}

function positive(n: number, what: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new CejobsError('invalid_field', `the kubernetes driver's ${what} must be a positive number (got ${n})`);
  return n;
}
function nonNegative(n: number, what: string): number {
  if (!Number.isFinite(n) || n < 0) throw new CejobsError('invalid_field', `the kubernetes driver's ${what} must be 0 or more (got ${n})`);
  return n;
}

/** The options the `CEJOBS_K8S_*` variables set (see the table above). */
export function optionsFromEnv(env: NodeJS.ProcessEnv): KubernetesDriverOptions {
  const o: KubernetesDriverOptions = {};
  const str = (name: string) => env[name]?.trim() || undefined;
  const num = (name: string) => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new CejobsError('invalid_field', `${name}=${v} is not a number`);
    return n;
  };
  const bool = (name: string) => {
    const v = str(name);
    if (v === undefined) return undefined;
    if (/^(1|true|yes)$/i.test(v)) return true;
    if (/^(0|false|no)$/i.test(v)) return false;
    throw new CejobsError('invalid_field', `${name}=${v} is not a boolean (use true or false)`);
  };
  const set = <K extends keyof KubernetesDriverOptions>(k: K, v: KubernetesDriverOptions[K] | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  set('context', str('CEJOBS_K8S_CONTEXT'));
  set('namespace', str('CEJOBS_K8S_NAMESPACE'));
  set('createNamespaces', bool('CEJOBS_K8S_CREATE_NAMESPACES'));
  set('qps', num('CEJOBS_K8S_QPS'));
  set('burst', num('CEJOBS_K8S_BURST'));
  set('maxInFlightPerProject', num('CEJOBS_K8S_MAX_IN_FLIGHT'));
  set('unschedulableAfterMs', num('CEJOBS_K8S_UNSCHEDULABLE_AFTER_MS'));
  set('imagePullTimeoutMs', num('CEJOBS_K8S_IMAGE_PULL_TIMEOUT_MS'));
  set('owner', str('CEJOBS_K8S_OWNER'));
  set('serviceAccountName', str('CEJOBS_K8S_SERVICE_ACCOUNT'));
  set('maxLogFollows', num('CEJOBS_K8S_MAX_LOG_FOLLOWS'));
  return o;
}
