/**
 * The persisted handle of a process-driver attempt. Only a hint: `recover` asks the launcher,
 * which knows attempts by id.
 */
import type { AttemptHandle } from '../driver.js';

export const PROCESS_HANDLE_VERSION = 1;

export interface ProcessHandleData {
  /** Main pid of the attempt (0 when it never ran). */
  pid: number;
  /** Its process group (= session) id. */
  pgid: number;
  /** Epoch ms when it was spawned. */
  startedAt: number;
  /** The launcher that ran it. */
  launcherPid: number;
}

export interface ProcessHandle extends AttemptHandle {
  driver: 'process';
  version: typeof PROCESS_HANDLE_VERSION;
  data: ProcessHandleData & Record<string, unknown>;
}

export function makeHandle(data: ProcessHandleData): ProcessHandle {
  return { driver: 'process', version: PROCESS_HANDLE_VERSION, data: { ...data } };
}
