/**
 * JSON Schemas (OpenAPI 3.1 components) of the API's bodies, with Code Engine's field names
 * (docs/api.md, reference §5.3–5.4). They document; validation is the engine's.
 */
import { BUILD_FAILURE_REASONS, BUILD_RUN_STATUSES, BUILD_STRATEGIES, MAX_BUILD_TIMEOUT } from '../domain/builds.js';
import { SECRET_FORMATS } from '../domain/config.js';
import { ENV_VAR_TYPES, EVENT_REASONS, JOB_RUN_STATUSES, RUN_MODES, SERVICE_ACCOUNTS, VOLUME_MOUNT_TYPES } from '../domain/types.js';

type Schema = Record<string, unknown>;

const str = (description?: string, extra: Schema = {}): Schema => ({ type: 'string', ...(description ? { description } : {}), ...extra });
const int = (description?: string, extra: Schema = {}): Schema => ({ type: 'integer', ...(description ? { description } : {}), ...extra });
const bool = (description?: string): Schema => ({ type: 'boolean', ...(description ? { description } : {}) });
const ref = (name: SchemaName): Schema => ({ $ref: `#/components/schemas/${name}` });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const dateTime = (description?: string): Schema => str(description, { format: 'date-time' });
const obj = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  ...extra,
});

const runtime: Record<string, Schema> = {
  image_reference: str('OCI image (recorded, not pulled, by the process driver).', { maxLength: 256 }),
  image_secret: str('Registry secret with pull credentials.'),
  run_mode: str('task (finish, with retries and a deadline) or daemon (restarted on failure).', { enum: [...RUN_MODES], default: 'task' }),
  run_commands: arr(str(), { description: 'Replaces the image ENTRYPOINT (the program on the process driver).', maxItems: 100 }),
  run_arguments: arr(str(), { description: 'Replaces the image CMD (appended to run_commands).', maxItems: 100 }),
  run_env_variables: arr(ref('EnvVar'), { maxItems: 100 }),
  run_volume_mounts: arr(ref('VolumeMount'), { maxItems: 100 }),
  run_as_user: int('User id.', { default: 0, minimum: 0 }),
  run_service_account: str(undefined, { enum: [...SERVICE_ACCOUNTS], default: 'default' }),
  run_compute_resource_token_enabled: { type: 'boolean', default: false },
  scale_array_spec: str('Array indices, e.g. "0-4,7" (at most 1000 indices, each ≤ 9999999).', { default: '0' }),
  scale_cpu_limit: str('vCPU, one of Code Engine\'s cpu/memory pairs.', { default: '1' }),
  scale_memory_limit: str('Memory, e.g. "4G".', { default: '4G' }),
  scale_ephemeral_storage_limit: str('Scratch space, e.g. "400M".', { default: '400M' }),
  scale_max_execution_time: int('Seconds (task mode only).', { minimum: 1, maximum: 86400, default: 7200 }),
  scale_retry_limit: int('Retries of a failed index (task mode only).', { minimum: 0, maximum: 5, default: 3 }),
};
const buildSpec: Record<string, Schema> = {
  source_type: str('git (cloned by the server) or local (uploaded by the client).', { enum: ['git', 'local'] }),
  source_url: str('Git URL: file://, https://, ssh:// or user@host:path.', { maxLength: 1024 }),
  source_revision: str('Branch, tag or commit (default: the remote HEAD).'),
  source_context_dir: str('Directory inside the source that is the build root.'),
  source_secret: str('ssh_auth secret for ssh URLs.'),
  strategy_type: str('dockerfile (container driver) or source (process driver); default: the driver\'s.', { enum: [...BUILD_STRATEGIES] }),
  strategy_spec_file: str('The Dockerfile, relative to the context.', { default: 'Dockerfile' }),
  source_build_command: str('source strategy: shell command run in the snapshot (default npm ci when package-lock.json exists).'),
  source_include_node_modules: bool('source strategy: copy node_modules too (default false).'),
  timeout: int('Seconds.', { minimum: 1, maximum: MAX_BUILD_TIMEOUT, default: 600 }),
};
const buildRunLink = str(
  'Extension: the build run whose output_image the job runs (taken when the run succeeds; null detaches). Not with image_reference.',
);
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const link = obj({ href: str(undefined, { format: 'uri' }) }, ['href']);
const next = obj({ href: str(undefined, { format: 'uri' }), start: str() }, ['href', 'start']);
const list = (key: string, item: SchemaName): Schema =>
  obj({ [key]: arr(ref(item)), limit: int(), first: ref('PageLink'), next: ref('PageNext') }, [key, 'limit', 'first']);
const resourceBase = (resourceType: string): Record<string, Schema> => ({
  id: str(undefined, { format: 'uuid' }),
  name: str(),
  project_id: str(undefined, { format: 'uuid' }),
  region: str(),
  resource_type: str(undefined, { const: resourceType }),
  created_at: dateTime(),
  href: str('Absolute URL of the resource.', { format: 'uri' }),
});

const configName = str('1-253 of [a-z0-9-.], alphanumeric at both ends.', { maxLength: 253 });
const configData = (description: string): Schema => ({
  type: 'object',
  description: `${description} Keys: 1-253 of [-._a-zA-Z0-9]; a value at most 1 MiB; all data at most 1 MiB.`,
  propertyNames: { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 },
  additionalProperties: { type: 'string', maxLength: 1048576 },
});

const indexDetails = obj(
  {
    status: str(undefined, { enum: ['pending', 'running', 'succeeded', 'failed', 'unknown'] }),
    retries: int(),
    restarts: int('Daemon restarts (extension).'),
    last_failure_reason: str(),
    started_at: dateTime(),
    finished_at: dateTime(),
  },
  ['status', 'retries'],
);

export const SCHEMAS: Record<SchemaName, Schema> = {
  Error: obj(
    {
      errors: arr(
        obj(
          {
            code: str('Stable error code (docs/errors.md, docs/api.md).'),
            message: str(),
            target: obj({ type: str(undefined, { const: 'field' }), name: str('The field or parameter at fault.') }, ['type', 'name']),
          },
          ['code', 'message'],
        ),
      ),
      status_code: int(),
      trace: str('Correlates with the server log.'),
    },
    ['errors', 'status_code'],
  ),
  PageLink: link,
  PageNext: next,
  EnvVar: obj(
    { type: str(undefined, { enum: [...ENV_VAR_TYPES], default: 'literal' }), name: str(), value: str(), reference: str(), key: str(), prefix: str() },
    [],
  ),
  VolumeMount: obj(
    {
      type: str(undefined, { enum: [...VOLUME_MOUNT_TYPES], default: 'secret' }),
      reference: str(),
      mount_path: str(undefined, { maxLength: 256 }),
      sub_path: str(),
      read_only: bool(),
    },
    ['reference', 'mount_path'],
  ),
  Project: obj(
    {
      ...resourceBase('project_v2'),
      subdomain: str(),
      status: str(undefined, { enum: ['active', 'deleting'] }),
    },
    ['id', 'name', 'region', 'status', 'resource_type', 'created_at', 'href'],
  ),
  ProjectPrototype: obj(
    { name: str(undefined, { maxLength: 128 }), tags: arr(str(), { description: 'Accepted and ignored.' }), resource_group_id: str('Accepted and ignored.') },
    ['name'],
    { additionalProperties: false },
  ),
  ProjectList: list('projects', 'Project'),
  Job: obj(
    {
      ...resourceBase('job_v2'),
      entity_tag: str('Changes on every update; send it as If-Match.'),
      ...runtime,
      build: str('The build the job was made from (read-only).'),
      build_run: str('The build run whose output_image the job runs.'),
      last_job_run: obj({ name: str(), created_at: dateTime() }, ['name', 'created_at'], { description: 'Extension: the newest run of the job.' }),
    },
    ['id', 'name', 'project_id', 'region', 'resource_type', 'created_at', 'entity_tag', 'href', 'run_mode', 'scale_array_spec'],
  ),
  JobPrototype: obj({ name: str('1-63 of [a-z0-9-], alphanumeric at both ends.', { maxLength: 63 }), ...runtime, build_run: buildRunLink }, ['name'], {
    additionalProperties: false,
    description: 'At most 10 KiB of JSON.',
  }),
  JobPatch: obj({ ...Object.fromEntries(Object.entries(runtime).map(([k, v]) => [k, nullable(v)])), build_run: nullable(buildRunLink) }, [], {
    additionalProperties: false,
    description: 'A JSON merge patch: null resets a field to its default; lists are replaced whole.',
  }),
  JobList: list('jobs', 'Job'),
  IndexDetails: indexDetails,
  JobRunStatusDetails: obj(
    {
      start_time: dateTime(),
      completion_time: dateTime(),
      requested: int(),
      pending: int(),
      running: int(),
      succeeded: int(),
      failed: int(),
      unknown: int(),
      pending_indices: str(),
      running_indices: str(),
      succeeded_indices: str(),
      failed_indices: str(),
      indices_details: { type: 'object', additionalProperties: ref('IndexDetails') },
    },
    ['requested', 'pending', 'running', 'succeeded', 'failed', 'unknown', 'indices_details'],
  ),
  JobRun: obj(
    {
      ...resourceBase('job_run_v2'),
      job_name: str('The job it was submitted from (absent for a standalone run).'),
      scale_array_size_variable_override: int(undefined, { minimum: 1 }),
      ...runtime,
      status: str(undefined, { enum: [...JOB_RUN_STATUSES] }),
      status_details: ref('JobRunStatusDetails'),
    },
    ['id', 'name', 'project_id', 'region', 'resource_type', 'created_at', 'href', 'status', 'status_details'],
  ),
  JobRunPrototype: obj(
    {
      name: str('1-53 of [a-z0-9-]; generated when absent.', { maxLength: 53 }),
      job_name: str('The job to inherit; its image may not be overridden.'),
      scale_array_size_variable_override: int(undefined, { minimum: 1 }),
      ...runtime,
    },
    [],
    { additionalProperties: false, description: 'With job_name: overrides of the job. Without: a standalone run.' },
  ),
  JobRunList: list('job_runs', 'JobRun'),
  ConfigMap: obj(
    {
      ...resourceBase('config_map_v2'),
      entity_tag: str('Changes on every replace; send it as If-Match.'),
      data: configData('Key → value.'),
    },
    ['id', 'name', 'project_id', 'region', 'resource_type', 'created_at', 'entity_tag', 'href', 'data'],
  ),
  ConfigMapPrototype: obj({ name: configName, data: configData('Key → value (default: none).') }, ['name'], { additionalProperties: false }),
  ConfigMapReplace: obj({ name: str('Optional; must be the config map\'s name.'), data: configData('The new data: replaces every key.') }, ['data'], {
    additionalProperties: false,
  }),
  ConfigMapList: list('config_maps', 'ConfigMap'),
  Secret: obj(
    {
      ...resourceBase('secret_v2'),
      format: str(undefined, { enum: [...SECRET_FORMATS] }),
      entity_tag: str('Changes on every replace; send it as If-Match.'),
      data: configData('Key → value; every value reads REDACTED unless the request has reveal=true.'),
    },
    ['id', 'name', 'project_id', 'region', 'resource_type', 'format', 'created_at', 'entity_tag', 'href', 'data'],
  ),
  SecretPrototype: obj(
    {
      name: configName,
      format: str('generic: any keys; registry: username, password, server, email?; basic_auth: username, password; ssh_auth: ssh_key, known_hosts?; tls: tls_cert, tls_key; hmac_auth: access_key_id, secret_access_key.', {
        enum: [...SECRET_FORMATS],
        default: 'generic',
      }),
      data: configData('Key → value, as the format requires. Stored encrypted.'),
    },
    ['name'],
    { additionalProperties: false },
  ),
  SecretReplace: obj(
    {
      name: str('Optional; must be the secret\'s name.'),
      format: str('Optional; must be the secret\'s format (it cannot change).', { enum: [...SECRET_FORMATS] }),
      data: configData('The new data: replaces every key.'),
    },
    ['data'],
    { additionalProperties: false },
  ),
  SecretList: list('secrets', 'Secret'),
  Instance: obj(
    {
      name: str('<job run>-<index>-<retry>'),
      project_id: str(),
      job_run_name: str(),
      index: int(),
      retry: int(),
      state: str(undefined, { enum: ['pending', 'starting', 'running', 'backoff', 'stopping', 'succeeded', 'failed', 'stopped'] }),
      restarts: int(),
      attempts: int(),
      exit_code: int(),
      last_failure_reason: str(),
      message: str(),
      created_at: dateTime(),
      started_at: dateTime(),
      finished_at: dateTime(),
      driver: str(),
    },
    ['name', 'project_id', 'job_run_name', 'index', 'retry', 'state', 'restarts', 'attempts', 'created_at'],
  ),
  InstanceList: obj({ instances: arr(ref('Instance')) }, ['instances']),
  Event: obj(
    {
      id: int(),
      project_id: str(),
      job_run_name: str(),
      instance_name: str(),
      type: str(undefined, { enum: ['Normal', 'Warning'] }),
      reason: str(undefined, { enum: [...EVENT_REASONS] }),
      message: str(),
      count: int(),
      first_timestamp: dateTime(),
      last_timestamp: dateTime(),
    },
    ['id', 'project_id', 'job_run_name', 'type', 'reason', 'message', 'count', 'first_timestamp', 'last_timestamp'],
  ),
  EventList: obj({ events: arr(ref('Event')) }, ['events']),
  LogRecord: obj({ time: dateTime(), stream: str(undefined, { enum: ['stdout', 'stderr', 'system'] }), text: str() }, ['time', 'stream', 'text']),
  Logs: obj(
    { logs: arr(obj({ instance: str(), container: str(), records: arr(ref('LogRecord')) }, ['instance', 'container', 'records'])) },
    ['logs'],
  ),
  LogLine: obj(
    { instance: str(), container: str(), time: dateTime(), stream: str(undefined, { enum: ['stdout', 'stderr', 'system'] }), text: str() },
    ['instance', 'container', 'time', 'stream', 'text'],
    { description: 'One line of the application/x-ndjson stream of followed logs.' },
  ),
  RestartRequest: obj({ instance: str('Only this instance.') }, [], { additionalProperties: false }),
  RestartResult: obj({ restarted: arr(str()) }, ['restarted']),
  ChangeEvent: {
    description:
      'One server-sent event. `event: run` → {project_id, job_run_name, status, deleted?}; `event: instance` → ' +
      '{project_id, job_run_name, instance_name, state}; `event: event` → {project_id, job_run_name, instance_name?, type, reason, message}. ' +
      'A `: keep-alive` comment every 15 s.',
    type: 'object',
    properties: {
      project_id: str(),
      job_run_name: str(),
      status: str(undefined, { enum: [...JOB_RUN_STATUSES] }),
      deleted: bool(),
      instance_name: str(),
      state: str(),
      type: str(),
      reason: str(),
      message: str(),
    },
    required: ['project_id', 'job_run_name'],
  },
  ServerInfo: obj(
    {
      version: str(),
      driver: str(),
      capabilities: { type: 'object', description: 'What the driver enforces and its capacity.' },
      pid: int(),
      state_home: str(),
      started_at: dateTime(),
      url: str(undefined, { format: 'uri' }),
    },
    ['version', 'driver', 'capabilities', 'pid', 'state_home', 'started_at', 'url'],
  ),
  OpenApiDocument: { type: 'object', description: 'This document.' },
  Build: obj(
    {
      ...resourceBase('build_v2'),
      entity_tag: str('Changes on every update; send it as If-Match.'),
      status: str(undefined, { enum: ['ready'] }),
      output_image: str('Repository of the images this build makes (dockerfile), or the snapshot prefix (source).'),
      ...buildSpec,
    },
    ['id', 'name', 'project_id', 'region', 'resource_type', 'created_at', 'entity_tag', 'href', 'status', 'source_type', 'strategy_type', 'timeout'],
  ),
  BuildPrototype: obj({ name: str('1-63 of [a-z0-9-], alphanumeric at both ends.', { maxLength: 63 }), ...buildSpec }, ['name'], { additionalProperties: false }),
  BuildPatch: obj(buildSpec, [], { additionalProperties: false, description: 'A JSON merge patch; null removes an optional field.' }),
  BuildList: list('builds', 'Build'),
  SourceArchive: str('A tar archive of the source directory (extension).', { format: 'binary' }),
  SourceUploadResult: obj({ bytes: int('Size of the stored archive.') }, ['bytes']),
  BuildRun: obj(
    {
      ...resourceBase('build_run_v2'),
      build_name: str(),
      status: str(undefined, { enum: [...BUILD_RUN_STATUSES] }),
      status_details: obj({
        reason: str('Why it failed.', { enum: [...BUILD_FAILURE_REASONS] }),
        message: str('The cause, with the last lines of the build log.'),
        started_at: dateTime(),
        completed_at: dateTime(),
        output_digest: str('sha256:<hex> of the image or snapshot.'),
      }),
      output_image: str('Once succeeded: the immutable reference to use as image_reference.'),
      ...buildSpec,
    },
    ['id', 'name', 'project_id', 'region', 'resource_type', 'created_at', 'href', 'build_name', 'status', 'status_details'],
  ),
  BuildRunPrototype: obj(
    { build_name: str('The build to run.'), name: str('Default: <build>-run-<random>.', { maxLength: 63 }) },
    ['build_name'],
    { additionalProperties: false },
  ),
  BuildRunList: list('build_runs', 'BuildRun'),
  BuildRunLog: obj({ lines: arr(str(), { description: 'Lines of the build log, oldest first.' }) }, ['lines']),
};

/** Names of the component schemas. */
export type SchemaName =
  | 'Error'
  | 'PageLink'
  | 'PageNext'
  | 'EnvVar'
  | 'VolumeMount'
  | 'Project'
  | 'ProjectPrototype'
  | 'ProjectList'
  | 'Job'
  | 'JobPrototype'
  | 'JobPatch'
  | 'JobList'
  | 'IndexDetails'
  | 'JobRunStatusDetails'
  | 'JobRun'
  | 'JobRunPrototype'
  | 'JobRunList'
  | 'ConfigMap'
  | 'ConfigMapPrototype'
  | 'ConfigMapReplace'
  | 'ConfigMapList'
  | 'Secret'
  | 'SecretPrototype'
  | 'SecretReplace'
  | 'SecretList'
  | 'Instance'
  | 'InstanceList'
  | 'Event'
  | 'EventList'
  | 'LogRecord'
  | 'Logs'
  | 'LogLine'
  | 'RestartRequest'
  | 'RestartResult'
  | 'ChangeEvent'
  | 'ServerInfo'
  | 'OpenApiDocument'
  | 'Build'
  | 'BuildPrototype'
  | 'BuildPatch'
  | 'BuildList'
  | 'SourceArchive'
  | 'SourceUploadResult'
  | 'BuildRun'
  | 'BuildRunPrototype'
  | 'BuildRunList'
  | 'BuildRunLog';
