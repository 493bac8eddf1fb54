/**
 * Composition for one machine: the state home, a driver from the registry, and the engine.
 * The only module of the control plane (with the server to come) that reads the environment;
 * the launcher, a separate process, reads its own `CEJOBS_LAUNCHER_*` / `CEJOBS_CGROUP_*`.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { defaultHome } from '../shared/state-home.js';
import { createBuilder } from '../builders/registry.js';
import { createDriver, type DriverName, type DriverSetup } from '../drivers/registry.js';
import { optionsFromEnv as kubernetesOptionsFromEnv } from '../drivers/kubernetes/config.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { StateLayout } from '../engine/layout.js';
import { ensureSecretKey } from './secret-key.js';

export { defaultHome };

export interface LocalEngineOptions extends Partial<Omit<EngineOptions, 'driver'>> {
  /** @default 'process' */
  driver?: DriverName;
  /** Options of the process driver (limit mode, capacity, launcher idle time...). */
  process?: DriverSetup['process'];
  /** Options of the container driver (socket, network, pull timeout...). */
  container?: DriverSetup['container'];
  /** Options of the kubernetes driver (namespace, pacing, timeouts); `CEJOBS_K8S_*` fill the rest. */
  kubernetes?: DriverSetup['kubernetes'];
}

/**
 * The container driver's owner label for a state home: it adopts (and removes) only containers
 * with its own label, so two state homes can share one Docker/Podman engine.
 */
export function containerOwner(home: string): string {
  return `cejobs-${crypto.createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 12)}`;
}

/**
 * Opens cejobs on this machine: the engine on the state home with the process driver (or the
 * one named), recovering whatever was running. `close()` leaves instances running. The secret
 * key is `options.secretKey`, else `ensureSecretKey(home, process.env)` (CEJOBS_SECRET_KEY or
 * `<home>/secret.key`, created at the first start).
 */
export async function openLocalEngine(options: LocalEngineOptions = {}): Promise<Engine> {
  const home = options.home ?? defaultHome();
  const layout = new StateLayout(home);
  const secretKey = options.secretKey ?? ensureSecretKey(home, process.env);
  const socket = process.env.CEJOBS_CONTAINER_SOCKET?.trim();
  const setup: DriverSetup = {
    launcherDir: layout.launcherDir,
    process: options.process,
    container: { owner: containerOwner(home), ...(socket ? { socketPath: socket } : {}), ...options.container },
  };
  // Read only when it runs: a bad CEJOBS_K8S_* value must not stop the other drivers.
  if (options.driver === 'kubernetes') {
    setup.kubernetes = { owner: containerOwner(home), ...kubernetesOptionsFromEnv(process.env), ...options.kubernetes };
  }
  if (options.clock) setup.clock = options.clock;
  const driver = await createDriver(options.driver ?? 'process', setup);
  try {
    const builder = await createBuilder(driver, {
      snapshotsDir: layout.snapshotsDir,
      ...(setup.container ? { container: setup.container } : {}),
    });
    return await Engine.open({ ...options, home, driver, secretKey, ...(builder ? { builder } : {}) });
  } catch (e) {
    await driver.close();
    throw e;
  }
}
