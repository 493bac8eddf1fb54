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

/** Reads a handle back; null when it is not one of ours (wrong driver or version, bad shape). */
export function parseHandle(handle: AttemptHandle | undefined): ProcessHandleData | null {
  if (!handle || handle.driver !== 'process' || handle.version !== PROCESS_HANDLE_VERSION) return null;
  const d = handle.data;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const pid = num(d.pid);
  const pgid = num(d.pgid);
  const startedAt = num(d.startedAt);
  const launcherPid = num(d.launcherPid);
  if (pid === null || pgid === null || startedAt === null || launcherPid === null) return null;
  return { pid, pgid, startedAt, launcherPid };
}
