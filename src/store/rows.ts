/**
 * What the store keeps, in the engine's own terms (times as epoch ms, specs as domain types).
 * These are not API resources: the engine maps them to `Job`, `JobRun`, `Instance`, `RunEvent`.
 */
import type { AttemptExit, AttemptHandle } from '../drivers/driver.js';
import type { SecretFormat } from '../domain/config.js';
import type { StopReason } from '../domain/policy.js';
import type {
  EventType,
  InstanceState,
  JobRunStatus,
  ProjectStatus,
  RuntimeSpec,
} from '../domain/types.js';

export interface ProjectRow {
  id: string;
  name: string;
  region: string;
  subdomain: string;
  status: ProjectStatus;
  createdMs: number;
}

export interface JobRow {
  id: string;
  projectId: string;
  name: string;
  createdMs: number;
  entityTag: string;
  spec: RuntimeSpec;
}

export interface RunRow {
  seq: number;
  id: string;
  projectId: string;
  name: string;
  jobName?: string;
  createdMs: number;
  spec: RuntimeSpec;
  arraySizeOverride?: number;
  indexCount: number;
  status: JobRunStatus;
  /** `status_details` as stored JSON: parsed only when a client reads the run. */
  statusDetailsJson: string;
  startMs?: number;
  completionMs?: number;
  deleting: boolean;
}

/** A pending instance as admission first sees it: identity and size. */
export type PendingInstance = Pick<InstanceRow, 'runSeq' | 'index' | 'retry' | 'cpuMillis' | 'memoryBytes'>;

export interface InstanceRow {
  runSeq: number;
  index: number;
  retry: number;
  name: string;
  state: InstanceState;
  /** Number of the current (or last) attempt; -1 before the first start. */
  attempt: number;
  restarts: number;
  /** Consecutive failures, for backoff. */
  failures: number;
  cpuMillis: number;
  memoryBytes: number;
  createdMs: number;
  firstStartedMs?: number;
  startedMs?: number;
  finishedMs?: number;
  notBeforeMs?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  stopReason?: StopReason;
  driver?: string;
  handle?: AttemptHandle;
  /** Exit of the current attempt, recorded as soon as the driver reports it, not yet decided. */
  observedExit?: AttemptExit;
}

export interface EventRow {
  id: number;
  runSeq: number;
  instanceName?: string;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstMs: number;
  lastMs: number;
}

/** A page of a list, with the token of the next page when there is one. */
export interface Page<T> {
  items: T[];
  next?: string;
}

export interface ConfigMapRow {
  id: string;
  projectId: string;
  name: string;
  createdMs: number;
  entityTag: string;
  data: Record<string, string>;
}

/** A secret as stored: its data only sealed (see engine/secret-box.ts), its key names in clear. */
export interface SecretRow {
  id: string;
  projectId: string;
  name: string;
  createdMs: number;
  entityTag: string;
  format: SecretFormat;
  /** Names of the keys of `data` (not their values), in order. */
  keys: string[];
  /** `v1:<nonce>:<ciphertext+tag>` of the JSON of `data`. */
  sealed: string;
}
