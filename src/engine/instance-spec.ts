/**
 * Builds the `InstanceSpec` a driver gets for one attempt: the run's runtime fields, the
 * instance's identity, its limits in base units, its full environment (the env contract of
 * SPEC, then the user's variables with Code Engine's precedence) and its config map / secret
 * mounts, plus where each referenced variable came from (`envSources`, `configObjects`) for
 * drivers that reference the objects instead of inlining values. References are resolved now, so an attempt sees the values current at its start; one
 * that does not resolve throws `CejobsError` (the attempt then fails `StartFailed`).
 */
import { attemptIdOf, type InstanceConfigObject, type InstanceMount, type InstanceSpec } from '../drivers/driver.js';
import { composeEnv, instanceSystemEnv, type EnvValueSource } from '../domain/env-vars.js';
import { CejobsError, isCejobsError } from '../domain/errors.js';
import type { VolumeMount } from '../domain/types.js';
import { parseMemory } from '../domain/quantities.js';
import type { InstanceRow, ProjectRow, RunRow } from '../store/rows.js';
import type { StateLayout } from './layout.js';
import type { EngineSettings } from './settings.js';

/** Looks up a config map's or secret's data; throws `not_found` when it does not exist. */
export type ConfigResolver = (projectId: string, kind: 'config_map' | 'secret', name: string) => Record<string, string>;

/** A resolver for which nothing exists (every reference fails `not_found`). */
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
  /** The working directory of a built image reference (a source snapshot), if any. */
  workDirOf?: (image: string) => string | undefined;
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
  // Every object resolved for env and mounts, once each, for `configObjects`.
  const objects = new Map<string, InstanceConfigObject>();
  const resolve = (kind: 'config_map' | 'secret', name: string): Record<string, string> => {
    const id = `${kind}/${name}`;
    const known = objects.get(id);
    if (known) return known.data;
    const data = input.resolve(project.id, kind, name);
    objects.set(id, { source: kind, name, data: { ...data } });
    return data;
  };
  const envSources: Record<string, EnvValueSource> = {};
  const env = composeEnv(system, spec.run_env_variables, resolve, envSources);
  const mounts = resolveMounts(spec.run_volume_mounts, resolve);
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
    mounts,
    envSources,
    configObjects: [...objects.values()],
    runAsUser: spec.run_as_user,
    limits: {
      cpuMillis: instance.cpuMillis,
      memoryBytes: instance.memoryBytes,
      ephemeralStorageBytes: parseMemory(spec.scale_ephemeral_storage_limit, 'scale_ephemeral_storage_limit'),
    },
    logPath: layout.logPath(run.id, instance.name),
    logMaxBytes: settings.logMaxBytes,
    workDir: layout.workDir(run.id, instance.name),
  };
  if (run.jobName !== undefined) out.jobName = run.jobName;
  if (spec.image_reference !== undefined) {
    out.image = spec.image_reference;
    const cwd = input.workDirOf?.(spec.image_reference);
    if (cwd !== undefined) out.cwd = cwd;
  }
  if (spec.image_secret !== undefined) {
    out.imageSecret = spec.image_secret;
    out.imagePullCredentials = pullCredentials(spec.image_secret, input.resolve(project.id, 'secret', spec.image_secret));
  }
  return out;
}

/** The pull credentials of a registry secret (`image_secret`); refuses a secret of another shape. */
export function pullCredentials(name: string, data: Record<string, string>): NonNullable<InstanceSpec['imagePullCredentials']> {
  const { server, username, password, email } = data;
  if (!server || !username || password === undefined) {
    throw new CejobsError(
      'invalid_field',
      `image_secret "${name}" is not a registry secret: it needs the keys server, username and password`,
    );
  }
  return email ? { server, username, password, email } : { server, username, password };
}

/**
 * The config map and secret mounts of a run as `InstanceMount`s: one per `run_volume_mounts`
 * entry of type `config_map` or `secret`, in order, `mountPath` normalised (no trailing or
 * doubled `/`), `files` = the object's data (key → content). Persistent data stores are
 * refused before a run exists (`checkRunnable`) and skipped here. A missing object is
 * `not_found` naming it and its mount path.
 */
export function resolveMounts(
  mounts: readonly VolumeMount[],
  resolve: (kind: 'config_map' | 'secret', name: string) => Record<string, string>,
): InstanceMount[] {
  const out: InstanceMount[] = [];
  mounts.forEach((m, i) => {
    if (m.type !== 'config_map' && m.type !== 'secret') return;
    const mountPath = '/' + m.mount_path.split('/').filter((s) => s !== '').join('/');
    let files: Record<string, string>;
    try {
      files = resolve(m.type, m.reference);
    } catch (e) {
      if (isCejobsError(e) && e.code === 'not_found') {
        throw new CejobsError('not_found', `${e.message} (run_volume_mounts[${i}], mounted at ${mountPath})`);
      }
      throw e;
    }
    out.push({ mountPath, source: m.type, name: m.reference, files: { ...files } });
  });
  return out;
}

/** Parses an attempt id back into its parts; `undefined` for an id that is not ours. */
export function parseAttemptId(id: string): { runId: string; index: number; retry: number; attempt: number } | undefined {
  const m = /^([0-9a-f-]{36})\.(\d+)\.(\d+)\.(\d+)$/.exec(id);
  if (!m) return undefined;
  return { runId: m[1]!, index: Number(m[2]), retry: Number(m[3]), attempt: Number(m[4]) };
}
