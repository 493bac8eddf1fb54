/**
 * Store rows → API resources (Code Engine field names). The one place that shapes what
 * clients see; `href` is added by the API layer, which knows its own address.
 */
import { redactData, type ConfigMap, type Secret } from '../domain/config.js';
import type { Instance, Job, JobRun, JobRunStatusDetails, Project, RunEvent } from '../domain/types.js';
import type { ConfigMapRow, EventRow, InstanceRow, JobRow, ProjectRow, RunRow, SecretRow } from '../store/rows.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export function toProject(p: ProjectRow): Project {
  return {
    id: p.id,
    name: p.name,
    region: p.region,
    subdomain: p.subdomain,
    status: p.status,
    resource_type: 'project_v2',
    created_at: iso(p.createdMs),
  };
}

export function toJob(j: JobRow, region: string): Job {
  return {
    id: j.id,
    name: j.name,
    project_id: j.projectId,
    region,
    resource_type: 'job_v2',
    created_at: iso(j.createdMs),
    entity_tag: j.entityTag,
    ...j.spec,
  };
}

export function toJobRun(r: RunRow, region: string): JobRun {
  const run: JobRun = {
    id: r.id,
    name: r.name,
    project_id: r.projectId,
    region,
    resource_type: 'job_run_v2',
    created_at: iso(r.createdMs),
    ...r.spec,
    status: r.status,
    status_details: JSON.parse(r.statusDetailsJson) as JobRunStatusDetails,
  };
  if (r.jobName !== undefined) run.job_name = r.jobName;
  if (r.arraySizeOverride !== undefined) run.scale_array_size_variable_override = r.arraySizeOverride;
  return run;
}

export function toInstance(i: InstanceRow, run: RunRow): Instance {
  const out: Instance = {
    name: i.name,
    project_id: run.projectId,
    job_run_name: run.name,
    index: i.index,
    retry: i.retry,
    state: i.state,
    restarts: i.restarts,
    attempts: i.attempt + 1,
    created_at: iso(i.createdMs),
  };
  if (i.exitCode !== undefined) out.exit_code = i.exitCode;
  if (i.reason !== undefined) out.last_failure_reason = i.reason;
  if (i.message !== undefined) out.message = i.message;
  if (i.startedMs !== undefined) out.started_at = iso(i.startedMs);
  if (i.finishedMs !== undefined) out.finished_at = iso(i.finishedMs);
  if (i.driver !== undefined) out.driver = i.driver;
  return out;
}

export function toRunEvent(e: EventRow, run: RunRow): RunEvent {
  const out: RunEvent = {
    id: e.id,
    project_id: run.projectId,
    job_run_name: run.name,
    type: e.type,
    reason: e.reason,
    message: e.message,
    count: e.count,
    first_timestamp: iso(e.firstMs),
    last_timestamp: iso(e.lastMs),
  };
  if (e.instanceName !== undefined) out.instance_name = e.instanceName;
  return out;
}

export function toConfigMap(c: ConfigMapRow, region: string): ConfigMap {
  return {
    id: c.id,
    name: c.name,
    project_id: c.projectId,
    region,
    resource_type: 'config_map_v2',
    created_at: iso(c.createdMs),
    entity_tag: c.entityTag,
    data: { ...c.data },
  };
}

/**
 * A secret resource. Its values are `REDACTED` unless the caller passes `revealed` (the
 * decrypted data, only when a client asked with `reveal`); redaction needs no key.
 */
export function toSecret(s: SecretRow, region: string, revealed?: Record<string, string>): Secret {
  return {
    id: s.id,
    name: s.name,
    project_id: s.projectId,
    region,
    resource_type: 'secret_v2',
    format: s.format,
    created_at: iso(s.createdMs),
    entity_tag: s.entityTag,
    data: revealed ? { ...revealed } : redactData(s.keys),
  };
}
