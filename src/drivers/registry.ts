/**
 * The one place that knows every driver. The engine only ever sees the `Driver` interface;
 * composition (`server/`) asks this registry for one by name.
 *
 * | name      | runs                                   | module                 |
 * |-----------|----------------------------------------|------------------------|
 * | `process` | host processes, through the launcher   | `process/driver.ts`    |
 * | `fake`    | nothing: scripted attempts (tests)     | `fake/driver.ts`       |
 */
import type { Clock } from '../engine/clock.js';
import { systemClock } from '../engine/clock.js';
import type { Driver } from './driver.js';
import { FakeDriver } from './fake/driver.js';
import { createProcessDriver, type ProcessDriverOptions } from './process/driver.js';

export const DRIVER_NAMES = ['process', 'fake'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

export interface DriverSetup {
  /** Directory for the process driver's launcher. */
  launcherDir: string;
  clock?: Clock;
  process?: Omit<ProcessDriverOptions, 'launcherDir'>;
}

export function isDriverName(name: string): name is DriverName {
  return (DRIVER_NAMES as readonly string[]).includes(name);
}

export async function createDriver(name: DriverName, setup: DriverSetup): Promise<Driver> {
  switch (name) {
    case 'process':
      return createProcessDriver({ launcherDir: setup.launcherDir, ...setup.process });
    case 'fake':
      return new FakeDriver({ clock: setup.clock ?? systemClock });
  }
}
