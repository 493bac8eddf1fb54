/**
 * Builds the `InstanceSpec` a driver gets for one attempt: the run's runtime fields, the
 * instance's identity, its limits in base units and its full environment (the env contract of
 * SPEC, then the user's variables with Code Engine's precedence).
 */
import { attemptIdOf, type InstanceSpec } from '../drivers/driver.js';
import { composeEnv, instanceSystemEnv } from '../domain/env-vars.js';
import { CejobsError } from '../domain/errors.js';
import { parseMemory } from '../domain/quantities.js';
import type { InstanceRow, ProjectRow, RunRow } from '../store/rows.js';
import type { StateLayout } from './layout.js';
import type { EngineSettings } from './settings.js';

/** Looks up a config map's or secret's data; throws `not_found` when it does not exist. */
export type ConfigResolver = (projectId: string, kind: 'config_map' | 'secret', name: string) => Record<string, string>;

/** Until config maps and secrets are stored, every reference is to something that does not exist. */
export const noConfigResolver: ConfigResolver = (_projectId, kind, name) => {
  throw new CejobsError('not_found', `${kind === 'config_map' ? 'config map' : 'secret'} "${name}" was not found`);
};

export function buildInstanceSpec(input: {
  project: ProjectRow;
  run: RunRow;
  instance: InstanceRow;
  layout: StateLayout;
  settings: EngineSettings;
  resolve: ConfigResolver;
}): InstanceSpec {
  const { project, run, instance, layout, settings } = input;
  const spec = run.spec;
  const system = instanceSystemEnv({
    project: { id: project.id, subdomain: project.subdomain, region: project.region },
    domain: settings.domain,
    apiBaseUrl: settings.apiBaseUrl,
    jobName: run.jobName,
    runName: run.name,
    instanceName: instance.name,
    index: instance.index,
    arraySize: run.arraySizeOverride ?? run.indexCount,
    retry: instance.retry,
    retryLimit: spec.scale_retry_limit ?? 0,
    mode: spec.run_mode,
  });
  const env = composeEnv(system, spec.run_env_variables, (kind, name) => input.resolve(project.id, kind, name));
  const out: InstanceSpec = {
    attemptId: attemptIdOf(run.id, instance.index, instance.retry, instance.attempt),
    instanceName: instance.name,
    projectId: project.id,
    runId: run.id,
    runName: run.name,
    containerName: run.jobName ?? run.name,
    index: instance.index,
    retry: instance.retry,
    attempt: instance.attempt,
    mode: spec.run_mode,
    command: [...spec.run_commands],
    args: [...spec.run_arguments],
    env,
    mounts: [],
    runAsUser: spec.run_as_user,
    limits: {
      cpuMillis: instance.cpuMillis,
      memoryBytes: instance.memoryBytes,
      ephemeralStorageBytes: parseMemory(spec.scale_ephemeral_storage_limit, 'scale_ephemeral_storage_limit'),
    },
    logPath: layout.logPath(run.id, instance.name),
    workDir: layout.workDir(run.id, instance.name),
  };
  if (run.jobName !== undefined) out.jobName = run.jobName;
  if (spec.image_reference !== undefined) out.image = spec.image_reference;
  if (spec.image_secret !== undefined) out.imageSecret = spec.image_secret;
  return out;
}

/** Parses an attempt id back into its parts; `undefined` for an id that is not ours. */
export function parseAttemptId(id: string): { runId: string; index: number; retry: number; attempt: number } | undefined {
  const m = /^([0-9a-f-]{36})\.(\d+)\.(\d+)\.(\d+)$/.exec(id);
  if (!m) return undefined;
  return { runId: m[1]!, index: Number(m[2]), retry: Number(m[3]), attempt: Number(m[4]) };
}
