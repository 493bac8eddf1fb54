/**
 * deploy/kubernetes: every manifest validated against the Kubernetes schemas
 * (`kubernetes-models`), the RBAC rules checked against what the driver calls
 * (`REQUIRED_PERMISSIONS`), and the Deployment's shape (one replica, Recreate, the PVC as the
 * state home, the service account, the real CLI entry point).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { NAMESPACE_PERMISSIONS, REQUIRED_PERMISSIONS } from '../../../src/drivers/kubernetes/api.js';

const DIR = path.resolve(import.meta.dirname, '../../../deploy/kubernetes');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  Namespace,
  ServiceAccount,
  Role,
  RoleBinding,
  ClusterRole,
  ClusterRoleBinding,
  PersistentVolumeClaim,
  Deployment,
  Service,
};

function load(file: string): Obj[] {
  return parseAllDocuments(fs.readFileSync(path.join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJSON() as Obj;
  });
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
function grants(rules: Rule[], resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes('') && r.resources.includes(resource) && r.verbs.includes(verb));
}

describe('deploy/kubernetes manifests', () => {
  const all = [...load('cejobs.yaml'), ...load('rbac-namespace-per-project.yaml')];

  it('every object is valid against the Kubernetes schemas', () => {
    expect(all.map((o) => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Namespace', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'].sort(),
    );
    for (const o of all) {
      const Model = MODELS[o.kind];
      expect(Model, o.kind).toBeDefined();
      new Model!(o as never).validate();
    }
  });

  it('the Role grants what the driver calls; the ClusterRole also namespaces', () => {
    const role = all.find((o) => o.kind === 'Role')!;
    const cluster = all.find((o) => o.kind === 'ClusterRole')!;
    for (const p of REQUIRED_PERMISSIONS) {
      for (const verb of p.verbs) {
        expect(grants(role.rules as Rule[], p.resource, verb), `Role: ${verb} ${p.resource}`).toBe(true);
        expect(grants(cluster.rules as Rule[], p.resource, verb), `ClusterRole: ${verb} ${p.resource}`).toBe(true);
      }
    }
    for (const verb of NAMESPACE_PERMISSIONS.verbs) expect(grants(cluster.rules as Rule[], 'namespaces', verb)).toBe(true);
    // Minimal: nothing beyond what the driver uses.
    const granted = (role.rules as Rule[]).flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}`))).sort();
    const needed = REQUIRED_PERMISSIONS.flatMap((p) => p.verbs.map((v) => `${v} ${p.resource}`)).sort();
    expect(granted).toEqual(needed);
  });

  it('the Deployment: one replica, Recreate, the state home on the PVC, the service account, the CLI server', () => {
    const d = all.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { replicas: number; strategy: { type: string }; template: { spec: { serviceAccountName: string; containers: { args: string[]; env: { name: string; value: string }[]; volumeMounts: { mountPath: string }[] }[]; volumes: { persistentVolumeClaim?: { claimName: string } }[] } } };
    };
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.type).toBe('Recreate');
    const pod = d.spec.template.spec;
    expect(pod.serviceAccountName).toBe(all.find((o) => o.kind === 'ServiceAccount')!.metadata.name);
    const c = pod.containers[0]!;
    expect(c.args).toEqual(['server', '--host', '0.0.0.0', '--port', '8765', '--driver', 'kubernetes']);
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    expect(env.CEJOBS_HOME).toBe(c.volumeMounts[0]!.mountPath);
    expect(env.CEJOBS_K8S_NAMESPACE).toBe(all.find((o) => o.kind === 'Role')!.metadata.namespace);
    expect(pod.volumes[0]!.persistentVolumeClaim!.claimName).toBe(all.find((o) => o.kind === 'PersistentVolumeClaim')!.metadata.name);
  });

  it('the Dockerfile builds with npm ci and npm run build and starts the real CLI entry point', () => {
    const text = fs.readFileSync(path.join(DIR, 'Dockerfile'), 'utf8');
    expect(text).toMatch(/FROM node:20/);
    expect(text).toContain('npm ci');
    expect(text).toContain('npm run build');
    const pkg = JSON.parse(fs.readFileSync(path.resolve(DIR, '../../package.json'), 'utf8')) as { bin: { ce: string } };
    expect(text).toContain(`/app/${pkg.bin.ce}`);
    expect(text).toContain('["server", "--host", "0.0.0.0", "--port", "8765", "--driver", "kubernetes"]');
  });
});
