/**
 * `syncRun(seq)`: the level-triggered reconcile of one job run. It reads the run and all its
 * instances from the store and converges them, so calling it twice, late, or after a crash is
 * always safe:
 *
 *   1. a run being deleted: stop what is alive, mark the rest stopped, purge when nothing lives;
 *   2. exits the drivers reported (`observedExit`) are decided by `domain/policy`:
 *      succeed, fail, retry as a new instance after a backoff, restart in place, or stop;
 *   3. the run's deadline (task mode): unfinished indices fail `MaxExecutionTimeExceeded`;
 *   4. instances whose backoff is over become `pending` (admission starts them);
 *   5. `status` and `status_details` are recomputed and stored; reaching a terminal status is
 *      an event.
 *
 * Decisions happen in one transaction (with the facts of the turn, `WriteBatch`); driver calls
 * run after the commit (`Effects`).
 */
import { effectiveExitCode } from '../domain/failure-reasons.js';
import { isActive, isTerminal, transition } from '../domain/instance-state.js';
import { instanceName } from '../domain/names.js';
import { decideAfterExit } from '../domain/policy.js';
import { isRunTerminal, runStatusOf, transitionRun } from '../domain/run-state.js';
import { computeStatusDetails, type IndexView } from '../domain/status-details.js';
import { indexStatusOf } from '../domain/run-state.js';
import type { EventReason, EventType } from '../domain/types.js';
import type { InstanceRow, RunRow } from '../store/rows.js';
import { Effects, recordEvent, refOf, runKey, type EngineContext } from './context.js';

export async function syncRun(ctx: EngineContext, seq: number): Promise<void> {
  // Committed with the facts of this turn, so the pass decides every exit that has arrived.
  const wakeInMs = await ctx.writes.commit((effects) => decide(ctx, effects, seq));
  if (wakeInMs !== undefined) ctx.queue.addAfter(runKey(seq), Math.max(1, wakeInMs));
}

/** The decisions of one sync, inside its transaction; returns when to look again, if ever. */
function decide(ctx: EngineContext, effects: Effects, seq: number): number | undefined {
  const run = ctx.store.getRunBySeq(seq);
  if (!run) return undefined;
  const instances = ctx.store.instancesOfRun(seq);
  if (run.deleting) {
    syncDeletion(ctx, effects, run, instances);
    return undefined;
  }
  const now = ctx.clock.now();
  for (const inst of instances) {
    if (inst.observedExit && isActive(inst.state)) applyExit(ctx, effects, run, inst, instances);
  }
  const deadlineWake = enforceDeadline(ctx, effects, run, instances, now);
  let backoffWake: number | undefined;
  for (const inst of instances) {
    if (inst.state !== 'backoff') continue;
    if ((inst.notBeforeMs ?? 0) <= now) {
      setState(ctx, effects, run, inst, 'pending');
      ctx.store.saveInstance(inst);
      effects.admission = true;
    } else {
      let wait = inst.notBeforeMs! - now;
      if (wait > ctx.settings.backoff.maxMs) {
        // No backoff is longer than the cap: the wall clock went back. Keep the cap, not the
        // jump (else the instance would wait as long as the clock went back).
        wait = ctx.settings.backoff.maxMs;
        inst.notBeforeMs = now + wait;
        ctx.store.saveInstance(inst);
      }
      backoffWake = backoffWake === undefined ? wait : Math.min(backoffWake, wait);
    }
  }
  updateStatus(ctx, effects, run, instances, now);
  const wakes = [deadlineWake, backoffWake].filter((w): w is number => w !== undefined);
  return wakes.length && !isRunTerminal(run.status) ? Math.min(...wakes) : undefined;
}

function setState(ctx: EngineContext, effects: Effects, run: RunRow, inst: InstanceRow, to: InstanceRow['state']): void {
  if (inst.state === to) return;
  inst.state = transition(inst.state, to);
  const payload = { projectId: run.projectId, runName: run.name, instanceName: inst.name, state: to };
  effects.notify(() => ctx.changes.emit('instance', payload));
}

function syncDeletion(ctx: EngineContext, effects: Effects, run: RunRow, instances: InstanceRow[]): void {
  let alive = 0;
  for (const inst of instances) {
    if (isActive(inst.state)) {
      if (inst.observedExit) {
        inst.finishedMs = inst.observedExit.finishedAt;
        effects.release(refOf(run, inst));
        inst.observedExit = undefined;
        setState(ctx, effects, run, inst, 'stopped');
      } else {
        alive++;
        if (inst.state !== 'stopping' || inst.stopReason !== 'delete') {
          setState(ctx, effects, run, inst, 'stopping');
          inst.stopReason = 'delete';
          effects.stop(refOf(run, inst));
          recordEvent(ctx, effects, run, {
            instanceName: inst.name,
            type: 'Normal',
            reason: 'Killing',
            message: 'Stopping instance: the job run is being deleted',
          });
        }
      }
      ctx.store.saveInstance(inst);
    } else if (!isTerminal(inst.state)) {
      setState(ctx, effects, run, inst, 'stopped');
      ctx.store.saveInstance(inst);
    }
  }
  if (alive > 0) return;
  ctx.store.deleteRun(run.seq);
  effects.removeDir(ctx.layout.runLogDir(run.id));
  effects.removeDir(ctx.layout.runWorkDir(run.id));
  effects.admission = true;
  effects.notify(() =>
    ctx.changes.emit('run', { projectId: run.projectId, runName: run.name, status: run.status, deleted: true }),
  );
  const project = ctx.store.getProject(run.projectId);
  if (project?.status === 'deleting' && ctx.store.runSeqsOfProject(project.id).length === 0) {
    ctx.store.deleteProject(project.id, ctx.clock.now());
  }
}

function applyExit(ctx: EngineContext, effects: Effects, run: RunRow, inst: InstanceRow, all: InstanceRow[]): void {
  const exit = inst.observedExit!;
  const startedAt = exit.startedAt ?? inst.startedMs;
  const decision = decideAfterExit(
    {
      mode: run.spec.run_mode,
      outcome: exit.outcome,
      stopReason: inst.stopReason,
      retry: inst.retry,
      retryLimit: run.spec.scale_retry_limit ?? 0,
      failures: inst.failures,
      ranForMs: startedAt === undefined ? 0 : Math.max(0, exit.finishedAt - startedAt),
    },
    ctx.settings.backoff,
    ctx.random,
  );
  effects.release(refOf(run, inst));
  // (its capacity was freed when the exit was recorded, and admission ran then)
  inst.observedExit = undefined;
  inst.exitCode = effectiveExitCode(exit.outcome) ?? undefined;
  if (startedAt !== undefined) inst.firstStartedMs ??= startedAt;
  const now = ctx.clock.now();
  const ev = (type: EventType, reason: EventReason, message: string): void =>
    recordEvent(ctx, effects, run, { instanceName: inst.name, type, reason, message });

  switch (decision.action) {
    case 'succeed':
      inst.finishedMs = exit.finishedAt;
      inst.stopReason = undefined;
      setState(ctx, effects, run, inst, 'succeeded');
      ev('Normal', 'Succeeded', `Instance ${inst.name} exited with code 0`);
      break;
    case 'stop':
      inst.finishedMs = exit.finishedAt;
      setState(ctx, effects, run, inst, 'stopped');
      break;
    case 'fail':
      inst.finishedMs = exit.finishedAt;
      inst.reason = decision.reason;
      inst.message = decision.message;
      setState(ctx, effects, run, inst, 'failed');
      ev('Warning', 'Failed', `Instance ${inst.name} ${decision.message} (${decision.reason})`);
      break;
    case 'retry': {
      inst.finishedMs = exit.finishedAt;
      inst.reason = decision.reason;
      inst.message = decision.message;
      setState(ctx, effects, run, inst, 'failed');
      ev('Warning', 'Failed', `Instance ${inst.name} ${decision.message} (${decision.reason})`);
      const next: InstanceRow = {
        runSeq: run.seq,
        index: inst.index,
        retry: inst.retry + 1,
        name: instanceName(run.name, inst.index, inst.retry + 1),
        state: 'backoff',
        attempt: -1,
        restarts: 0,
        failures: decision.failures,
        cpuMillis: inst.cpuMillis,
        memoryBytes: inst.memoryBytes,
        createdMs: now,
        notBeforeMs: now + decision.delayMs,
        // the index's first start travels with it (indices_details.started_at)
        firstStartedMs: inst.firstStartedMs,
      };
      ctx.store.insertInstance(next);
      ctx.store.saveInstance(next);
      all.push(next);
      recordEvent(ctx, effects, run, {
        instanceName: next.name,
        type: 'Normal',
        reason: 'Retrying',
        message: `Index ${inst.index} will be retried as ${next.name} (retry ${next.retry} of ${run.spec.scale_retry_limit ?? 0})`,
      });
      break;
    }
    case 'rerun':
      inst.stopReason = undefined;
      inst.handle = undefined;
      setState(ctx, effects, run, inst, 'pending');
      effects.admission = true;
      ev('Warning', 'InstanceLost', `Instance ${inst.name} ${decision.message}; it starts again without using a retry`);
      break;
    case 'restart': {
      const requested = inst.stopReason === 'restart';
      inst.stopReason = undefined;
      inst.restarts += 1;
      inst.failures = decision.failures;
      inst.notBeforeMs = now + decision.delayMs;
      if (decision.reason) {
        inst.reason = decision.reason;
        inst.message = decision.message;
      }
      setState(ctx, effects, run, inst, 'backoff');
      if (requested) ev('Normal', 'Restarting', `Restarting instance ${inst.name} on request`);
      else ev('Warning', 'BackOff', `Back-off restarting failed instance ${inst.name} (${decision.reason})`);
      break;
    }
  }
  ctx.store.saveInstance(inst);
}

/** Fails what is unfinished once the run's deadline passed; returns ms until it, if ahead. */
function enforceDeadline(
  ctx: EngineContext,
  effects: Effects,
  run: RunRow,
  instances: InstanceRow[],
  now: number,
): number | undefined {
  const limit = run.spec.scale_max_execution_time;
  if (run.spec.run_mode !== 'task' || limit === undefined || run.startMs === undefined) return undefined;
  if (isRunTerminal(run.status)) return undefined;
  const deadline = run.startMs + limit * 1000;
  if (now < deadline) return deadline - now;
  let hit = false;
  for (const inst of latestPerIndex(instances)) {
    if (isTerminal(inst.state)) continue;
    hit = true;
    if (isActive(inst.state)) {
      if (inst.stopReason !== 'deadline') {
        inst.stopReason = 'deadline';
        setState(ctx, effects, run, inst, 'stopping');
        effects.stop(refOf(run, inst));
        ctx.store.saveInstance(inst);
      }
    } else {
      inst.reason = 'MaxExecutionTimeExceeded';
      inst.message = 'the job run exceeded its maximum execution time before this index finished';
      inst.finishedMs = now;
      setState(ctx, effects, run, inst, 'failed');
      ctx.store.saveInstance(inst);
    }
  }
  if (hit) {
    recordEvent(ctx, effects, run, {
      type: 'Warning',
      reason: 'DeadlineExceeded',
      message: `Job run exceeded its maximum execution time of ${limit}s; stopping unfinished instances`,
    });
  }
  return undefined;
}

/** The latest instance (highest retry) of every index. */
export function latestPerIndex(instances: readonly InstanceRow[]): InstanceRow[] {
  const byIndex = new Map<number, InstanceRow>();
  for (const i of instances) {
    const cur = byIndex.get(i.index);
    if (!cur || i.retry > cur.retry) byIndex.set(i.index, i);
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

function updateStatus(ctx: EngineContext, effects: Effects, run: RunRow, instances: InstanceRow[], now: number): void {
  const latest = latestPerIndex(instances);
  const lastFailure = new Map<number, string>();
  for (const i of instances) if (i.reason) lastFailure.set(i.index, i.reason);
  const views: IndexView[] = latest.map((i) => ({
    index: i.index,
    state: i.state,
    retry: i.retry,
    restarts: i.restarts,
    firstStartedMs: i.firstStartedMs,
    finishedMs: i.finishedMs,
    lastFailureReason: lastFailure.get(i.index),
  }));
  const mode = run.spec.run_mode;
  const status = runStatusOf(
    latest.map((i) => indexStatusOf(i.state, mode)),
    run.startMs !== undefined,
  );
  const before = run.status;
  run.status = transitionRun(run.status, status);
  if (isRunTerminal(run.status) && run.completionMs === undefined) run.completionMs = now;
  const details = computeStatusDetails(mode, views, run.startMs, run.completionMs);
  const json = JSON.stringify(details);
  if (before === run.status && json === run.statusDetailsJson) return;
  run.statusDetailsJson = json;
  ctx.store.updateRunStatus(run.seq, run);
  if (before !== run.status && run.status === 'completed') {
    recordEvent(ctx, effects, run, { type: 'Normal', reason: 'Completed', message: 'JobRun completed successfully' });
  } else if (before !== run.status && run.status === 'failed') {
    recordEvent(ctx, effects, run, {
      type: 'Warning',
      reason: 'Failed',
      message: `JobRun failed: ${details.failed} of ${latest.length} indices failed (${details.failed_indices ?? ''})`,
    });
  }
  const payload = { projectId: run.projectId, runName: run.name, status: run.status };
  effects.notify(() => ctx.changes.emit('run', payload));
}
