/**
 * Which builder a server uses follows its driver's capabilities, never its name: a driver that
 * runs images from the local container engine gets the `dockerfile` builder on that engine (the
 * one the driver uses: same socket options), one that runs host commands gets the `source`
 * builder, and one that runs images elsewhere (Kubernetes) gets none.
 */
import type { Driver } from '../drivers/driver.js';
import { connectEngine, type EngineKind } from '../drivers/container/engine.js';
import type { Builder } from './builder.js';
import { DockerfileBuilder } from './dockerfile.js';
import { SourceBuilder } from './source.js';

export interface BuilderSetup {
  /** `<state home>/snapshots`. */
  snapshotsDir: string;
  /** The container engine for the dockerfile builder. @default detected like the container driver */
  container?: { socketPath?: string; host?: string; engine?: EngineKind | 'auto' };
}

/** The builder for `driver`, or `undefined` when none can work (no container engine answers). */
export async function createBuilder(driver: Pick<Driver, 'capabilities'>, setup: BuilderSetup): Promise<Builder | undefined> {
  if (!driver.capabilities.runsImages) return new SourceBuilder(setup.snapshotsDir);
  // Built images stay in the local engine's store (nothing is pushed): useless to a driver
  // that runs images elsewhere.
  if (!driver.capabilities.runsLocalImages) return undefined;
  try {
    const conn = await connectEngine(setup.container ?? {});
    return new DockerfileBuilder(conn.docker);
  } catch {
    return undefined;
  }
}
