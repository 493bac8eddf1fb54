/**
 * "Rerun failed indices": a new run of exactly the failed indices of `run`, with the original
 * run's `job_name` and runtime fields and `scale_array_size_variable_override` = the original
 * `JOB_ARRAY_SIZE` (its own override, else its number of indices), so every index sees the same
 * `JOB_INDEX` and `JOB_ARRAY_SIZE` as in the first run.
 */
import type { ApiJobRun, JobRunPrototype } from '../../../src/client/index.js';
import { countArraySpec } from '../../../src/domain/array-spec.js';
import { RUNTIME_FIELDS } from '../../../src/domain/types.js';

export function failedIndices(run: ApiJobRun): string {
  return run.status_details.failed_indices ?? '';
}

export function originalArraySize(run: ApiJobRun): number {
  return run.scale_array_size_variable_override ?? countArraySpec(run.scale_array_spec);
}

export function rerunFailedPrototype(run: ApiJobRun): JobRunPrototype {
  const failed = failedIndices(run);
  if (!failed) throw new Error(`run ${run.name} has no failed indices`);
  const proto: Record<string, unknown> = {};
  for (const f of RUNTIME_FIELDS) if (run[f] !== undefined) proto[f] = run[f];
  if (run.job_name) proto.job_name = run.job_name;
  proto.scale_array_spec = failed;
  proto.scale_array_size_variable_override = originalArraySize(run);
  return proto as JobRunPrototype;
}
