/**
 * What the Kubernetes objects of one attempt look like (pure; no API calls):
 *
 * - `podOf`: the Pod. One container named after Code Engine's container name, `restartPolicy:
 *   Never` (retries and restarts are the engine's), cpu / memory / ephemeral-storage requests =
 *   limits, `run_commands` → `command`, `run_arguments` → `args`, the environment in the
 *   engine's order with every variable that came from a config map or secret as a
 *   `configMapKeyRef` / `secretKeyRef` (so no secret value is ever in a pod spec), mounts as
 *   `configMap` / `secret` volumes, `image_secret` as an image pull secret.
 * - `configObjectsOf`: the ConfigMaps and Secrets those references name: one per cejobs config
 *   map / secret, named `ce-cm-<name>` / `ce-secret-<name>`, with the data current at the start.
 * - `pullSecretOf`: the `kubernetes.io/dockerconfigjson` Secret `ce-pull-<name>`.
 *
 * Mirror names and namespaces: with a namespace per project (the default) a mirror is named
 * after its object alone. A fixed namespace holds the mirrors of every project (`shared`), so
 * there a mirror's name also carries a hash of its project's id (`ce-secret-<hash>-<name>`):
 * two projects' `db` secrets are two Kubernetes Secrets, never one that each start overwrites
 * with its own values while the other's pods read it.
 *
 * Precedence: the engine already decided which source wins each variable (`composeEnv`), and
 * every variable appears once, so Kubernetes' own ordering rules (later entries, `env` over
 * `envFrom`) never come into play; a full reference becomes one key reference per key.
 *
 * Identity: the pod name derives from the attempt id (`podNameOf`); labels `cejobs.dev/project`,
 * `/run`, `/index`, `/retry`, `/attempt-id`, `/owner` (valid label values, hashed when they
 * would not be); annotations keep what recovery needs in full (attempt id, log path, work dir).
 */
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Container, V1EnvVar, V1Pod, V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { InstanceConfigObject, InstanceSpec } from '../driver.js';

export const LABEL = {
  project: 'cejobs.dev/project',
  run: 'cejobs.dev/run',
  index: 'cejobs.dev/index',
  retry: 'cejobs.dev/retry',
  attemptId: 'cejobs.dev/attempt-id',
  owner: 'cejobs.dev/owner',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const ANNOTATION = {
  attemptId: 'cejobs.dev/attempt-id',
  instance: 'cejobs.dev/instance',
  logPath: 'cejobs.dev/log-path',
  workDir: 'cejobs.dev/work-dir',
  sourceName: 'cejobs.dev/source-name',
  dataHash: 'cejobs.dev/data-hash',
} as const;

export const MANAGED_BY = 'cejobs';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function hash(s: string, n = 10): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** `v` when it is a valid label value (≤ 63), else a readable prefix of it plus a hash. */
export function labelValueOf(v: string): string {
  if (v.length <= 63 && LABEL_VALUE.test(v)) return v;
  const head = v.replace(/[^-A-Za-z0-9_.]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 40).replace(/[^A-Za-z0-9]+$/, '');
  return `${head}${head ? '-' : ''}h${hash(v, 16)}`;
}

/** A DNS-1123 name of at most `max` characters from `prefix` + `v`, hashed when needed. */
function dnsName(prefix: string, v: string, max: number, pattern: RegExp): string {
  const plain = `${prefix}${v.toLowerCase()}`;
  if (plain.length <= max && pattern.test(plain)) return plain;
  const cleaned = v
    .toLowerCase()
    .replace(/[^-a-z0-9]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const h = hash(v);
  return `${prefix}${cleaned.slice(0, Math.max(0, max - prefix.length - h.length - 1))}${cleaned ? '-' : ''}${h}`.replace(/-+/g, '-');
}

/** `ce-<attemptId, dots → dashes>` (a DNS label, so also the pod's DNS name). */
export function podNameOf(attemptId: string): string {
  return dnsName('ce-', attemptId.replace(/\./g, '-'), 63, DNS_LABEL);
}

/** The namespace of a project: `template` with `{project}` replaced by its id. */
export function namespaceOf(template: string, projectId: string): string {
  if (!template.includes('{project}')) return template;
  const [before, after] = [template.slice(0, template.indexOf('{project}')), template.slice(template.indexOf('{project}') + 9)];
  const name = `${before}${projectId.toLowerCase()}${after}`;
  return name.length <= 63 && DNS_LABEL.test(name) ? name : dnsName(before, `${projectId}${after}`, 63, DNS_LABEL);
}

/**
 * What a mirror's name carries besides its object's name: nothing in a project's own namespace,
 * a hash of the project's id (fixed length, so no two projects and names make the same name) in
 * a namespace `shared` by every project.
 */
export function mirrorScopeOf(projectId: string, shared: boolean): string | undefined {
  return shared ? hash(projectId, 10) : undefined;
}

const scoped = (name: string, scope: string | undefined): string => (scope === undefined ? name : `${scope}-${name}`);

/** Name of the Kubernetes ConfigMap / Secret that mirrors a cejobs config map / secret. */
export function mirrorNameOf(source: 'config_map' | 'secret', name: string, scope?: string): string {
  return dnsName(source === 'config_map' ? 'ce-cm-' : 'ce-secret-', scoped(name, scope), 253, DNS_SUBDOMAIN);
}

/** Name of the image pull Secret of a registry secret. */
export function pullSecretNameOf(name: string, scope?: string): string {
  return dnsName('ce-pull-', scoped(name, scope), 253, DNS_SUBDOMAIN);
}

/** The container's name: Code Engine's container name when it is a DNS label, else `job`. */
export function containerNameOf(spec: InstanceSpec): string {
  const n = spec.containerName.toLowerCase();
  return n.length <= 63 && DNS_LABEL.test(n) ? n : 'job';
}

/** A stable digest of an object's data (skips unchanged updates). */
export function dataHashOf(data: Record<string, string>): string {
  return hash(JSON.stringify(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), 32);
}

export interface PodContext {
  namespace: string;
  owner: string;
  serviceAccountName?: string;
  /** The namespace holds every project's pods and mirrors (see "Mirror names"). @default false */
  shared?: boolean;
}

/** Labels that select this owner's pods (the watch's selector). */
export function ownerSelector(owner: string): string {
  return `${LABEL.owner}=${labelValueOf(owner)},${LABEL.managedBy}=${MANAGED_BY}`;
}

export function labelsOf(spec: InstanceSpec, owner: string): Record<string, string> {
  return {
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.owner]: labelValueOf(owner),
    [LABEL.project]: labelValueOf(spec.projectId),
    [LABEL.run]: labelValueOf(spec.runId),
    [LABEL.index]: String(spec.index),
    [LABEL.retry]: String(spec.retry),
    [LABEL.attemptId]: labelValueOf(spec.attemptId),
  };
}

/**
 * The config objects the pod refers to: `spec.configObjects`, completed from the mounts' files
 * and, for an env source with no object (a spec built without `configObjects`), from the
 * resolved values themselves.
 */
export function referencedObjectsOf(spec: InstanceSpec): InstanceConfigObject[] {
  const byId = new Map<string, InstanceConfigObject>();
  const id = (source: string, name: string) => `${source}/${name}`;
  const wanted = new Set<string>();
  for (const s of Object.values(spec.envSources ?? {})) wanted.add(id(s.source, s.name));
  for (const m of spec.mounts) wanted.add(id(m.source, m.name));
  for (const o of spec.configObjects ?? []) if (wanted.has(id(o.source, o.name))) byId.set(id(o.source, o.name), o);
  for (const m of spec.mounts) {
    if (!byId.has(id(m.source, m.name))) byId.set(id(m.source, m.name), { source: m.source, name: m.name, data: { ...m.files } });
  }
  for (const [variable, s] of Object.entries(spec.envSources ?? {})) {
    let o = byId.get(id(s.source, s.name));
    if (!o) byId.set(id(s.source, s.name), (o = { source: s.source, name: s.name, data: {} }));
    if (!(s.key in o.data) && spec.env[variable] !== undefined) o.data[s.key] = spec.env[variable]!;
  }
  return [...byId.values()];
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** The ConfigMaps and Secrets (type Opaque) mirroring `referencedObjectsOf(spec)`. */
export function configObjectsOf(spec: InstanceSpec, namespace: string, shared = false): (V1ConfigMap | V1Secret)[] {
  const scope = mirrorScopeOf(spec.projectId, shared);
  return referencedObjectsOf(spec).map((o) => {
    const metadata = {
      name: mirrorNameOf(o.source, o.name, scope),
      namespace,
      labels: { [LABEL.managedBy]: MANAGED_BY, [LABEL.project]: labelValueOf(spec.projectId) },
      annotations: { [ANNOTATION.sourceName]: o.name, [ANNOTATION.dataHash]: dataHashOf(o.data) },
    };
    if (o.source === 'config_map') return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { ...o.data } } satisfies V1ConfigMap;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.data)) data[k] = b64(v);
    return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata, data } satisfies V1Secret;
  });
}

/** The image pull Secret of `spec` (`undefined` without pull credentials). */
export function pullSecretOf(spec: InstanceSpec, namespace: string, shared = false): V1Secret | undefined {
  const c = spec.imagePullCredentials;
  if (!c || !spec.imageSecret) return undefined;
  const entry: Record<string, string> = { username: c.username, password: c.password, auth: b64(`${c.username}:${c.password}`) };
  if (c.email) entry.email = c.email;
  const config = JSON.stringify({ auths: { [c.server]: entry } });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: {
      name: pullSecretNameOf(spec.imageSecret, mirrorScopeOf(spec.projectId, shared)),
      namespace,
      labels: { [LABEL.managedBy]: MANAGED_BY, [LABEL.project]: labelValueOf(spec.projectId) },
      annotations: { [ANNOTATION.sourceName]: spec.imageSecret, [ANNOTATION.dataHash]: dataHashOf({ config }) },
    },
    data: { '.dockerconfigjson': b64(config) },
  };
}

/** The environment as `env` entries, in the engine's order, references for sourced values. */
export function envOf(spec: InstanceSpec, shared = false): V1EnvVar[] {
  const scope = mirrorScopeOf(spec.projectId, shared);
  return Object.entries(spec.env).map(([name, value]) => {
    const s = spec.envSources?.[name];
    if (!s) return { name, value };
    const ref = { name: mirrorNameOf(s.source, s.name, scope), key: s.key };
    return { name, valueFrom: s.source === 'config_map' ? { configMapKeyRef: ref } : { secretKeyRef: ref } };
  });
}

/** Pod quantities: cpu in millicores, memory and storage in bytes; requests = limits. */
function resourcesOf(spec: InstanceSpec): V1Container['resources'] {
  const q: Record<string, string> = {};
  if (spec.limits.cpuMillis > 0) q.cpu = `${spec.limits.cpuMillis}m`;
  if (spec.limits.memoryBytes > 0) q.memory = String(spec.limits.memoryBytes);
  if (spec.limits.ephemeralStorageBytes > 0) q['ephemeral-storage'] = String(spec.limits.ephemeralStorageBytes);
  return { requests: { ...q }, limits: { ...q } };
}

export function podOf(spec: InstanceSpec, ctx: PodContext): V1Pod {
  const volumes: V1Volume[] = [];
  const volumeMounts: V1VolumeMount[] = [];
  const scope = mirrorScopeOf(spec.projectId, ctx.shared ?? false);
  spec.mounts.forEach((m, n) => {
    const name = `mount-${n}`;
    const mirror = mirrorNameOf(m.source, m.name, scope);
    // Secrets readable by the owner and the pod's fsGroup only; config maps by everyone.
    volumes.push(
      m.source === 'config_map'
        ? { name, configMap: { name: mirror, defaultMode: 0o444 } }
        : { name, secret: { secretName: mirror, defaultMode: spec.runAsUser > 0 ? 0o440 : 0o400 } },
    );
    volumeMounts.push({ name, mountPath: m.mountPath, readOnly: true });
  });
  const container: V1Container = {
    name: containerNameOf(spec),
    image: spec.image ?? '',
    imagePullPolicy: 'IfNotPresent',
    env: envOf(spec, ctx.shared ?? false),
    resources: resourcesOf(spec),
  };
  // §1.9: run_commands replaces ENTRYPOINT, run_arguments replaces CMD.
  if (spec.command.length > 0) container.command = [...spec.command];
  if (spec.args.length > 0) container.args = [...spec.args];
  if (volumeMounts.length > 0) container.volumeMounts = volumeMounts;
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podNameOf(spec.attemptId),
      namespace: ctx.namespace,
      labels: labelsOf(spec, ctx.owner),
      annotations: {
        [ANNOTATION.attemptId]: spec.attemptId,
        [ANNOTATION.instance]: spec.instanceName,
        [ANNOTATION.logPath]: spec.logPath,
        [ANNOTATION.workDir]: spec.workDir,
      },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [container],
    },
  };
  const podSpec = pod.spec!;
  const host = spec.instanceName.toLowerCase();
  if (host.length <= 63 && DNS_LABEL.test(host)) podSpec.hostname = host;
  if (ctx.serviceAccountName) podSpec.serviceAccountName = ctx.serviceAccountName;
  if (volumes.length > 0) podSpec.volumes = volumes;
  if (spec.imageSecret && spec.imagePullCredentials) podSpec.imagePullSecrets = [{ name: pullSecretNameOf(spec.imageSecret, scope) }];
  // run_as_user 0 (the default) keeps the image's USER; the fsGroup lets that uid read the mounts.
  if (spec.runAsUser > 0) podSpec.securityContext = { runAsUser: spec.runAsUser, fsGroup: spec.runAsUser };
  return pod;
}
