import { describe, expect, inject, it } from 'vitest';
import { chooseDriver } from '../../src/drivers/registry.js';

const env = inject('containers');

describe('choosing the driver of a server', () => {
  it('takes CEJOBS_DRIVER when it is set, and refuses an unknown name', async () => {
    expect(await chooseDriver({ CEJOBS_DRIVER: 'process', DOCKER_HOST: 'unix:///nonexistent.sock' })).toMatchObject({ name: 'process' });
    await expect(chooseDriver({ CEJOBS_DRIVER: 'vm' })).rejects.toThrow(/CEJOBS_DRIVER=vm is not a driver; use one of process, container, kubernetes, fake/);
  });

  it('falls back to the process driver when no Docker/Podman socket answers', async () => {
    const chosen = await chooseDriver({ DOCKER_HOST: 'unix:///nonexistent/docker.sock', XDG_RUNTIME_DIR: '/nonexistent' });
    expect(chosen.name).toBe('process');
  });

  it.runIf(env.podman.socketPath)('picks the container driver when the configured socket answers', async () => {
    const chosen = await chooseDriver({ CEJOBS_CONTAINER_SOCKET: env.podman.socketPath! });
    expect(chosen).toMatchObject({ name: 'container' });
    expect(chosen.why).toContain(env.podman.socketPath!);
  });
});
