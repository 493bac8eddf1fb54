/**
 * Where drivers' exit reports enter the engine. Recording is a fact, not a decision: the exit is
 * stored on its instance (durably, before the driver may forget it) and the run is queued for
 * `syncRun`, which applies the policy.
 */
import type { AttemptExit } from '../drivers/driver.js';
import { ACTIVE_INSTANCE_STATES, transition } from '../domain/instance-state.js';
import { admitSoon, recordEvent, syncSoon, type Effects, type EngineContext } from './context.js';
import type { InstanceRow } from '../store/rows.js';
import { parseAttemptId } from './instance-spec.js';

/**
 * Records an exit a driver reported (or a failed start) on its instance, if it belongs to the
 * instance's current, undecided attempt; the run's sync decides what follows. Duplicates and
 * exits of forgotten attempts are released at once.
 */
export function recordObservedExit(ctx: EngineContext, exit: AttemptExit): void {
  const id = parseAttemptId(exit.attemptId);
  const seq = id && ctx.store.runSeqById(id.runId);
  const release = (): void => {
    // a duplicate, or an attempt the engine no longer waits for: let the driver forget it
    ctx.driver.release({ attemptId: exit.attemptId }).catch((e) => ctx.warn(`release ${exit.attemptId}`, e));
  };
  if (id === undefined || seq === undefined) return release();
  const recording = ctx.writes.write((effects) => {
    const inst = ctx.store.getInstance(seq, id.index, id.retry);
    if (!inst || inst.attempt !== id.attempt || inst.observedExit || !ACTIVE_INSTANCE_STATES.includes(inst.state)) {
      return false;
    }
    inst.observedExit = exit;
    if (inst.state === 'starting' && exit.outcome.kind !== 'start-failed' && exit.outcome.kind !== 'lost') {
      // It ran, but the reply of its start never got recorded (the engine crashed in between,
      // or the exit overtook the reply): record the start now, or its Started event is lost.
      recordStarted(ctx, effects, seq, inst, exit.startedAt);
    }
    ctx.store.saveInstance(inst);
    return true;
  });
  // Its capacity is free once it is recorded: the pass commits with this turn's batch.
  admitSoon(ctx);
  recording.then(
    (recorded) => {
      if (!recorded) release();
      syncSoon(ctx, seq);
    },
    // not recorded (the store failed): it is not released either, so the next engine gets it again
    (e) => ctx.warn(`exit ${exit.attemptId}`, e),
  );
}

/** `starting` → `running` with its `Started` event, for an attempt found running or exited. */
export function recordStarted(ctx: EngineContext, effects: Effects, seq: number, inst: InstanceRow, startedAt?: number): void {
  const run = ctx.store.getRunBySeq(seq);
  inst.state = transition(inst.state, 'running');
  inst.startedMs ??= startedAt ?? ctx.clock.now();
  inst.firstStartedMs ??= inst.startedMs;
  if (!run) return;
  recordEvent(ctx, effects, run, { instanceName: inst.name, type: 'Normal', reason: 'Started', message: `Started instance ${inst.name}` });
  const payload = { projectId: run.projectId, runName: run.name, instanceName: inst.name, state: inst.state };
  effects.notify(() => ctx.changes.emit('instance', payload));
}
