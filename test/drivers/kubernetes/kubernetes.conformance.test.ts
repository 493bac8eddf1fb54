/**
 * The driver conformance suite against a real cluster, when `KUBECONFIG` names one (kind, k3s,
 * any cluster; see docs/kubernetes.md). Otherwise reported as skipped with the reason.
 *
 * - Namespace: `CEJOBS_K8S_TEST_NAMESPACE` (default `cejobs-conformance`, created when missing).
 * - Image: `CEJOBS_K8S_TEST_IMAGE` (default `busybox:1.36`; load it into kind with
 *   `kind load docker-image busybox:1.36` when the cluster cannot pull).
 * - The portable argv is split like a real image's: argv[0] as `command`, the rest as `args`.
 */
import { describe, it } from 'vitest';
import { createKubernetesDriver } from '../../../src/drivers/kubernetes/driver.js';
import { runDriverConformance } from '../../conformance/driver-conformance.js';

const kubeconfig = process.env.KUBECONFIG?.trim();

if (!kubeconfig) {
  describe('driver conformance: kubernetes', () => {
    it.skip('skipped: needs KUBECONFIG naming a cluster (no cluster reachable here); see docs/kubernetes.md', () => {});
  });
} else {
  runDriverConformance(
    'kubernetes',
    // The directory scopes the driver (owner label), so a new driver on it is a restarted server.
    (dir) =>
      createKubernetesDriver({
        kubeconfig,
        namespace: process.env.CEJOBS_K8S_TEST_NAMESPACE?.trim() || 'cejobs-conformance',
        createNamespaces: true,
        owner: dir,
        imagePullTimeoutMs: 60_000,
      }),
    {
      image: process.env.CEJOBS_K8S_TEST_IMAGE?.trim() || 'busybox:1.36',
      commandFor: (argv) => ({ command: argv.slice(0, 1), args: argv.slice(1) }),
      waitMs: 50_000,
      skip: [{ reason: 'the pod log API merges stdout and stderr into one stream', tests: ['streams'] }],
    },
  );
}
