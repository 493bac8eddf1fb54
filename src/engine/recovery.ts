/**
 * Recovery at engine start: every instance the store says may be alive on the driver is looked
 * up again (`Driver.recover`), never restarted blindly:
 *
 * - still running → kept (a `starting` one becomes `running`; a `stopping` one is asked to stop
 *   again, since the request may have been lost with the old process);
 * - exited while the engine was down → its exit is recorded and decided as usual;
 * - vanished → marked lost: it goes back to `pending` and runs again **without consuming a
 *   retry** (event `InstanceLost`).
 */
import { ACTIVE_INSTANCE_STATES, transition } from '../domain/instance-state.js';
import { coerceError } from '../domain/errors.js';
import type { InstanceRow, RunRow } from '../store/rows.js';
import { Effects, recordEvent, refOf, runKey, type EngineContext } from './context.js';
import { recordObservedExit, recordStarted } from './exits.js';

const RECOVERY_CONCURRENCY = 32;

export async function recoverInstances(ctx: EngineContext): Promise<void> {
  const active = ctx.store.instancesInStates(ACTIVE_INSTANCE_STATES);
  const runs = new Map<number, RunRow | undefined>();
  const runOf = (seq: number): RunRow | undefined => {
    if (!runs.has(seq)) runs.set(seq, ctx.store.getRunBySeq(seq));
    return runs.get(seq);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < active.length) {
      const inst = active[next++]!;
      const run = runOf(inst.runSeq);
      if (!run) continue;
      if (inst.observedExit) {
        ctx.queue.add(runKey(run.seq));
        continue;
      }
      await recoverOne(ctx, run, inst);
    }
  };
  await Promise.all(Array.from({ length: RECOVERY_CONCURRENCY }, worker));
}

async function recoverOne(ctx: EngineContext, run: RunRow, inst: InstanceRow): Promise<void> {
  const ref = refOf(run, inst);
  let found;
  try {
    found = await ctx.driver.recover(ref);
  } catch (e) {
    // The runtime cannot answer now: leave the instance as it is; its run's sync retries later.
    ctx.warn(`recover ${ref.attemptId}: ${coerceError(e).message}`);
    ctx.queue.addAfter(runKey(run.seq), 5000);
    return;
  }
  if (found.state === 'exited') {
    recordObservedExit(ctx, found.exit);
    return;
  }
  const effects = new Effects();
  ctx.store.transaction(() => {
    const cur = ctx.store.getInstance(inst.runSeq, inst.index, inst.retry);
    if (!cur || cur.attempt !== inst.attempt || cur.observedExit) return;
    if (found.state === 'running') {
      // its start reply was lost with the old process: record the start (and its event) now
      if (cur.state === 'starting') recordStarted(ctx, effects, run.seq, cur);
      if (cur.state === 'stopping') effects.stop(ref);
    } else {
      cur.state = transition(cur.state, 'pending');
      cur.handle = undefined;
      cur.stopReason = cur.stopReason === 'delete' ? 'delete' : undefined;
      recordEvent(ctx, effects, run, {
        instanceName: cur.name,
        type: 'Warning',
        reason: 'InstanceLost',
        message: `Instance ${cur.name} vanished while cejobs was not running; it starts again without using a retry`,
      });
      effects.admission = true;
    }
    ctx.store.saveInstance(cur);
  });
  await effects.run(ctx);
  ctx.queue.add(runKey(run.seq));
}
