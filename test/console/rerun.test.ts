/** The console's "rerun failed indices" prototype (console/src/lib/rerun.ts). */
import { describe, expect, it } from 'vitest';
import type { ApiJobRun } from '../../src/client/index.js';
import { originalArraySize, rerunFailedPrototype } from '../../console/src/lib/rerun.js';

const run = (over: Partial<ApiJobRun>): ApiJobRun =>
  ({
    name: 'r1',
    job_name: 'hello',
    run_mode: 'task',
    image_reference: undefined,
    run_commands: ['/bin/sh'],
    run_arguments: ['-c', 'exit 0'],
    run_env_variables: [{ type: 'literal', name: 'A', value: '1' }],
    run_volume_mounts: [],
    run_as_user: 0,
    run_service_account: 'default',
    run_compute_resource_token_enabled: false,
    scale_array_spec: '0-9',
    scale_cpu_limit: '0.5',
    scale_memory_limit: '1G',
    scale_ephemeral_storage_limit: '400M',
    scale_max_execution_time: 60,
    scale_retry_limit: 0,
    status: 'failed',
    status_details: { requested: 10, pending: 0, running: 0, succeeded: 8, failed: 2, unknown: 0, failed_indices: '3,7', indices_details: {} },
    ...over,
  }) as ApiJobRun;

describe('rerun failed indices', () => {
  it('reruns exactly the failed indices with the original JOB_ARRAY_SIZE, job and runtime fields', () => {
    const p = rerunFailedPrototype(run({}));
    expect(p).toMatchObject({
      job_name: 'hello',
      scale_array_spec: '3,7',
      scale_array_size_variable_override: 10,
      run_commands: ['/bin/sh'],
      run_arguments: ['-c', 'exit 0'],
      scale_cpu_limit: '0.5',
      scale_memory_limit: '1G',
      scale_retry_limit: 0,
      scale_max_execution_time: 60,
      run_env_variables: [{ type: 'literal', name: 'A', value: '1' }],
    });
    expect(p).not.toHaveProperty('image_reference');
    expect(p).not.toHaveProperty('name');
  });

  it('keeps an override of the original and works for standalone runs', () => {
    expect(originalArraySize(run({ scale_array_spec: '7', scale_array_size_variable_override: 10 }))).toBe(10);
    expect(originalArraySize(run({ scale_array_spec: '1-3,9' }))).toBe(4);
    const p = rerunFailedPrototype(run({ job_name: undefined }));
    expect(p).not.toHaveProperty('job_name');
    expect(() => rerunFailedPrototype(run({ status_details: { ...run({}).status_details, failed_indices: '' } }))).toThrow(/no failed/);
  });
});
