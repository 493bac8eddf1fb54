/** Loads the cluster's KubeConfig for the kubernetes driver (see config.ts for the options). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CejobsError } from '../../domain/errors.js';
import type { KubernetesDriverOptions } from './config.js';

/**
 * The cluster's KubeConfig: the given one; `in-cluster` or, by default inside a pod
 * (`KUBERNETES_SERVICE_HOST`), the service account's; else a file (`KUBECONFIG`, ~/.kube/config).
 */
export function loadKubeConfig(o: KubernetesDriverOptions, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  if (o.kubeconfig instanceof KubeConfig) return o.kubeconfig;
  const kc = new KubeConfig();
  if (o.kubeconfig === 'in-cluster' || (o.kubeconfig === undefined && env.KUBERNETES_SERVICE_HOST)) kc.loadFromCluster();
  else if (o.kubeconfig !== undefined) kc.loadFromFile(o.kubeconfig);
  else {
    const listed = (env.KUBECONFIG ?? '').split(path.delimiter).filter((f) => f !== '');
    const files = listed.length > 0 ? listed : [path.join(os.homedir(), '.kube', 'config')];
    const present = files.filter((f) => fs.existsSync(f));
    if (present.length === 0) {
      throw new CejobsError('invalid_field', `the kubernetes driver needs a cluster: no kubeconfig at ${files.join(path.delimiter)} (set KUBECONFIG) and not running inside a cluster`);
    }
    // Several files are merged the way kubectl does (the client reads KUBECONFIG itself).
    if (present.length === 1) kc.loadFromFile(present[0]!);
    else kc.loadFromDefault();
  }
  if (o.context) kc.setCurrentContext(o.context);
  if (!kc.getCurrentCluster()) {
    throw new CejobsError('invalid_field', 'the kubernetes driver found no cluster: set KUBECONFIG or run cejobs inside a cluster');
  }
  return kc;
}
