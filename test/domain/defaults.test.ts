import { describe, expect, it } from 'vitest';
import { LIMITS, RUNTIME_DEFAULTS, withDefaults } from '../../src/domain/defaults.js';
import { RUNTIME_FIELDS } from '../../src/domain/types.js';

describe('RUNTIME_DEFAULTS and LIMITS (reference §4.1, §5.3)', () => {
  it('are Code Engine\'s defaults', () => {
    expect(RUNTIME_DEFAULTS).toEqual({
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
    });
    expect(RUNTIME_DEFAULTS.image_reference).toBeUndefined();
  });
  it('has the limits of the reference', () => {
    expect(LIMITS.maxExecutionTime).toEqual({ min: 1, max: 86_400 });
    expect(LIMITS.retryLimit).toEqual({ min: 0, max: 5 });
    expect(LIMITS.objectSizeBytes).toBe(10_240);
    expect(LIMITS.listItems).toBe(100);
    expect(LIMITS.imageReferenceLength).toBe(256);
  });
});

describe('withDefaults', () => {
  it('fills every field of an empty spec', () => {
    expect(withDefaults({})).toEqual(RUNTIME_DEFAULTS);
  });
  it('keeps given values and the RUNTIME_FIELDS order', () => {
    const spec = withDefaults({ scale_retry_limit: 0, image_reference: 'busybox', scale_cpu_limit: '2', scale_memory_limit: '8G' });
    expect(spec.scale_retry_limit).toBe(0);
    expect(spec.image_reference).toBe('busybox');
    expect(spec.scale_cpu_limit).toBe('2');
    const order = Object.keys(spec).map((k) => RUNTIME_FIELDS.indexOf(k as never));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
  it('treats undefined as absent', () => {
    expect(withDefaults({ scale_retry_limit: undefined }).scale_retry_limit).toBe(3);
  });
  it('omits the task-only fields in daemon mode', () => {
    const spec = withDefaults({ run_mode: 'daemon', scale_retry_limit: 2, scale_max_execution_time: 5 });
    expect(spec).not.toHaveProperty('scale_retry_limit');
    expect(spec).not.toHaveProperty('scale_max_execution_time');
    expect(spec.run_mode).toBe('daemon');
  });
  it('returns fresh lists', () => {
    const a = withDefaults({});
    a.run_commands.push('x');
    expect(withDefaults({}).run_commands).toEqual([]);
    expect(RUNTIME_DEFAULTS.run_commands).toEqual([]);
  });
});
