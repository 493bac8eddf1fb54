/**
 * Defaults and limits of the runtime fields (reference §4.1, §5.3), filled in ONE place.
 */
import type { RuntimeSpec } from './types.js';
import { RUNTIME_FIELDS } from './types.js';

/**
 * Code Engine's defaults (reference §4.1, §5.3): no image, task mode, empty lists, user 0,
 * service account `default`, no compute-resource token, array spec `"0"`, cpu `"1"`, memory
 * `"4G"`, ephemeral storage `"400M"`, max execution time 7200 s, retry limit 3.
 */
export const RUNTIME_DEFAULTS: Readonly<RuntimeSpec> = Object.freeze({
  run_mode: 'task',
  run_commands: [],
  run_arguments: [],
  run_env_variables: [],
  run_volume_mounts: [],
  run_as_user: 0,
  run_service_account: 'default',
  run_compute_resource_token_enabled: false,
  scale_array_spec: '0',
  scale_cpu_limit: '1',
  scale_memory_limit: '4G',
  scale_ephemeral_storage_limit: '400M',
  scale_max_execution_time: 7200,
  scale_retry_limit: 3,
} satisfies RuntimeSpec);

/** Limits of the runtime fields (reference §4.1, §5.3). */
export const LIMITS = Object.freeze({
  maxExecutionTime: { min: 1, max: 86_400 },
  retryLimit: { min: 0, max: 5 },
  /** A job or job run as JSON, in bytes (10 KiB, reference §4.1). */
  objectSizeBytes: 10_240,
  /** Entries of run_commands, run_arguments, run_env_variables, run_volume_mounts. */
  listItems: 100,
  imageReferenceLength: 256,
  /** Decision (reference silent): a uid is a non-negative 32-bit signed integer. */
  runAsUser: { min: 0, max: 2_147_483_647 },
});

/** The fields that exist only in task mode (reference §1.10). */
export const TASK_ONLY_FIELDS = ['scale_max_execution_time', 'scale_retry_limit'] as const;

/**
 * A complete `RuntimeSpec` from a partial one: every absent (or `undefined`) field gets its
 * default from `RUNTIME_DEFAULTS`; lists are fresh copies. In daemon mode the result has no
 * `scale_max_execution_time` and no `scale_retry_limit` (reference §1.10), whatever `partial`
 * holds — rejecting them on input is the validator's job. Fields come out in `RUNTIME_FIELDS`
 * order; `image_reference` / `image_secret` only when set.
 */
export function withDefaults(partial: Partial<RuntimeSpec>): RuntimeSpec {
  const merged: Record<string, unknown> = {};
  const defaults = RUNTIME_DEFAULTS as unknown as Record<string, unknown>;
  const given = partial as Record<string, unknown>;
  for (const field of RUNTIME_FIELDS) {
    const v = given[field] !== undefined ? given[field] : defaults[field];
    if (v === undefined) continue;
    merged[field] = Array.isArray(v) ? v.map((x: unknown) => (typeof x === 'object' && x !== null ? { ...x } : x)) : v;
  }
  if (merged.run_mode === 'daemon') for (const f of TASK_ONLY_FIELDS) delete merged[f];
  return merged as unknown as RuntimeSpec;
}
