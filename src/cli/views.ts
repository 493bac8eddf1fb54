/**
 * Human renderings of API resources, shaped like Code Engine's CLI (reference §1.3, §1.6 and
 * the seed walkthroughs): `job get`, `jobrun get`, the list tables, logs grouped by instance,
 * events. Pure functions from resources and `now` to lines.
 */
import { countArraySpec } from '../domain/array-spec.js';
import type { EnvVar, Instance, RunEvent, VolumeMount } from '../domain/types.js';
import type { ApiConfigMap, ApiJob, ApiJobRun, ApiProject, ApiSecret, InstanceLogs, LogRecord } from '../client/types.js';
import { age, capitalize, keyValues, localIso, table, type KeyValue } from './format.js';

function arraySize(spec: string | undefined): string {
  try {
    return String(countArraySpec(spec ?? '0'));
  } catch {
    return '?';
  }
}

const ENV_TYPE_LABEL: Record<string, string> = {
  literal: 'Literal',
  config_map_full_reference: 'Config map full reference',
  secret_full_reference: 'Secret full reference',
  config_map_key_reference: 'Config map key reference',
  secret_key_reference: 'Secret key reference',
};

/**
 * The `Environment Variables:` table (Type, Name, Value), empty when there are none. A literal
 * shows its value; a full reference the config map/secret (name `PREFIX*` with a prefix); a
 * key reference `reference.key` — never a secret's value (a run does not hold them).
 */
export function envSection(vars: readonly EnvVar[] | undefined): string[] {
  if (!vars || vars.length === 0) return [];
  const rows = vars.map((v) => {
    const type = ENV_TYPE_LABEL[v.type] ?? v.type;
    if (v.type === 'literal') return [type, v.name ?? '', v.value ?? ''];
    if (v.type.endsWith('_full_reference')) return [type, v.prefix ? `${v.prefix}*` : '', v.reference ?? ''];
    return [type, v.name ?? '', `${v.reference ?? ''}.${v.key ?? ''}`];
  });
  return ['Environment Variables:', ...table(['Type', 'Name', 'Value'], rows, '  '), ''];
}

function mountsSection(mounts: readonly VolumeMount[] | undefined): string[] {
  if (!mounts || mounts.length === 0) return [];
  const rows = mounts.map((m) => [m.mount_path, m.type === 'config_map' ? 'Config map' : m.type === 'secret' ? 'Secret' : m.type, m.reference]);
  return ['Mounts:', ...table(['Mount Path', 'Type', 'Reference'], rows, '  '), ''];
}

/** `Name`, `ID`, `Project Name`, `Project ID`, `Age`, `Created`. */
function header(resource: { name: string; id: string; project_id: string; created_at: string }, project: ApiProject | undefined, now: Date): KeyValue[] {
  return [
    ['Name', resource.name],
    ['ID', resource.id],
    ['Project Name', project?.name ?? ''],
    ['Project ID', project?.id ?? resource.project_id],
    ['Age', age(resource.created_at, now)],
    ['Created', localIso(resource.created_at)],
  ];
}

type Spec = ApiJob | ApiJobRun;

function imageAndResources(spec: Spec, jobRef?: string, runsOn?: string): string[] {
  const top: KeyValue[] = [];
  if (jobRef !== undefined) top.push(['Job Ref', jobRef]);
  top.push(['Image', spec.image_reference ?? '']);
  if (spec.image_secret) top.push(['Registry Secret', spec.image_secret]);
  if (runsOn) top.push(['Runs On', `${runsOn} driver`]);
  if (spec.run_commands?.length) top.push(['Command', spec.run_commands.join(' ')]);
  if (spec.run_arguments?.length) top.push(['Arguments', spec.run_arguments.join(' ')]);
  top.push(['Resource Allocation', null]);
  return [
    ...keyValues(top),
    ...keyValues(
      [
        ['CPU', spec.scale_cpu_limit ?? ''],
        ['Ephemeral Storage', spec.scale_ephemeral_storage_limit ?? ''],
        ['Memory', spec.scale_memory_limit ?? ''],
      ],
      '  ',
    ),
  ];
}

function runtime(spec: Spec, arraySizeValue?: string): string[] {
  const rows: KeyValue[] = [
    ['Mode', spec.run_mode],
    ['Array Indices', spec.scale_array_spec],
    ['Array Size', arraySize(spec.scale_array_spec)],
  ];
  if (arraySizeValue !== undefined) rows.push(['JOB_ARRAY_SIZE Value', arraySizeValue]);
  if (spec.scale_max_execution_time !== undefined) rows.push(['Max Execution Time', String(spec.scale_max_execution_time)]);
  if (spec.scale_retry_limit !== undefined) rows.push(['Retry Limit', String(spec.scale_retry_limit)]);
  return ['Runtime:', ...keyValues(rows, '    ')];
}

/** `ce job get`. */
/** `runsOn`: the driver that runs the job's instances (the server's), shown when known. */
export function renderJob(job: ApiJob, project: ApiProject | undefined, now: Date, runsOn?: string): string[] {
  const built: KeyValue[] = job.build ? [['Build', job.build], ['Build Run', job.build_run ?? null]] : [];
  const lines = [...keyValues([...header(job, project, now), ...built]), ''];
  if (job.last_job_run) {
    lines.push(
      'Last Job Run:',
      ...keyValues(
        [
          ['Name', job.last_job_run.name],
          ['Age', age(job.last_job_run.created_at, now)],
          ['Created', localIso(job.last_job_run.created_at)],
        ],
        '  ',
      ),
      '',
    );
  }
  lines.push(...envSection(job.run_env_variables), ...mountsSection(job.run_volume_mounts));
  lines.push(...imageAndResources(job, undefined, runsOn), '', ...runtime(job));
  return lines;
}

/** `Running` column and `Status` of an instance: `1/1 Running`, `0/1 Succeeded`, `0/1 Failed (OOMKilled)`. */
export function instanceStatus(inst: Instance): { running: string; status: string } {
  const live = inst.state === 'running' || inst.state === 'starting' || inst.state === 'stopping';
  let status = inst.state === 'backoff' ? 'BackOff' : capitalize(inst.state);
  if ((inst.state === 'failed' || inst.state === 'backoff') && inst.last_failure_reason) status += ` (${inst.last_failure_reason})`;
  return { running: live ? '1/1' : '0/1', status };
}

/** The `Instances:` table rows (`Name Running Status Restarts Age`). */
export function instancesTable(instances: readonly Instance[], now: Date, indent = ''): string[] {
  const rows = instances.map((i) => {
    const { running, status } = instanceStatus(i);
    return [i.name, running, status, String(i.restarts ?? 0), age(i.created_at, now)];
  });
  return table(['Name', 'Running', 'Status', 'Restarts', 'Age'], rows, indent);
}

/** `4s (x3 over 26s)` like kubectl. */
function eventAge(e: RunEvent, now: Date): string {
  const last = age(e.last_timestamp, now);
  return e.count > 1 ? `${last} (x${e.count} over ${age(e.first_timestamp, now)})` : last;
}

/** Events table: `Type Reason Age Source Messages`; Source is the instance, or the run. */
export function eventsTable(events: readonly RunEvent[], now: Date, indent = ''): string[] {
  const rows = events.map((e) => [e.type, e.reason, eventAge(e, now), e.instance_name ?? e.job_run_name, e.message]);
  return table(['Type', 'Reason', 'Age', 'Source', 'Messages'], rows, indent);
}

/** `ce jobrun get`. */
export function renderJobRun(
  run: ApiJobRun,
  project: ApiProject | undefined,
  instances: readonly Instance[],
  events: readonly RunEvent[],
  now: Date,
): string[] {
  const d = run.status_details;
  const size = arraySize(run.scale_array_spec);
  const lines = [...keyValues(header(run, project, now)), ''];
  lines.push(...envSection(run.run_env_variables), ...mountsSection(run.run_volume_mounts));
  lines.push(...imageAndResources(run, run.job_name ?? '', instances.find((i) => i.driver)?.driver), '');
  lines.push(...runtime(run, String(run.scale_array_size_variable_override ?? size)), '');

  lines.push('Status:');
  if (d?.completion_time) lines.push(...keyValues([[capitalize(run.status), age(d.completion_time, now)]], '  '));
  const counts: KeyValue[] = [];
  if (d) {
    for (const [label, n] of [
      ['Requested', d.requested],
      ['Pending', d.pending],
      ['Running', d.running],
      ['Succeeded', d.succeeded],
      ['Failed', d.failed],
      ['Unknown', d.unknown],
    ] as const) {
      if (n > 0) counts.push([label, String(n)]);
    }
  }
  lines.push('  Instance Statuses:', ...keyValues(counts, '    '));
  const conditions: string[][] = [['Pending', 'True', age(run.created_at, now), age(run.created_at, now)]];
  if (d?.start_time) conditions.push(['Running', 'True', age(d.start_time, now), age(d.start_time, now)]);
  if (run.status === 'completed' || run.status === 'failed') {
    const at = d?.completion_time ?? run.created_at;
    conditions.push([run.status === 'completed' ? 'Complete' : 'Failed', 'True', age(at, now), age(at, now)]);
  }
  lines.push('  Conditions:', ...table(['Type', 'Status', 'Last Probe', 'Last Transition'], conditions, '    '));
  const failed = failedIndexLines(run);
  if (failed.length > 0) lines.push('  Failed Indices:', ...failed.map((l) => `    ${l}`));
  lines.push('');
  if (events.length > 0) lines.push('Events:', ...eventsTable(events, now, '  '), '');
  lines.push('Instances:', ...(instances.length > 0 ? instancesTable(instances, now, '  ') : ['  (none)']));
  return lines;
}

/** `3  OOMKilled  (3 retries)` for each failed index, from `indices_details`. */
export function failedIndexLines(run: ApiJobRun): string[] {
  const details = run.status_details?.indices_details ?? {};
  const rows = Object.entries(details)
    .filter(([, v]) => v.status === 'failed')
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([index, v]) => [index, v.last_failure_reason ?? '', `${v.retries} ${v.retries === 1 ? 'retry' : 'retries'}`]);
  return rows.length > 0 ? table(['Index', 'Reason', 'Retries'], rows) : [];
}

export type SortBy = 'name' | 'age';

/** Sorts by name, or by age (newest first). */
export function sortResources<T extends { name: string; created_at: string }>(items: readonly T[], by: SortBy): T[] {
  const copy = [...items];
  if (by === 'age') copy.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || a.name.localeCompare(b.name));
  else copy.sort((a, b) => a.name.localeCompare(b.name));
  return copy;
}

/** `ce job list`: `Name Age Last Job Run Name Last Job Run Age`. */
export function jobsTable(jobs: readonly ApiJob[], now: Date): string[] {
  const rows = jobs.map((j) => [j.name, age(j.created_at, now), j.last_job_run?.name ?? '', age(j.last_job_run?.created_at, now)]);
  return table(['Name', 'Age', 'Last Job Run Name', 'Last Job Run Age'], rows);
}

/** `ce jobrun list`: `Name Failed Pending Requested Running Succeeded Unknown Age`. */
export function jobRunsTable(runs: readonly ApiJobRun[], now: Date): string[] {
  const rows = runs.map((r) => {
    const d = r.status_details;
    const n = (v: number | undefined): string => String(v ?? 0);
    return [r.name, n(d?.failed), n(d?.pending), n(d?.requested), n(d?.running), n(d?.succeeded), n(d?.unknown), age(r.created_at, now)];
  });
  return table(['Name', 'Failed', 'Pending', 'Requested', 'Running', 'Succeeded', 'Unknown', 'Age'], rows);
}

/** `ce project list`: `Name ID Status Selected Region Age`. */
export function projectsTable(projects: readonly ApiProject[], selected: string, now: Date): string[] {
  const rows = projects.map((p) => [p.name, p.id, p.status, p.name === selected || p.id === selected ? 'true' : 'false', p.region, age(p.created_at, now)]);
  return table(['Name', 'ID', 'Status', 'Selected', 'Region', 'Age'], rows);
}

/** `ce project get`. */
export function renderProject(p: ApiProject, selected: boolean, now: Date): string[] {
  return keyValues([
    ['Name', p.name],
    ['ID', p.id],
    ['Status', p.status],
    ['Selected', String(selected)],
    ['Region', p.region],
    ['Subdomain', p.subdomain ?? ''],
    ['Age', age(p.created_at, now)],
    ['Created', localIso(p.created_at)],
  ]);
}

/** One log line: the text, prefixed by the ISO time with `timestamps`. */
export function logLine(record: LogRecord, timestamps: boolean): string {
  return timestamps ? `${record.time} ${record.text}` : record.text;
}

/**
 * Logs grouped under `<instance>/<container>:` headers with a blank line after each group;
 * `raw` prints only the lines.
 */
export function renderLogs(logs: readonly InstanceLogs[], options: { raw: boolean; timestamps: boolean }): string[] {
  const lines: string[] = [];
  for (const entry of logs) {
    if (!options.raw) lines.push(`${entry.instance}/${entry.container}:`);
    for (const r of entry.records) lines.push(logLine(r, options.timestamps));
    if (!options.raw) lines.push('');
  }
  return lines;
}

/** `Data:`, `---`, then `key: value` lines by key (a multi-line value continues on its lines). */
export function dataSection(data: Readonly<Record<string, string>> | undefined): string[] {
  const lines = ['Data:', '---'];
  for (const key of Object.keys(data ?? {}).sort()) {
    const value = data![key]!.replace(/\r?\n$/, '');
    lines.push(`${key}: ${value}`);
  }
  return lines;
}

/** `ce configmap get`: Name, ID, Project Name/ID, Age, Created, then the data. */
export function renderConfigMap(cm: ApiConfigMap, project: ApiProject | undefined, now: Date): string[] {
  return [...keyValues(header(cm, project, now)), '', ...dataSection(cm.data)];
}

/**
 * `ce secret get`: Name, ID, Project Name/ID, Age, Created, Format, then the data as given —
 * `REDACTED` values unless the caller fetched (and chose to show) the plaintext.
 */
export function renderSecret(secret: ApiSecret, project: ApiProject | undefined, now: Date): string[] {
  return [...keyValues([...header(secret, project, now), ['Format', secret.format]]), '', ...dataSection(secret.data)];
}

/** `ce configmap list`: `Name Data Age` (Data = the number of keys). */
export function configMapsTable(items: readonly ApiConfigMap[], now: Date): string[] {
  return table(['Name', 'Data', 'Age'], items.map((c) => [c.name, String(Object.keys(c.data ?? {}).length), age(c.created_at, now)]));
}

/** `ce secret list`: `Name Format Data Age`. */
export function secretsTable(items: readonly ApiSecret[], now: Date): string[] {
  return table(['Name', 'Format', 'Data', 'Age'], items.map((s) => [s.name, s.format, String(Object.keys(s.data ?? {}).length), age(s.created_at, now)]));
}
