/**
 * Resource shapes of the cejobs REST API (docs/api.md), as the client receives and sends them.
 * They reuse the domain types (src/domain/types.ts) and add what the HTTP layer adds: `href`,
 * the job's `last_job_run` extension, pagination envelopes, log records, change messages and
 * the server's self-description. Plain data only; no I/O here.
 */
import type {
  Instance,
  Job,
  JobPrototype,
  JobRun,
  JobRunPrototype,
  Project,
  RunEvent,
  RuntimeSpec,
} from '../domain/types.js';
import type { Build, BuildRun, BuildSpec } from '../domain/builds.js';

export type { Instance, JobPrototype, JobRunPrototype, RunEvent };

/** A build as the API returns it. */
export interface ApiBuild extends Build {
  href: string;
}

/** A build run as the API returns it. */
export interface ApiBuildRun extends BuildRun {
  href: string;
}

/** What a client sends to create a build (`strategy_type` defaults to the server's). */
export type BuildPrototype = { name: string } & Partial<BuildSpec>;

/** A merge patch of a build: `null` removes an optional field. */
export type BuildPatchBody = { [K in keyof BuildSpec]?: BuildSpec[K] | null };

export interface BuildRunPrototype {
  build_name: string;
  name?: string;
}

/** A project as the API returns it. */
export interface ApiProject extends Project {
  href: string;
}

/** A job as the API returns it; `last_job_run` is set when the job has runs (extension). */
export interface ApiJob extends Job {
  href: string;
  last_job_run?: { name: string; created_at: string };
}

/** A job run as the API returns it. */
export interface ApiJobRun extends JobRun {
  href: string;
}

/**
 * A JSON merge patch of a job (RFC 7396): a field set to `null` is removed (e.g. `image_secret`),
 * lists replace the job's lists whole.
 */
export type JobPatchBody = { [K in keyof RuntimeSpec]?: RuntimeSpec[K] | null };

/** `{name, tags?, resource_group_id?}`; the last two are accepted and ignored by the server. */
export interface ProjectPrototype {
  name: string;
  tags?: string[];
  resource_group_id?: string;
}

/** `limit` (1–100, server default 50) and `start` (a `next.start` token of a previous page). */
export interface PageOptions {
  limit?: number;
  start?: string;
}

/** The pagination envelope of every list; `items` is the list under its API key. */
export interface Page<T> {
  items: T[];
  limit: number;
  first?: { href: string };
  next?: { href: string; start: string };
}

/** One log line of an instance. `time` is ISO-8601. */
export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

/** The logs of one instance (all its records, oldest first). */
export interface InstanceLogs {
  instance: string;
  container: string;
  records: LogRecord[];
}

/** `GET …/logs` without `follow`: one entry per instance, by index then retry. */
export interface LogsResponse {
  logs: InstanceLogs[];
}

/** One line of `GET …/logs?follow=true` (NDJSON). */
export interface LogStreamRecord extends LogRecord {
  instance: string;
  container: string;
}

/** Payload of a `run` change message. */
export interface RunChange {
  project_id: string;
  job_run_name: string;
  status: string;
  deleted?: boolean;
}

/** Payload of an `instance` change message. */
export interface InstanceChange {
  project_id: string;
  job_run_name: string;
  instance_name: string;
  state: string;
}

/** Payload of an `event` change message. */
export interface EventChange {
  project_id: string;
  job_run_name: string;
  instance_name?: string;
  type: string;
  reason: string;
  message: string;
}

/**
 * One message of the change stream (`GET /v2/projects/{id}/changes`). Payloads carry names, not
 * documents: re-read what you care about. Messages with other event names are skipped.
 */
export type ChangeMessage =
  | { event: 'run'; data: RunChange }
  | { event: 'instance'; data: InstanceChange }
  | { event: 'event'; data: EventChange };

/** `GET /v2/server`. */
export interface ServerInfo {
  version: string;
  driver: string;
  capabilities: unknown;
  pid: number;
  state_home: string;
  started_at: string;
  url: string;
}

/** One entry of an API error body. */
export interface ApiErrorItem {
  code: string;
  message: string;
  target?: { type: string; name: string };
}

/** A config map as the API returns it (docs/api.md "Config maps and secrets"). */
export interface ApiConfigMap {
  id: string;
  name: string;
  project_id: string;
  region: string;
  resource_type: string;
  created_at: string;
  entity_tag: string;
  href: string;
  data: Record<string, string>;
}

/** `POST …/config_maps`. */
export interface ConfigMapPrototype {
  name: string;
  data: Record<string, string>;
}

/** The API's secret formats. */
export type SecretFormat = 'generic' | 'registry' | 'basic_auth' | 'ssh_auth' | 'tls' | 'hmac_auth';
export const SECRET_FORMATS: readonly SecretFormat[] = ['generic', 'registry', 'basic_auth', 'ssh_auth', 'tls', 'hmac_auth'];

/**
 * A secret as the API returns it. Every value of `data` reads `"REDACTED"` unless it was
 * requested with `reveal`.
 */
export interface ApiSecret {
  id: string;
  name: string;
  project_id: string;
  region: string;
  resource_type: string;
  format: SecretFormat;
  created_at: string;
  entity_tag: string;
  href: string;
  data: Record<string, string>;
}

/** `POST …/secrets`. */
export interface SecretPrototype {
  name: string;
  format: SecretFormat;
  data: Record<string, string>;
}

/** `PUT …/secrets/{name}`: replaces all data (the format cannot change). */
export interface SecretReplaceBody {
  format?: SecretFormat;
  data: Record<string, string>;
}
