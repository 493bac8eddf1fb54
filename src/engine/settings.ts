/**
 * Engine settings: raw in (every field optional), compiled out (every default filled, in one
 * place). Durations are milliseconds.
 */
import { DEFAULT_BACKOFF, type BackoffSettings } from '../domain/backoff.js';

export interface EngineSettings {
  /** Backoff of task retries and daemon restarts (SPEC "backoff"). */
  backoff: BackoffSettings;
  /** SIGTERM → SIGKILL grace period when stopping an instance. @default 10000 */
  stopGraceMs: number;
  /**
   * Capacity to admit instances against. @default the driver's (host cores and memory);
   * `null` admits everything (a cluster scheduler places instances).
   */
  capacity?: { cpuMillis: number; memoryBytes: number } | null;
  /** Finished runs older than this are deleted. @default 7 days */
  retentionMaxAgeMs: number;
  /** Keep at most this many finished runs per job (and of standalone runs per project). @default unlimited */
  retentionKeepLast?: number;
  /** How often retention runs. @default 60000 */
  retentionIntervalMs: number;
  /**
   * Built outputs (snapshots, images) that nothing refers to any more are removed with
   * retention once older than this. @default 600000 (10 minutes)
   */
  buildOutputGraceMs: number;
  /**
   * Build runs executed at once; the others wait, `pending`, in submission order (a build takes
   * the machine's cores and memory: a burst of them would slow every one). @default 2
   */
  buildConcurrency: number;
  /** Cap of one instance's current log file; one rotated part is kept besides. @default 10 MiB */
  logMaxBytes: number;
  /**
   * A run (and admission) is synced at once on an event, but at most once per this many ms
   * while events keep coming; bursts of exits then cost one pass. 0 syncs on every event.
   * @default 10
   */
  syncBatchMs: number;
  /** Most instances admitted in one admission pass. @default 500 */
  admissionBatch: number;
  /** `CE_REGION` and the `region` of resources. @default 'local' */
  region: string;
  /** `CE_DOMAIN`. @default 'cejobs.local' */
  domain: string;
  /** `CE_API_BASE_URL`; the server sets its real address. @default 'http://127.0.0.1:8765' */
  apiBaseUrl: string;
}

export type EngineSettingsInput = Partial<Omit<EngineSettings, 'backoff'>> & { backoff?: Partial<BackoffSettings> };

export function compileSettings(input: EngineSettingsInput = {}): EngineSettings {
  return {
    backoff: { ...DEFAULT_BACKOFF, ...input.backoff },
    stopGraceMs: input.stopGraceMs ?? 10_000,
    capacity: input.capacity,
    retentionMaxAgeMs: input.retentionMaxAgeMs ?? 7 * 24 * 3600 * 1000,
    retentionKeepLast: input.retentionKeepLast,
    retentionIntervalMs: input.retentionIntervalMs ?? 60_000,
    buildOutputGraceMs: input.buildOutputGraceMs ?? 600_000,
    buildConcurrency: Math.max(1, Math.floor(input.buildConcurrency ?? 2)),
    logMaxBytes: input.logMaxBytes ?? 10 * 1024 * 1024,
    syncBatchMs: input.syncBatchMs ?? 10,
    admissionBatch: input.admissionBatch ?? 500,
    region: input.region ?? 'local',
    domain: input.domain ?? 'cejobs.local',
    apiBaseUrl: input.apiBaseUrl ?? 'http://127.0.0.1:8765',
  };
}
