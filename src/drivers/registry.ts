/**
 * The one place that knows every driver. The engine only ever sees the `Driver` interface;
 * composition (`server/`) asks this registry for one by name.
 *
 * | name      | runs                                   | module                 |
 * |-----------|----------------------------------------|------------------------|
 * | `process` | host processes, through the launcher   | `process/driver.ts`    |
 * | `container` | Podman/Docker containers (Docker API)  | `container/driver.ts`  |
 * | `kubernetes` | a Pod per attempt (only when named)   | `kubernetes/driver.ts` |
 * | `fake`    | nothing: scripted attempts (tests)     | `fake/driver.ts`       |
 */
import type { Clock } from '../engine/clock.js';
import { systemClock } from '../engine/clock.js';
import type { Driver } from './driver.js';
import { FakeDriver } from './fake/driver.js';
import { createContainerDriver, detectContainerEngine, type ContainerDriverOptions } from './container/driver.js';
import { createProcessDriver, type ProcessDriverOptions } from './process/driver.js';
import type { KubernetesDriverOptions } from './kubernetes/config.js';

export const DRIVER_NAMES = ['process', 'container', 'kubernetes', 'fake'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

export interface DriverSetup {
  /** Directory for the process driver's launcher. */
  launcherDir: string;
  clock?: Clock;
  process?: Omit<ProcessDriverOptions, 'launcherDir'>;
  container?: ContainerDriverOptions;
  kubernetes?: KubernetesDriverOptions;
}

export function isDriverName(name: string): name is DriverName {
  return (DRIVER_NAMES as readonly string[]).includes(name);
}

export async function createDriver(name: DriverName, setup: DriverSetup): Promise<Driver> {
  switch (name) {
    case 'process':
      return createProcessDriver({ launcherDir: setup.launcherDir, ...setup.process });
    case 'container':
      return createContainerDriver(setup.container);
    case 'kubernetes': {
      // Loaded on demand: the Kubernetes client is large and only this driver needs it.
      const { createKubernetesDriver } = await import('./kubernetes/driver.js');
      return createKubernetesDriver(setup.kubernetes);
    }
    case 'fake':
      return new FakeDriver({ clock: setup.clock ?? systemClock });
  }
}

/**
 * The driver a server uses when none is named: `CEJOBS_DRIVER` if set, else `container` when a
 * Docker/Podman socket is configured (`CEJOBS_CONTAINER_SOCKET`, `DOCKER_HOST`, `CONTAINER_HOST`)
 * or found at a standard path and answers, else `process`. `kubernetes` is never chosen on its
 * own: it runs only when named (`CEJOBS_DRIVER=kubernetes`, `--driver kubernetes`).
 */
export async function chooseDriver(env: NodeJS.ProcessEnv): Promise<{ name: DriverName; why: string }> {
  const named = env.CEJOBS_DRIVER?.trim();
  if (named) {
    if (!isDriverName(named)) throw new Error(`CEJOBS_DRIVER=${named} is not a driver; use one of ${DRIVER_NAMES.join(', ')}`);
    return { name: named, why: 'CEJOBS_DRIVER' };
  }
  const socket = env.CEJOBS_CONTAINER_SOCKET?.trim();
  const found = await detectContainerEngine(socket ? { ...env, DOCKER_HOST: `unix://${socket}` } : env);
  if (found) return { name: 'container', why: `${found.engine} answers at ${found.socketPath}` };
  return { name: 'process', why: 'no Docker/Podman socket answers' };
}
