/**
 * The engine with the kubernetes driver over the in-memory API: a 3-index run whose env refers
 * to a secret runs as 3 pods that refer to a mirrored Secret (never its value), and completes
 * when the pods do. Checks the engine ↔ driver wiring (envSources, exits, release deleting pods).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesDriver } from '../../../src/drivers/kubernetes/driver.js';
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
    engine = await Engine.open({ home, driver, secretKey: crypto.randomBytes(32), warn: () => {}, settings: { syncBatchMs: 0 } });
    engine.createSecret('default', { name: 'db', format: 'generic', data: { PASSWORD: 'very-secret-pw' } });
    engine.submitRun('default', {
      name: 'r1',
      image_reference: 'busybox:1.36',
      scale_array_spec: '0-2',
      run_env_variables: [{ type: 'secret_key_reference', name: 'DB_PASSWORD', reference: 'db', key: 'PASSWORD' }],
    });
    await waitFor('3 pods', () => api.created.length === 3);
    expect([...api.secrets.keys()]).toEqual(['jobs/ce-secret-db']);
    for (const pod of api.pods.values()) {
      expect(JSON.stringify(pod)).not.toContain('very-secret-pw');
      const env = pod.spec!.containers[0]!.env!;
      expect(env.find((e) => e.name === 'DB_PASSWORD')).toEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'ce-secret-db', key: 'PASSWORD' } } });
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
  });
});
