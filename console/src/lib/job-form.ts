/**
 * The job form's model: every runtime field of the API as editable strings, and the
 * conversions job → form → prototype (create) or merge patch (edit). Values that do not parse
 * are sent as typed, so the server's validation message names them.
 */
import type { ApiJob, JobPatchBody, JobPrototype } from '../../../src/client/index.js';
import { RUNTIME_DEFAULTS } from '../../../src/domain/defaults.js';
import type { EnvVar, EnvVarType, RunMode, ServiceAccount, VolumeMount, VolumeMountType } from '../../../src/domain/types.js';

export interface EnvRow {
  type: EnvVarType;
  name: string;
  value: string;
  reference: string;
  key: string;
  prefix: string;
}

export interface MountRow {
  type: VolumeMountType;
  reference: string;
  mount_path: string;
  sub_path: string;
  read_only: boolean;
}

export interface JobForm {
  name: string;
  run_mode: RunMode;
  image_reference: string;
  image_secret: string;
  commands: string;
  args: string;
  env: EnvRow[];
  mounts: MountRow[];
  run_as_user: string;
  run_service_account: ServiceAccount;
  run_compute_resource_token_enabled: boolean;
  scale_array_spec: string;
  cpu: string;
  memory: string;
  ephemeral: string;
  max_execution_time: string;
  retry_limit: string;
}

const D = RUNTIME_DEFAULTS;

export const emptyEnvRow = (): EnvRow => ({ type: 'literal', name: '', value: '', reference: '', key: '', prefix: '' });
export const emptyMountRow = (): MountRow => ({ type: 'config_map', reference: '', mount_path: '', sub_path: '', read_only: true });

export function newJobForm(): JobForm {
  return {
    name: '',
    run_mode: D.run_mode,
    image_reference: '',
    image_secret: '',
    commands: '',
    args: '',
    env: [],
    mounts: [],
    run_as_user: String(D.run_as_user),
    run_service_account: D.run_service_account,
    run_compute_resource_token_enabled: D.run_compute_resource_token_enabled,
    scale_array_spec: D.scale_array_spec,
    cpu: D.scale_cpu_limit,
    memory: D.scale_memory_limit,
    ephemeral: D.scale_ephemeral_storage_limit,
    max_execution_time: String(D.scale_max_execution_time),
    retry_limit: String(D.scale_retry_limit),
  };
}

export function jobToForm(job: ApiJob): JobForm {
  return {
    name: job.name,
    run_mode: job.run_mode,
    image_reference: job.image_reference ?? '',
    image_secret: job.image_secret ?? '',
    commands: job.run_commands.join('\n'),
    args: job.run_arguments.join('\n'),
    env: job.run_env_variables.map((e) => ({
      type: e.type,
      name: e.name ?? '',
      value: e.value ?? '',
      reference: e.reference ?? '',
      key: e.key ?? '',
      prefix: e.prefix ?? '',
    })),
    mounts: job.run_volume_mounts.map((m) => ({
      type: m.type,
      reference: m.reference,
      mount_path: m.mount_path,
      sub_path: m.sub_path ?? '',
      read_only: m.read_only ?? true,
    })),
    run_as_user: String(job.run_as_user),
    run_service_account: job.run_service_account,
    run_compute_resource_token_enabled: job.run_compute_resource_token_enabled,
    scale_array_spec: job.scale_array_spec,
    cpu: job.scale_cpu_limit,
    memory: job.scale_memory_limit,
    ephemeral: job.scale_ephemeral_storage_limit,
    max_execution_time: String(job.scale_max_execution_time ?? D.scale_max_execution_time),
    retry_limit: String(job.scale_retry_limit ?? D.scale_retry_limit),
  };
}

/** Non-empty lines, as list entries (`run_commands`, `run_arguments`). */
export function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
}

/** An integer when `text` is one, else the text itself (the server names the field). */
export function intOrText(text: string): number {
  const t = text.trim();
  return (/^-?\d+$/.test(t) ? Number(t) : t) as number;
}

export function envToApi(rows: EnvRow[]): EnvVar[] {
  return rows.map((r) => {
    switch (r.type) {
      case 'literal':
        return { type: r.type, name: r.name, value: r.value };
      case 'config_map_full_reference':
      case 'secret_full_reference':
        return r.prefix ? { type: r.type, reference: r.reference, prefix: r.prefix } : { type: r.type, reference: r.reference };
      default:
        return { type: r.type, name: r.name, reference: r.reference, key: r.key };
    }
  });
}

export function mountsToApi(rows: MountRow[]): VolumeMount[] {
  return rows.map((m) => {
    const out: VolumeMount = { type: m.type, reference: m.reference, mount_path: m.mount_path, read_only: m.read_only };
    if (m.sub_path) out.sub_path = m.sub_path;
    return out;
  });
}

function runtime(f: JobForm): JobPatchBody {
  const body: JobPatchBody = {
    run_mode: f.run_mode,
    run_commands: lines(f.commands),
    run_arguments: lines(f.args),
    run_env_variables: envToApi(f.env),
    run_volume_mounts: mountsToApi(f.mounts),
    run_as_user: intOrText(f.run_as_user),
    run_service_account: f.run_service_account,
    run_compute_resource_token_enabled: f.run_compute_resource_token_enabled,
    scale_array_spec: f.scale_array_spec.trim(),
    scale_cpu_limit: f.cpu,
    scale_memory_limit: f.memory,
    scale_ephemeral_storage_limit: f.ephemeral.trim(),
  };
  if (f.run_mode === 'task') {
    body.scale_max_execution_time = intOrText(f.max_execution_time);
    body.scale_retry_limit = intOrText(f.retry_limit);
  }
  return body;
}

/** `POST …/jobs`: every field, empty optional strings left out. */
export function formToPrototype(f: JobForm): JobPrototype {
  const proto = { name: f.name.trim(), ...runtime(f) } as JobPrototype;
  if (f.image_reference.trim()) proto.image_reference = f.image_reference.trim();
  if (f.image_secret) proto.image_secret = f.image_secret;
  return proto;
}

/** `PATCH …/jobs/{name}`: every field; cleared optional fields and task-only fields in daemon mode are `null`. */
export function formToPatch(f: JobForm): JobPatchBody {
  const patch = runtime(f);
  patch.image_reference = f.image_reference.trim() || null;
  patch.image_secret = f.image_secret || null;
  if (f.run_mode === 'daemon') {
    patch.scale_max_execution_time = null;
    patch.scale_retry_limit = null;
  }
  return patch;
}
