/**
 * The objects the kubernetes driver creates, validated against the Kubernetes OpenAPI schemas
 * (`kubernetes-models`), and the rules they follow: labels, names, env references instead of
 * secret values, resources, commands, mounts, pull secrets.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import { composeEnv } from '../../../src/domain/env-vars.js';
import type { EnvValueSource } from '../../../src/domain/env-vars.js';
import type { InstanceSpec } from '../../../src/drivers/driver.js';
import {
  configObjectsOf,
  labelValueOf,
  mirrorNameOf,
  mirrorScopeOf,
  namespaceOf,
  podNameOf,
  podOf,
  pullSecretOf,
} from '../../../src/drivers/kubernetes/pod-spec.js';

const RUN = '3f2c1a4e-8b9d-4c2e-9f1a-0123456789ab';
const SECRET_VALUE = 'hunter2-very-secret';

function baseSpec(extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    attemptId: `${RUN}.7.1.0`,
    instanceName: 'myrun-7-1',
    projectId: '0f9e8d7c-6b5a-4321-8765-fedcba987654',
    runId: RUN,
    runName: 'myrun',
    jobName: 'myjob',
    containerName: 'myjob',
    index: 7,
    retry: 1,
    attempt: 0,
    mode: 'task',
    image: 'icr.io/codeengine/helloworld',
    command: [],
    args: [],
    env: { CE_JOB: 'myjob', JOB_INDEX: '7', HOSTNAME: 'myrun-7-1' },
    mounts: [],
    runAsUser: 0,
    limits: { cpuMillis: 125, memoryBytes: 250_000_000, ephemeralStorageBytes: 400_000_000 },
    logPath: '/home/cejobs/logs/x.log',
    workDir: '/home/cejobs/work/x',
    ...extra,
  };
}

/** A spec whose env is composed by the domain from references (as the engine does). */
function specWithReferences(): InstanceSpec {
  const data = {
    config_map: { app: { MODE: 'fast', LEVEL: 'debug' } } as Record<string, Record<string, string>>,
    secret: { db: { PASSWORD: SECRET_VALUE, USER: 'admin' } } as Record<string, Record<string, string>>,
  };
  const sources: Record<string, EnvValueSource> = {};
  const env = composeEnv(
    { CE_JOB: 'myjob', JOB_INDEX: '7', HOSTNAME: 'myrun-7-1' },
    [
      { type: 'config_map_full_reference', reference: 'app', prefix: 'APP_' },
      { type: 'secret_key_reference', name: 'DB_PASSWORD', reference: 'db', key: 'PASSWORD' },
      { type: 'secret_full_reference', reference: 'db' },
      { type: 'literal', name: 'USER', value: 'literal-wins' },
      { type: 'config_map_key_reference', name: 'APP_MODE', reference: 'app', key: 'LEVEL' },
    ],
    (kind, name) => data[kind][name]!,
    sources,
  );
  return baseSpec({
    env,
    envSources: sources,
    configObjects: [
      { source: 'config_map', name: 'app', data: data.config_map.app! },
      { source: 'secret', name: 'db', data: data.secret.db! },
    ],
    mounts: [
      { mountPath: '/etc/app', source: 'config_map', name: 'app', files: data.config_map.app! },
      { mountPath: '/etc/db', source: 'secret', name: 'db', files: data.secret.db! },
    ],
    imageSecret: 'registry-creds',
    imagePullCredentials: { server: 'icr.io', username: 'iamapikey', password: 'pull-password-xyz' },
    command: ['/bin/app'],
    args: ['--flag', 'value'],
    runAsUser: 1001,
  });
}

const ctx = { namespace: 'cejobs-p', owner: 'cejobs' };

describe('kubernetes objects of an attempt (validated against the Kubernetes schemas)', () => {
  it('a minimal pod is a valid Pod with the labels, names and resources', () => {
    const pod = podOf(baseSpec(), ctx);
    new Pod(pod as never).validate();
    expect(pod.metadata!.name).toBe(`ce-${RUN}-7-1-0`);
    expect(pod.metadata!.labels).toMatchObject({
      'cejobs.dev/project': '0f9e8d7c-6b5a-4321-8765-fedcba987654',
      'cejobs.dev/run': RUN,
      'cejobs.dev/index': '7',
      'cejobs.dev/retry': '1',
      'cejobs.dev/attempt-id': `${RUN}.7.1.0`,
      'cejobs.dev/owner': 'cejobs',
      'app.kubernetes.io/managed-by': 'cejobs',
    });
    const c = pod.spec!.containers[0]!;
    expect(c.name).toBe('myjob');
    expect(c.resources).toEqual({
      requests: { cpu: '125m', memory: '250000000', 'ephemeral-storage': '400000000' },
      limits: { cpu: '125m', memory: '250000000', 'ephemeral-storage': '400000000' },
    });
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.spec!.hostname).toBe('myrun-7-1');
    expect(c.command).toBeUndefined();
    expect(c.args).toBeUndefined();
    expect(c.env).toEqual([
      { name: 'CE_JOB', value: 'myjob' },
      { name: 'JOB_INDEX', value: '7' },
      { name: 'HOSTNAME', value: 'myrun-7-1' },
    ]);
  });

  it('references, mounts, pull secret, command and user: valid objects, no secret value in the pod', () => {
    const spec = specWithReferences();
    const pod = podOf(spec, ctx);
    new Pod(pod as never).validate();
    const json = JSON.stringify(pod);
    expect(json).not.toContain(SECRET_VALUE);
    expect(json).not.toContain('pull-password-xyz');
    const c = pod.spec!.containers[0]!;
    expect(c.command).toEqual(['/bin/app']);
    expect(c.args).toEqual(['--flag', 'value']);
    const env = Object.fromEntries(c.env!.map((e) => [e.name, e]));
    // Code Engine's precedence, decided by the domain: literal > key reference > full reference.
    expect(env.USER).toEqual({ name: 'USER', value: 'literal-wins' });
    expect(env.APP_MODE).toEqual({ name: 'APP_MODE', valueFrom: { configMapKeyRef: { name: 'ce-cm-app', key: 'LEVEL' } } });
    expect(env.APP_LEVEL).toEqual({ name: 'APP_LEVEL', valueFrom: { configMapKeyRef: { name: 'ce-cm-app', key: 'LEVEL' } } });
    expect(env.DB_PASSWORD).toEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'ce-secret-db', key: 'PASSWORD' } } });
    expect(env.PASSWORD).toEqual({ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'ce-secret-db', key: 'PASSWORD' } } });
    // Every variable once: Kubernetes' own ordering rules never decide anything.
    expect(new Set(c.env!.map((e) => e.name)).size).toBe(c.env!.length);
    expect(pod.spec!.volumes).toEqual([
      { name: 'mount-0', configMap: { name: 'ce-cm-app', defaultMode: 0o444 } },
      { name: 'mount-1', secret: { secretName: 'ce-secret-db', defaultMode: 0o440 } },
    ]);
    expect(c.volumeMounts).toEqual([
      { name: 'mount-0', mountPath: '/etc/app', readOnly: true },
      { name: 'mount-1', mountPath: '/etc/db', readOnly: true },
    ]);
    expect(pod.spec!.imagePullSecrets).toEqual([{ name: 'ce-pull-registry-creds' }]);
    expect(pod.spec!.securityContext).toEqual({ runAsUser: 1001, fsGroup: 1001 });
  });

  it('config maps and secrets become valid ConfigMaps and Secrets with the complete data', () => {
    const objects = configObjectsOf(specWithReferences(), 'cejobs-p');
    expect(objects.map((o) => `${o.kind}/${o.metadata!.name}`)).toEqual(['ConfigMap/ce-cm-app', 'Secret/ce-secret-db']);
    const [cm, secret] = objects;
    new ConfigMap(cm as never).validate();
    new Secret(secret as never).validate();
    expect((cm as { data: Record<string, string> }).data).toEqual({ MODE: 'fast', LEVEL: 'debug' });
    const sdata = (secret as { data: Record<string, string> }).data;
    expect(Buffer.from(sdata.PASSWORD!, 'base64').toString()).toBe(SECRET_VALUE);
    expect(secret!.metadata!.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cejobs', 'cejobs.dev/project': specWithReferences().projectId });
  });

  it('in a namespace every project shares, mirrors are named per project and the pod refers to its own', () => {
    const a = specWithReferences();
    const b = { ...specWithReferences(), projectId: 'another-project' };
    const names = (spec: InstanceSpec, shared: boolean) => [
      ...configObjectsOf(spec, 'jobs', shared).map((o) => o.metadata!.name!),
      pullSecretOf(spec, 'jobs', shared)!.metadata!.name!,
    ];
    // A namespace per project: the names of the objects alone.
    expect(names(a, false)).toEqual(['ce-cm-app', 'ce-secret-db', 'ce-pull-registry-creds']);
    expect(names(b, false)).toEqual(names(a, false));
    // Shared: a hash of the project's id in front of the name, different per project.
    const scopeA = mirrorScopeOf(a.projectId, true)!;
    expect(scopeA).toMatch(/^[0-9a-f]{10}$/);
    expect(names(a, true)).toEqual([`ce-cm-${scopeA}-app`, `ce-secret-${scopeA}-db`, `ce-pull-${scopeA}-registry-creds`]);
    expect(names(b, true).filter((n) => names(a, true).includes(n))).toEqual([]);
    for (const o of [...configObjectsOf(a, 'jobs', true), pullSecretOf(a, 'jobs', true)!]) new (o.kind === 'ConfigMap' ? ConfigMap : Secret)(o as never).validate();
    const pod = podOf(a, { ...ctx, namespace: 'jobs', shared: true });
    new Pod(pod as never).validate();
    const refs = [
      ...pod.spec!.containers[0]!.env!.flatMap((e) => [e.valueFrom?.configMapKeyRef?.name, e.valueFrom?.secretKeyRef?.name]),
      ...pod.spec!.volumes!.flatMap((v) => [v.configMap?.name, v.secret?.secretName]),
      ...pod.spec!.imagePullSecrets!.map((r) => r.name),
    ].filter((n): n is string => !!n);
    expect(new Set(refs)).toEqual(new Set(names(a, true)));
  });

  it('image_secret becomes a valid kubernetes.io/dockerconfigjson Secret', () => {
    const s = pullSecretOf(specWithReferences(), 'cejobs-p')!;
    new Secret(s as never).validate();
    expect(s.type).toBe('kubernetes.io/dockerconfigjson');
    const config = JSON.parse(Buffer.from(s.data!['.dockerconfigjson']!, 'base64').toString()) as { auths: Record<string, { username: string; password: string; auth: string }> };
    expect(config.auths['icr.io']).toMatchObject({ username: 'iamapikey', password: 'pull-password-xyz' });
    expect(Buffer.from(config.auths['icr.io']!.auth, 'base64').toString()).toBe('iamapikey:pull-password-xyz');
    expect(pullSecretOf(baseSpec(), 'ns')).toBeUndefined();
  });

  it('a spec without configObjects still references, with data from mounts and resolved values', () => {
    const spec = specWithReferences();
    delete spec.configObjects;
    const objects = configObjectsOf(spec, 'ns');
    expect(objects).toHaveLength(2);
    expect(JSON.stringify(podOf(spec, ctx))).not.toContain(SECRET_VALUE);
  });

  it('label values and names stay valid when the inputs are long or odd', () => {
    const long = 'x'.repeat(100);
    const v = labelValueOf(long);
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
    expect(labelValueOf(long)).toBe(v); // deterministic
    expect(labelValueOf('-odd value!')).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(podNameOf(`${'a'.repeat(80)}.0.0.0`).length).toBeLessThanOrEqual(63);
    expect(mirrorNameOf('secret', 'My_Secret')).toMatch(/^ce-secret-[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(namespaceOf('cejobs-{project}', 'Default')).toBe('cejobs-default');
    expect(namespaceOf('jobs', 'anything')).toBe('jobs');
    expect(namespaceOf('cejobs-{project}', 'p'.repeat(70)).length).toBeLessThanOrEqual(63);
    const pod = podOf(baseSpec({ attemptId: `${'r'.repeat(70)}.1.2.3`, runId: 'r'.repeat(70), instanceName: 'N'.repeat(70), containerName: 'Not_A_Label' }), ctx);
    new Pod(pod as never).validate();
    expect(pod.spec!.hostname).toBeUndefined();
    expect(pod.spec!.containers[0]!.name).toBe('job');
    for (const value of Object.values(pod.metadata!.labels!)) expect(value.length).toBeLessThanOrEqual(63);
  });
});
