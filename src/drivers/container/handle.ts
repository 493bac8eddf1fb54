/**
 * The persisted handle of a container-driver attempt. The container's name (and its labels)
 * identify the attempt, so the handle is only needed to find the exit record of an attempt
 * whose container never existed (a failed pull): it carries `workDir`.
 */
import type { AttemptHandle } from '../driver.js';

export const CONTAINER_HANDLE_VERSION = 1;

export interface ContainerHandleData {
  /** `cejobs-<attemptId with dots replaced>`. */
  containerName: string;
  /** Engine id of the container; empty when none was created (pull failed). */
  containerId: string;
  engine: 'podman' | 'docker';
  workDir: string;
  logPath: string;
}

export interface ContainerHandle extends AttemptHandle {
  driver: 'container';
  version: typeof CONTAINER_HANDLE_VERSION;
  data: ContainerHandleData & Record<string, unknown>;
}

export function makeHandle(data: ContainerHandleData): ContainerHandle {
  return { driver: 'container', version: CONTAINER_HANDLE_VERSION, data: { ...data } };
}

/** The handle's data when it is a container handle of a known version, else `undefined`. */
export function parseHandle(handle: AttemptHandle | undefined): ContainerHandleData | undefined {
  if (!handle || handle.driver !== 'container' || handle.version !== CONTAINER_HANDLE_VERSION) return undefined;
  const d = handle.data;
  if (typeof d.containerName !== 'string' || typeof d.workDir !== 'string' || typeof d.logPath !== 'string') return undefined;
  return {
    containerName: d.containerName,
    containerId: typeof d.containerId === 'string' ? d.containerId : '',
    engine: d.engine === 'docker' ? 'docker' : 'podman',
    workDir: d.workDir,
    logPath: d.logPath,
  };
}
