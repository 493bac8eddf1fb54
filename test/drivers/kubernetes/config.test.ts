/**
 * Options of the kubernetes driver: the CEJOBS_K8S_* variables, defaults and refusals, and
 * where the cluster comes from (a kubeconfig file; never a silent localhost default).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsFromEnv, resolveOptions } from '../../../src/drivers/kubernetes/config.js';
import { loadKubeConfig } from '../../../src/drivers/kubernetes/kubeconfig.js';

describe('kubernetes driver options', () => {
  it('reads every CEJOBS_K8S_* variable', () => {
    expect(
      optionsFromEnv({
        CEJOBS_K8S_CONTEXT: 'kind-x',
        CEJOBS_K8S_NAMESPACE: 'jobs',
        CEJOBS_K8S_CREATE_NAMESPACES: 'false',
        CEJOBS_K8S_QPS: '100',
        CEJOBS_K8S_BURST: '200',
        CEJOBS_K8S_MAX_IN_FLIGHT: '50',
        CEJOBS_K8S_UNSCHEDULABLE_AFTER_MS: '1000',
        CEJOBS_K8S_IMAGE_PULL_TIMEOUT_MS: '2000',
        CEJOBS_K8S_OWNER: 'me',
        CEJOBS_K8S_SERVICE_ACCOUNT: 'runner',
        CEJOBS_K8S_MAX_LOG_FOLLOWS: '10',
      }),
    ).toEqual({
      context: 'kind-x',
      namespace: 'jobs',
      createNamespaces: false,
      qps: 100,
      burst: 200,
      maxInFlightPerProject: 50,
      unschedulableAfterMs: 1000,
      imagePullTimeoutMs: 2000,
      owner: 'me',
      serviceAccountName: 'runner',
      maxLogFollows: 10,
    });
    expect(optionsFromEnv({})).toEqual({});
  });

  it('refuses values that are not numbers or booleans, naming the variable', () => {
    expect(() => optionsFromEnv({ CEJOBS_K8S_QPS: 'fast' })).toThrow(/CEJOBS_K8S_QPS=fast is not a number/);
    expect(() => optionsFromEnv({ CEJOBS_K8S_CREATE_NAMESPACES: 'maybe' })).toThrow(/CEJOBS_K8S_CREATE_NAMESPACES/);
    expect(() => resolveOptions({ qps: 0 })).toThrow(/qps must be a positive number/);
  });

  it('defaults: a namespace per project, created; a fixed namespace is not created', () => {
    expect(resolveOptions({})).toMatchObject({ namespace: 'cejobs-{project}', createNamespaces: true, qps: 50, burst: 100, maxInFlightPerProject: 200, owner: 'cejobs', maxLogFollows: 256 });
    expect(resolveOptions({ namespace: 'jobs' }).createNamespaces).toBe(false);
  });

  it('loads a kubeconfig file, and refuses to guess when there is none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-kc-'));
    const file = path.join(dir, 'config');
    fs.writeFileSync(
      file,
      ['apiVersion: v1', 'kind: Config', 'clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]', 'users: [{name: u, user: {token: t}}]', 'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: c, user: u}}]', 'current-context: x'].join('\n'),
    );
    try {
      expect(loadKubeConfig({ kubeconfig: file }, {}).getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
      expect(loadKubeConfig({ context: 'y' }, { KUBECONFIG: file }).getCurrentContext()).toBe('y');
      expect(() => loadKubeConfig({}, { KUBECONFIG: path.join(dir, 'missing') })).toThrow(/no kubeconfig at .*missing/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
