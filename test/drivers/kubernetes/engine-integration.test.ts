/**
 * The engine with the kubernetes driver over the in-memory API: a 3-index run whose env refers
 * to a secret runs as 3 pods that refer to a mirrored Secret (never its value), and completes
 * when the pods do. Checks the engine ↔ driver wiring (envSources, exits, release deleting pods).
 * In a namespace every project shares, two projects' secrets of one name are two Secrets.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesDriver } from '../../../src/drivers/kubernetes/driver.js';
import { mirrorNameOf, mirrorScopeOf } from '../../../src/drivers/kubernetes/pod-spec.js';
import { Engine } from '../../../src/engine/engine.js';
import { waitFor } from '../../conformance/driver-conformance.js';
import { FakeKubeApi, running, terminated } from './fake-api.js';

describe('engine + kubernetes driver (in-memory API)', () => {
  let engine: Engine | undefined;
  let home: string | undefined;
  afterEach(async () => {
    await engine?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('runs a 3-index run as 3 pods referring to a mirrored secret, and completes', async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-k8s-engine-'));
    const api = new FakeKubeApi();
    const driver = await createKubernetesDriver({ namespace: 'jobs', sweepMs: 5 }, { api });
    const e = (engine = await Engine.open({ home, driver, secretKey: crypto.randomBytes(32), warn: () => {}, settings: { syncBatchMs: 0 } }));
    /** A secret `db` in `project` and a run of `indices` whose DB_PASSWORD refers to it. */
    const runWithSecret = (project: string, run: string, indices: string, password: string) => {
      e.createSecret(project, { name: 'db', format: 'generic', data: { PASSWORD: password } });
      e.submitRun(project, {
        name: run,
        image_reference: 'busybox:1.36',
        scale_array_spec: indices,
        run_env_variables: [{ type: 'secret_key_reference', name: 'DB_PASSWORD', reference: 'db', key: 'PASSWORD' }],
      });
    };
    runWithSecret('default', 'r1', '0-2', 'very-secret-pw');
    await waitFor('3 pods', () => api.created.length === 3);
    // 'jobs' holds every project's pods: the mirror's name carries the project.
    const mirror = mirrorNameOf('secret', 'db', mirrorScopeOf(engine.getProject('default').id, true));
    expect(mirror).toMatch(/^ce-secret-[0-9a-f]{10}-db$/);
    expect([...api.secrets.keys()]).toEqual([`jobs/${mirror}`]);
    for (const pod of api.pods.values()) {
      expect(JSON.stringify(pod)).not.toContain('very-secret-pw');
      const env = pod.spec!.containers[0]!.env!;
      expect(env.find((e) => e.name === 'DB_PASSWORD')).toEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: mirror, key: 'PASSWORD' } } });
      expect(env.find((e) => e.name === 'JOB_INDEX')?.value).toBe(pod.metadata!.labels!['cejobs.dev/index']);
    }
    for (const pod of [...api.pods.values()]) {
      api.setStatus('jobs', pod.metadata!.name!, running());
      api.setStatus('jobs', pod.metadata!.name!, terminated(0));
    }
    const run = await engine.waitForRun('default', 'r1');
    expect(run.status).toBe('completed');
    // The engine released every attempt: the pods are deleted.
    await waitFor('the pods deleted', () => api.pods.size === 0);

    // Another project's secret `db`, with other values: its own Secret; the first is untouched.
    const other = engine.createProject('other');
    runWithSecret('other', 'r2', '0', 'other-pw');
    await waitFor('the other project\'s pod', () => api.created.length === 4);
    const otherMirror = mirrorNameOf('secret', 'db', mirrorScopeOf(other.id, true));
    expect(otherMirror).not.toBe(mirror);
    expect([...api.secrets.keys()].sort()).toEqual([`jobs/${mirror}`, `jobs/${otherMirror}`].sort());
    const decoded = (name: string) => Buffer.from(api.secrets.get(`jobs/${name}`)!.data!.PASSWORD!, 'base64').toString();
    expect(decoded(mirror)).toBe('very-secret-pw');
    expect(decoded(otherMirror)).toBe('other-pw');
    const [pod] = [...api.pods.values()];
    expect(pod!.spec!.containers[0]!.env!.find((e) => e.name === 'DB_PASSWORD')).toEqual({
      name: 'DB_PASSWORD',
      valueFrom: { secretKeyRef: { name: otherMirror, key: 'PASSWORD' } },
    });

    // Deleting a secret deletes its mirrors (and its pull Secret's name); the other project's stays.
    engine.deleteSecret('default', 'db');
    await engine.settle();
    expect([...api.secrets.keys()]).toEqual([`jobs/${otherMirror}`]);
    const scope = mirrorScopeOf(engine.getProject('default').id, true);
    expect(api.removals).toEqual([`Secret/${mirror}`, `Secret/ce-pull-${scope}-db`]);
    // Deleting a project deletes the mirrors of its config maps and secrets.
    engine.createConfigMap('other', { name: 'settings', data: { MODE: 'fast' } });
    api.removals.length = 0;
    engine.deleteProject('other');
    await engine.settle();
    const otherScope = mirrorScopeOf(other.id, true);
    expect(api.removals).toEqual([`ConfigMap/ce-cm-${otherScope}-settings`, `Secret/${otherMirror}`, `Secret/ce-pull-${otherScope}-db`]);
    expect(api.secrets.size).toBe(0);
  });
});
