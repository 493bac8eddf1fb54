import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts Podman, Docker and a registry for the container-driver tests (when installed).
    globalSetup: ['test/setup/containers.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Driver tests spawn real processes and a launcher per state home; keep files apart.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
