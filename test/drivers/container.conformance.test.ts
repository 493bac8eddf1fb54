/**
 * The driver conformance suite against the container driver, on Podman and on Docker (both
 * started by test/setup/containers.ts when installed; skipped with the reason otherwise).
 * The portable argv is split like a real image's: argv[0] as run_commands (ENTRYPOINT), the
 * rest as run_arguments (CMD).
 */
import { describe, inject, it } from 'vitest';
import { createContainerDriver } from '../../src/drivers/container/driver.js';
import { runDriverConformance } from '../conformance/driver-conformance.js';

const env = inject('containers');

for (const engine of ['podman', 'docker'] as const) {
  const e = env[engine];
  const socketPath = e.socketPath;
  if (!socketPath) {
    describe(`driver conformance: container-${engine}`, () => {
      it.skip(`skipped: ${e.skip ?? 'not available'}`, () => {});
    });
    continue;
  }
  runDriverConformance(
    `container-${engine}`,
    // The directory scopes the driver (owner label), so a new driver on it is a restarted server.
    (dir) => createContainerDriver({ socketPath, engine, owner: dir, pullTimeoutMs: 30_000 }),
    {
      image: env.image,
      commandFor: (argv) => ({ command: argv.slice(0, 1), args: argv.slice(1) }),
    },
  );
}
