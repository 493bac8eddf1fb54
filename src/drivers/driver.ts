/**
 * The `Driver` contract: how the engine runs **one attempt of one instance** on some runtime
 * (host processes, Podman/Docker containers, Kubernetes pods).
 *
 * A driver is deliberately dumb. Retries, daemon restarts, deadlines, admission, status,
 * events and log retention all belong to the engine and behave the same on every driver. A
 * driver only:
 *
 *   1. starts an attempt from an `InstanceSpec` (`start`),
 *   2. reports how it ended (`subscribe` → `AttemptExit`), at least once, until released,
 *   3. stops it on request: SIGTERM (or the runtime's equivalent), then SIGKILL after a grace
 *      period (`stop`),
 *   4. finds it again after the engine restarted, from the persisted handle or, when the start's
 *      reply was never recorded, from the attempt id alone (`recover`),
 *   5. forgets it once the engine has durably recorded its exit (`release`).
 *
 * Rules every driver follows (the conformance suite in test/conformance checks them):
 * - **Attempt ids are the identity.** `start` is idempotent per `attemptId`: starting an id that
 *   already runs or has ended returns the existing attempt and never starts a second copy.
 *   Runtime objects carry the id (process table of the launcher, container label, pod label).
 * - **Workload failures are exits, not exceptions.** A missing executable, a failed image pull,
 *   an unschedulable pod: `start` resolves and the attempt ends with a `start-failed` outcome.
 *   `start` rejects only when the runtime itself cannot be used (socket gone, launcher dead).
 * - **Exits are delivered at least once** to subscribers, also exits that happened while no
 *   engine listened (the driver keeps them until `release`). Delivery may precede the
 *   resolution of `start` for a very short attempt. The engine de-duplicates.
 * - **Closing never kills.** `close` detaches from the runtime; running attempts keep running
 *   and are found again by `recover` after the next start of the engine.
 * - **Output goes to `spec.logPath`** in the record format of `logs/format.ts` (use
 *   `logs/writer.ts`), live while the attempt runs and complete when its exit is reported.
 * - **No driver type crosses this file.** Handles are opaque JSON the engine persists as is.
 *
 * Lifecycle of one attempt, as seen through this contract:
 *
 *     start(spec) ──▶ running ──(exits | stop())──▶ exited ──(exit delivered)──▶ release()
 *          │                                                      ▲
 *          └──(workload cannot start)─────────────────────────────┘   outcome 'start-failed'
 */
import type { EnvValueSource } from '../domain/env-vars.js';
import type { AttemptOutcome } from '../domain/failure-reasons.js';
import type { RunMode } from '../domain/types.js';

/** Resource limits of one instance, in base units. */
export interface ResourceLimits {
  /** Thousandths of a vCPU (`"0.125"` → 125). */
  cpuMillis: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

/**
 * A config map or secret mounted into an instance (`run_volume_mounts`): one file per key under
 * `mountPath`, named after the key, holding its value; read-only for the workload. Resolved by
 * the engine when the attempt starts. Secret contents are plaintext here: a driver never logs
 * them, never puts them in an error message, and keeps them only as long as the attempt needs.
 */
export interface InstanceMount {
  /** Absolute directory inside the instance, e.g. `/etc/config`. */
  mountPath: string;
  source: 'config_map' | 'secret';
  /** Name of the config map or secret (for messages). */
  name: string;
  /** Key → content. */
  files: Record<string, string>;
}

/** A config map or secret an instance uses (env references or mounts), with its data. */
export interface InstanceConfigObject {
  source: 'config_map' | 'secret';
  name: string;
  /** Key → value. */
  data: Record<string, string>;
}

/** Everything a driver needs to run one attempt; built by the engine from the run. */
export interface InstanceSpec {
  /**
   * Unique, deterministic id of this attempt: `<runId>.<index>.<retry>.<attempt>`. Safe as a
   * file name, a container label value and a pod label value.
   */
  attemptId: string;
  /** `<jobrun>-<index>-<retry>`; the instance's `HOSTNAME`. */
  instanceName: string;
  projectId: string;
  runId: string;
  runName: string;
  /** The job the run came from, when it has one. */
  jobName?: string;
  /** Code Engine's container name: the job name, or the run name for a standalone run. */
  containerName: string;
  index: number;
  retry: number;
  /** 0 for the first start of this instance; +1 for every daemon restart or rerun after loss. */
  attempt: number;
  mode: RunMode;
  /** OCI image; drivers that run no images record it and ignore it. */
  image?: string;
  /** Name of the registry secret with pull credentials. */
  imageSecret?: string;
  /**
   * Credentials for pulling `image`, resolved by the engine from the registry secret
   * `imageSecret` when the attempt starts. Plaintext: never logged, never in an error message.
   */
  imagePullCredentials?: { server: string; username: string; password: string; email?: string };
  /** `run_commands`: replaces the image entrypoint (the program itself on the process driver). */
  command: string[];
  /** `run_arguments`: replaces the image CMD. */
  args: string[];
  /** The complete environment of the instance (the env contract of SPEC, in order). */
  env: Record<string, string>;
  /** Config maps and secrets to mount as files (empty when the run has no mounts). */
  mounts: InstanceMount[];
  /**
   * Where the variables of `env` that came from a config map or secret came from (object and
   * key; the winner of Code Engine's precedence, so one entry per variable). Optional: drivers
   * that run the values use `env` alone; a driver that can reference the objects in its runtime
   * (Kubernetes `secretKeyRef`) uses this so that secret values never appear in a workload's
   * definition.
   */
  envSources?: Record<string, EnvValueSource>;
  /**
   * The complete data of every config map and secret that `envSources` and `mounts` refer to,
   * as resolved when the attempt starts (plaintext, same rules as `InstanceMount.files`).
   */
  configObjects?: InstanceConfigObject[];
  runAsUser: number;
  limits: ResourceLimits;
  /** File the attempt's stdout/stderr go to (appended; a daemon's restarts share it). */
  logPath: string;
  /**
   * Bytes kept in `logPath` before it rotates to `<logPath>.1` (the engine's `logMaxBytes`
   * setting). Absent: the log writer's default (10 MiB, or `CEJOBS_LOG_MAX_BYTES`).
   */
  logMaxBytes?: number;
  /**
   * A directory for this instance, for the driver's own files (scratch space, exit records).
   * The engine only names it: the driver creates it when it first needs it (creating a
   * directory is one of the dearest system calls per instance, and some drivers need none).
   * Removed by the engine when the run is deleted.
   */
  workDir: string;
  /**
   * Where the workload starts (its current directory), when the engine knows one: the read-only
   * snapshot of a `source` build. Absent: the driver's own choice (the process driver's scratch
   * directory, the image's WORKDIR). A driver that runs images ignores it.
   */
  cwd?: string;
}

/** Opaque, versioned, JSON-serialisable state a driver needs to find an attempt again. */
export interface AttemptHandle {
  driver: string;
  version: number;
  data: Record<string, unknown>;
}

/** Identifies an attempt to `stop`, `recover` and `release`. */
export interface AttemptRef {
  attemptId: string;
  /** Absent when the engine crashed before it recorded the reply of `start`. */
  handle?: AttemptHandle;
}

/** How an attempt ended. */
export interface AttemptExit {
  attemptId: string;
  outcome: AttemptOutcome;
  /** Epoch ms when the workload started running; absent when it never did. */
  startedAt?: number;
  /** Epoch ms when it ended (as observed by the driver). */
  finishedAt: number;
}

/** What `recover` found. */
export type RecoveredAttempt =
  | { state: 'running' }
  | { state: 'exited'; exit: AttemptExit }
  /** Nothing is known of the attempt any more: it never started, or its exit is lost. */
  | { state: 'vanished' };

/** How (and whether) a driver enforces one kind of limit on this host. */
export interface LimitSupport {
  enforced: boolean;
  /** e.g. `cgroup-v1`, `rss-watch`, `scratch-dir-watch`, or why it is not enforced. */
  how: string;
}

export interface DriverCapabilities {
  limits: {
    cpu: LimitSupport;
    memory: LimitSupport;
    ephemeralStorage: LimitSupport;
  };
  /**
   * Capacity the engine admits instances against (FIFO by cpu and memory), or `null` when a
   * scheduler outside cejobs places them (Kubernetes).
   */
  capacity: { cpuMillis: number; memoryBytes: number } | null;
  /**
   * Whether `InstanceSpec.mounts` can be honoured (and how, e.g. `mount-namespace`). The engine
   * refuses runs with `run_volume_mounts` on a driver that cannot mount.
   */
  mounts: LimitSupport;
  /** True when an instance needs `run_commands` (nothing supplies an entrypoint). */
  requiresCommand: boolean;
  /** True when `image_reference` is pulled and run. */
  runsImages: boolean;
  /**
   * True when an image in the local container engine's store runs as is, without a push to a
   * registry (the container driver). A driver that runs images elsewhere (a Kubernetes
   * cluster) gets no `dockerfile` builder on this machine. Absent means false.
   */
  runsLocalImages?: boolean;
}

export type ExitListener = (exit: AttemptExit) => void;

/** A config map or secret of a project, as a driver that copies them names it. */
export interface ConfigObjectRef {
  projectId: string;
  source: 'config_map' | 'secret';
  name: string;
}

export interface Driver {
  /** Registered name: `process`, `container`, `kubernetes`, `fake`. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;

  /**
   * Starts the attempt, or returns the existing one with that `attemptId`. Resolves with the
   * handle to persist once the runtime has accepted it. Rejects only when the runtime cannot
   * be used; workload failures arrive as exits.
   */
  start(spec: InstanceSpec): Promise<AttemptHandle>;

  /**
   * Asks the attempt to stop: SIGTERM (or equivalent) to everything it runs, then SIGKILL after
   * `graceMs`. Resolves when the request is accepted; the exit arrives through `subscribe`.
   * Stopping an attempt that already ended is not an error.
   */
  stop(ref: AttemptRef, options: { graceMs: number }): Promise<void>;

  /** Finds an attempt again after the engine restarted. */
  recover(ref: AttemptRef): Promise<RecoveredAttempt>;

  /** The engine has recorded the attempt's exit: drop what the driver kept of it. */
  release(ref: AttemptRef): Promise<void>;

  /** Registers a listener for exits; returns a function that unregisters it. */
  subscribe(listener: ExitListener): () => void;

  /**
   * Optional. The config map or secret was deleted (alone or with its project): remove the
   * copies the driver made of it outside the engine (the kubernetes driver's mirrors), so its
   * values do not outlive it there. Running attempts keep what they already read. A driver that
   * reads `InstanceSpec` at each start and copies nothing leaves it out.
   */
  forgetConfig?(ref: ConfigObjectRef): Promise<void>;

  /** Detaches from the runtime. Never stops attempts. */
  close(): Promise<void>;
}

/** Builds the attempt id of `InstanceSpec.attemptId`. */
export function attemptIdOf(runId: string, index: number, retry: number, attempt: number): string {
  return `${runId}.${index}.${retry}.${attempt}`;
}
