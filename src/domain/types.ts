/**
 * Resource types of cejobs, with Code Engine API v2 field names (reference §5.3, §5.4).
 *
 * Terminology
 * - **project**: a namespace; every name below is unique inside one project.
 * - **job**: a reusable template for batch work (`Job`).
 * - **job run**: one execution of a job, or a standalone execution (`JobRun`). It runs one
 *   **index** per entry of `scale_array_spec`.
 * - **instance**: one attempt of one index, named `<jobrun>-<index>-<retry>`. A task index that
 *   fails and is retried gets a new instance (retry + 1); a daemon instance that crashes is
 *   restarted in place and its `restarts` counter grows.
 * - **attempt**: one start of an instance by a driver. An instance has one attempt per start
 *   (daemon restarts, or a rerun after the instance was lost while the server was down).
 * - **event**: a recorded state change of a run or an instance (time, type, reason, message, count).
 *
 * These are plain data (JSON-serialisable). They hold no I/O and no driver detail.
 */

/** `task`: finish, with retries and a deadline. `daemon`: run forever, restarted on failure. */
export type RunMode = 'task' | 'daemon';
export const RUN_MODES: readonly RunMode[] = ['task', 'daemon'];

/** How an environment variable gets its value (reference §5.3 EnvVar). */
export type EnvVarType =
  | 'literal'
  | 'config_map_full_reference'
  | 'secret_full_reference'
  | 'config_map_key_reference'
  | 'secret_key_reference';
export const ENV_VAR_TYPES: readonly EnvVarType[] = [
  'literal',
  'config_map_full_reference',
  'secret_full_reference',
  'config_map_key_reference',
  'secret_key_reference',
];

/**
 * One entry of `run_env_variables`.
 * - `literal`: `name` + `value`.
 * - `*_full_reference`: `reference` (config map / secret name), optional `prefix` for every key.
 * - `*_key_reference`: `name` (the variable), `reference`, `key`.
 */
export interface EnvVar {
  type: EnvVarType;
  name?: string;
  value?: string;
  reference?: string;
  key?: string;
  prefix?: string;
}

export type VolumeMountType = 'config_map' | 'secret' | 'persistent_data_store';
export const VOLUME_MOUNT_TYPES: readonly VolumeMountType[] = ['config_map', 'secret', 'persistent_data_store'];

/** One entry of `run_volume_mounts` (reference §5.3 VolumeMount). */
export interface VolumeMount {
  type: VolumeMountType;
  reference: string;
  mount_path: string;
  sub_path?: string;
  read_only?: boolean;
}

export type ServiceAccount = 'default' | 'manager' | 'reader' | 'writer' | 'none';
export const SERVICE_ACCOUNTS: readonly ServiceAccount[] = ['default', 'manager', 'reader', 'writer', 'none'];

/**
 * The runtime and scale fields a job and a job run share. A run inherits them from its job
 * (`job_name`) and may override them at submit (except the image).
 *
 * `scale_max_execution_time` and `scale_retry_limit` exist only in `task` mode; daemon mode
 * rejects them on input and leaves them out of the resource.
 */
export interface RuntimeSpec {
  /** OCI image. Optional on the process driver (recorded, not pulled). */
  image_reference?: string;
  /** Name of a registry secret with pull credentials. */
  image_secret?: string;
  run_mode: RunMode;
  /** Replaces the image ENTRYPOINT; on the process driver the program and its leading args. */
  run_commands: string[];
  /** Replaces the image CMD; appended to `run_commands` on the process driver. */
  run_arguments: string[];
  run_env_variables: EnvVar[];
  run_volume_mounts: VolumeMount[];
  run_as_user: number;
  run_service_account: ServiceAccount;
  run_compute_resource_token_enabled: boolean;
  /** Array spec such as `"0-4,7"`; default `"0"`. */
  scale_array_spec: string;
  /** vCPU as a decimal string, e.g. `"0.125"`, `"1"`. */
  scale_cpu_limit: string;
  /** Memory quantity, e.g. `"4G"`, `"512M"`. */
  scale_memory_limit: string;
  scale_ephemeral_storage_limit: string;
  /** Seconds, task mode only. */
  scale_max_execution_time?: number;
  /** Reruns of a failed index, task mode only. */
  scale_retry_limit?: number;
}

/** The fields of `RuntimeSpec`, in the order they are shown. */
export const RUNTIME_FIELDS = [
  'image_reference',
  'image_secret',
  'run_mode',
  'run_commands',
  'run_arguments',
  'run_env_variables',
  'run_volume_mounts',
  'run_as_user',
  'run_service_account',
  'run_compute_resource_token_enabled',
  'scale_array_spec',
  'scale_cpu_limit',
  'scale_memory_limit',
  'scale_ephemeral_storage_limit',
  'scale_max_execution_time',
  'scale_retry_limit',
] as const satisfies readonly (keyof RuntimeSpec)[];
export type RuntimeField = (typeof RUNTIME_FIELDS)[number];

export type ProjectStatus = 'active' | 'deleting';

export interface Project {
  id: string;
  name: string;
  region: string;
  /** Stands in for Code Engine's project subdomain (`CE_SUBDOMAIN`). */
  subdomain: string;
  status: ProjectStatus;
  resource_type: 'project_v2';
  created_at: string;
}

export interface Job extends RuntimeSpec {
  id: string;
  name: string;
  project_id: string;
  region: string;
  resource_type: 'job_v2';
  created_at: string;
  /** Changes on every update; `If-Match` compares against it. */
  entity_tag: string;
  /** The build the job was made from (read-only; set through `build_run`). */
  build?: string;
  /**
   * The build run whose `output_image` the job runs. Given on create or update (extension), the
   * job takes that image once the run succeeded; `null` on update detaches the job.
   */
  build_run?: string;
}

/** What a client sends to create a job: `name` plus any runtime field (defaults fill the rest). */
export type JobPrototype = { name: string } & Partial<RuntimeSpec>;
/** A merge patch of a job's runtime fields. */
export type JobPatch = Partial<RuntimeSpec>;

export type JobRunStatus = 'pending' | 'running' | 'completed' | 'failed';
export const JOB_RUN_STATUSES: readonly JobRunStatus[] = ['pending', 'running', 'completed', 'failed'];

/** Status of one array index, as `indices_details[i].status` (reference §3.1). */
export type IndexStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'unknown';

export interface IndexDetails {
  status: IndexStatus;
  /** Retries consumed (task) — the `JOB_INDEX_RETRY_COUNT` of the latest attempt. */
  retries: number;
  /** Daemon restarts of the index's instance (cejobs extension; 0 in task mode). */
  restarts?: number;
  last_failure_reason?: string;
  started_at?: string;
  finished_at?: string;
}

/** Code Engine's `status_details` of a job run (reference §3.2). */
export interface JobRunStatusDetails {
  start_time?: string;
  completion_time?: string;
  requested: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  unknown: number;
  pending_indices?: string;
  running_indices?: string;
  succeeded_indices?: string;
  failed_indices?: string;
  indices_details: Record<string, IndexDetails>;
}

export interface JobRun extends RuntimeSpec {
  id: string;
  name: string;
  /** The job it was submitted from; absent for a standalone run. */
  job_name?: string;
  project_id: string;
  region: string;
  resource_type: 'job_run_v2';
  created_at: string;
  /** Value of `JOB_ARRAY_SIZE` instead of the index count (reference §1.4). */
  scale_array_size_variable_override?: number;
  status: JobRunStatus;
  status_details: JobRunStatusDetails;
}

/** What a client sends to submit a run: a job reference and/or runtime overrides. */
export type JobRunPrototype = {
  name?: string;
  job_name?: string;
  scale_array_size_variable_override?: number;
} & Partial<RuntimeSpec>;

/**
 * The lifecycle state of an instance; see `instance-state.ts` for the machine.
 */
export type InstanceState =
  | 'pending'
  | 'starting'
  | 'running'
  | 'backoff'
  | 'stopping'
  | 'succeeded'
  | 'failed'
  | 'stopped';

export interface Instance {
  /** `<jobrun>-<index>-<retry>`; also the instance's `HOSTNAME`. */
  name: string;
  project_id: string;
  job_run_name: string;
  index: number;
  retry: number;
  state: InstanceState;
  /** Daemon restarts of this instance. */
  restarts: number;
  /** Starts of this instance (restarts + reruns after it was lost). */
  attempts: number;
  exit_code?: number;
  last_failure_reason?: string;
  message?: string;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  /** Which driver runs it. */
  driver?: string;
}

export type EventType = 'Normal' | 'Warning';

/**
 * Why an event was recorded. Run events: `Created` (submitted), `Completed`, `Failed` (the run),
 * `DeadlineExceeded`. Instance events: `Started`, `Succeeded`, `Failed`, `Retrying` (a new
 * instance for the index), `BackOff` (a daemon restart is waiting), `Restarting` (on request),
 * `Killing` (a stop was requested), `InstanceLost` (rerun without a retry), `Unschedulable`.
 */
export const EVENT_REASONS = [
  'Created',
  'Started',
  'Succeeded',
  'Failed',
  'Retrying',
  'BackOff',
  'Restarting',
  'Killing',
  'InstanceLost',
  'Unschedulable',
  'DeadlineExceeded',
  'Completed',
] as const;
export type EventReason = (typeof EVENT_REASONS)[number];

/** A recorded state change (reference §1.6 events; cejobs keeps them with the run). */
export interface RunEvent {
  id: number;
  project_id: string;
  job_run_name: string;
  /** Instance name, or absent for an event of the run itself. */
  instance_name?: string;
  type: EventType;
  reason: string;
  message: string;
  /** How many times this same event happened in a row. */
  count: number;
  first_timestamp: string;
  last_timestamp: string;
}
