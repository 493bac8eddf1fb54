/**
 * Job-run operations of the engine: submit (create the run, its instances and its first event
 * in one transaction), restart on request, and waiting for a run to finish. Each only writes
 * intent to the store and queues keys; `syncRun` and `admit` do the rest.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Driver } from '../drivers/driver.js';
import { parseArraySpec } from '../domain/array-spec.js';
import { CejobsError, type FieldIssue } from '../domain/errors.js';
import { transition } from '../domain/instance-state.js';
import { generateRunName, instanceName } from '../domain/names.js';
import { parseCpu, parseMemory } from '../domain/quantities.js';
import { isRunTerminal } from '../domain/run-state.js';
import { computeStatusDetails } from '../domain/status-details.js';
import type { RuntimeSpec } from '../domain/types.js';
import { validateJobRunPrototype } from '../domain/validate.js';
import type { InstanceRow, ProjectRow, RunRow } from '../store/rows.js';
import { ADMISSION_KEY, Effects, recordEvent, refOf, runKey, type EngineContext } from './context.js';

/**
 * Refuses specs the driver cannot run: no command where nothing supplies one, no image where
 * images run, a persistent data store mount (cejobs has none), config map / secret mounts on a
 * driver that cannot mount (`capabilities.mounts.enforced` false).
 */
export function checkRunnable(driver: Driver, spec: RuntimeSpec, options: { imagePending?: boolean } = {}): void {
  const caps = driver.capabilities;
  const mountIssues: FieldIssue[] = [];
  spec.run_volume_mounts.forEach((m, i) => {
    if (m.type === 'persistent_data_store') {
      const field = `run_volume_mounts[${i}].type`;
      mountIssues.push({
        code: 'invalid_field',
        field,
        message: `${field} "persistent_data_store" is not valid: persistent data stores are not supported by cejobs; mount a config_map or a secret`,
      });
    }
  });
  if (mountIssues.length) throw CejobsError.fromIssues(mountIssues);
  if (spec.run_volume_mounts.length > 0 && !caps.mounts.enforced) {
    const message =
      `run_volume_mounts: the ${driver.name} driver cannot mount config maps or secrets as files (${caps.mounts.how}); ` +
      `reference them in run_env_variables instead, or use a driver that mounts`;
    throw new CejobsError('invalid_field', message, [{ code: 'invalid_field', field: 'run_volume_mounts', message }]);
  }
  if (caps.requiresCommand && spec.run_commands.length === 0 && spec.run_arguments.length === 0) {
    const message =
      `run_commands: the ${driver.name} driver runs programs on this host and pulls no image, ` +
      `so a command is required (e.g. --cmd /bin/sh --arg -c --arg 'echo hi')`;
    throw new CejobsError('command_required', message, [{ code: 'command_required', field: 'run_commands', message }]);
  }
  if (caps.runsImages && !spec.image_reference && !options.imagePending) {
    const message = `image_reference: the ${driver.name} driver runs images, so an image is required`;
    throw new CejobsError('missing_field', message, [{ code: 'missing_field', field: 'image_reference', message }]);
  }
}

/**
 * Creates a run from a prototype (parsed JSON): with `job_name` it inherits the job and applies
 * the overrides; without, it is a standalone run. One pending instance per index.
 */
export function createRun(ctx: EngineContext, project: ProjectRow, input: unknown): RunRow {
  const jobName =
    typeof input === 'object' && input !== null && typeof (input as { job_name?: unknown }).job_name === 'string'
      ? (input as { job_name: string }).job_name
      : undefined;
  const job = jobName === undefined ? undefined : ctx.store.getJob(project.id, jobName);
  if (jobName !== undefined && !job) {
    const message = `job_name: job '${jobName}' was not found in project '${project.name}'.`;
    throw new CejobsError('not_found', message, [{ code: 'not_found', field: 'job_name', message }]);
  }
  const proto = validateJobRunPrototype(input, job && { name: job.name, ...job.spec });
  const spec = proto.spec;
  checkRunnable(ctx.driver, spec);
  const indices = parseArraySpec(spec.scale_array_spec);
  const cpuMillis = parseCpu(spec.scale_cpu_limit);
  const memoryBytes = parseMemory(spec.scale_memory_limit);
  const now = ctx.clock.now();
  const effects = new Effects();
  const row = ctx.store.transaction(() => {
    let name = proto.name;
    if (name === undefined) {
      do name = generateRunName(job?.name, ctx.random);
      while (ctx.store.getRun(project.id, name));
    } else {
      const existing = ctx.store.getRun(project.id, name);
      if (existing) {
        throw existing.deleting
          ? new CejobsError('already_exists', `Job run '${name}' is still being deleted; wait for it or choose another name.`)
          : CejobsError.alreadyExists('Job run', name);
      }
    }
    const pending = indices.map((index) => ({ index, state: 'pending' as const, retry: 0, restarts: 0 }));
    const run: Omit<RunRow, 'seq'> = {
      id: crypto.randomUUID(),
      projectId: project.id,
      name,
      jobName: job?.name,
      createdMs: now,
      spec,
      arraySizeOverride: proto.scale_array_size_variable_override,
      indexCount: indices.length,
      status: 'pending',
      statusDetailsJson: JSON.stringify(computeStatusDetails(spec.run_mode, pending, undefined, undefined)),
      deleting: false,
    };
    const seq = ctx.store.insertRun(run);
    for (const index of indices) {
      const inst: InstanceRow = {
        runSeq: seq,
        index,
        retry: 0,
        name: instanceName(name, index, 0),
        state: 'pending',
        attempt: -1,
        restarts: 0,
        failures: 0,
        cpuMillis,
        memoryBytes,
        createdMs: now,
      };
      ctx.store.insertInstance(inst);
    }
    const created: RunRow = { ...run, seq };
    recordEvent(ctx, effects, created, {
      type: 'Normal',
      reason: 'Created',
      message: `Job run ${name} submitted with ${indices.length} ${indices.length === 1 ? 'index' : 'indices'} (${spec.run_mode} mode)`,
    });
    effects.notify(() => ctx.changes.emit('run', { projectId: project.id, runName: created.name, status: 'pending' }));
    return created;
  });
  fs.mkdirSync(ctx.layout.runLogDir(row.id), { recursive: true });
  void effects.run(ctx);
  ctx.queue.add(runKey(row.seq));
  ctx.queue.add(ADMISSION_KEY);
  return row;
}

/**
 * Restarts the running instances of a run (or the one named): each is stopped and started
 * again at once, counted as a restart, not as a failure. Returns the names restarted.
 */
export function restartInstances(ctx: EngineContext, run: RunRow, instance?: string): string[] {
  const effects = new Effects();
  const restarted: string[] = [];
  ctx.store.transaction(() => {
    const all = ctx.store.instancesOfRun(run.seq);
    if (instance !== undefined && !all.some((i) => i.name === instance)) throw CejobsError.notFound('Instance', instance);
    for (const inst of all) {
      if (instance !== undefined && inst.name !== instance) continue;
      if (inst.state !== 'running' && inst.state !== 'starting') continue;
      inst.stopReason = 'restart';
      inst.state = transition(inst.state, 'stopping');
      ctx.store.saveInstance(inst);
      effects.stop(refOf(run, inst));
      restarted.push(inst.name);
      recordEvent(ctx, effects, run, {
        instanceName: inst.name,
        type: 'Normal',
        reason: 'Killing',
        message: `Stopping instance ${inst.name} to restart it`,
      });
    }
  });
  void effects.run(ctx);
  return restarted;
}

/**
 * Resolves with the run once it is `completed` or `failed`; rejects when it is deleted or
 * `signal` aborts. Driven by change notifications, never by polling.
 */
export function waitForTerminal(ctx: EngineContext, projectId: string, name: string, signal?: AbortSignal): Promise<RunRow> {
  return new Promise<RunRow>((resolve, reject) => {
    const check = (): void => {
      const row = ctx.store.getRun(projectId, name);
      if (!row || row.deleting) {
        finish();
        reject(CejobsError.notFound('Job run', name));
      } else if (isRunTerminal(row.status)) {
        finish();
        resolve(row);
      }
    };
    const off = ctx.changes.on('run', (c) => {
      if (c.projectId === projectId && c.runName === name) check();
    });
    const onAbort = (): void => {
      finish();
      reject(signal?.reason ?? new Error('aborted'));
    };
    const finish = (): void => {
      off();
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort);
    check();
  });
}
