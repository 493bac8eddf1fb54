/**
 * Where drivers' exit reports enter the engine. Recording is a fact, not a decision: the exit is
 * stored on its instance (durably, before the driver may forget it) and the run is queued for
 * `syncRun`, which applies the policy.
 */
import type { AttemptExit } from '../drivers/driver.js';
import { ACTIVE_INSTANCE_STATES } from '../domain/instance-state.js';
import { admitSoon, syncSoon, type EngineContext } from './context.js';
import { parseAttemptId } from './instance-spec.js';

/**
 * Records an exit a driver reported (or a failed start) on its instance, if it belongs to the
 * instance's current, undecided attempt; the run's sync decides what follows. Duplicates and
 * exits of forgotten attempts are released at once.
 */
export function recordObservedExit(ctx: EngineContext, exit: AttemptExit): void {
  const id = parseAttemptId(exit.attemptId);
  const seq = id && ctx.store.runSeqById(id.runId);
  const recorded =
    id !== undefined &&
    seq !== undefined &&
    ctx.store.transaction(() => {
      const inst = ctx.store.getInstance(seq, id.index, id.retry);
      if (!inst || inst.attempt !== id.attempt || inst.observedExit || !ACTIVE_INSTANCE_STATES.includes(inst.state)) {
        return false;
      }
      inst.observedExit = exit;
      ctx.store.saveInstance(inst);
      return true;
    });
  if (!recorded) {
    // a duplicate, or an attempt the engine no longer waits for: let the driver forget it
    ctx.driver.release({ attemptId: exit.attemptId }).catch((e) => ctx.warn(`release ${exit.attemptId}`, e));
  }
  if (seq !== undefined) syncSoon(ctx, seq);
  if (recorded) admitSoon(ctx); // its capacity is free now
}
