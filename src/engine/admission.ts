/**
 * Admission: starts pending instances while their cpu and memory fit the capacity, strictly in
 * FIFO order (oldest run first, then index, then retry): when the head of the queue does not
 * fit, nothing behind it starts, so large instances are never starved by small ones. An
 * instance that can never fit fails at once with `Unschedulable`.
 *
 * The decision (pending → starting, attempt + 1) is committed before the driver is asked, so a
 * crash in between leaves a `starting` instance that recovery finds again by its attempt id.
 * Starts run concurrently and are not awaited by the queue; their results are recorded as they
 * arrive (`starting → running`, or an exit).
 */
import type { AttemptExit } from '../drivers/driver.js';
import { ACTIVE_INSTANCE_STATES, transition } from '../domain/instance-state.js';
import { formatBytes } from '../domain/quantities.js';
import { coerceError, isCejobsError } from '../domain/errors.js';
import type { InstanceRow, PendingInstance, ProjectRow, RunRow } from '../store/rows.js';
import { ADMISSION_KEY, Effects, recordEvent, refOf, runKey, syncSoon, type EngineContext } from './context.js';
import { buildInstanceSpec } from './instance-spec.js';
import { SecretBoxError } from './secret-box.js';
import { recordObservedExit } from './exits.js';

interface Admitted {
  project: ProjectRow;
  run: RunRow;
  instance: InstanceRow;
}

const cpuText = (millis: number): string => String(millis / 1000);

/**
 * Pending instances, oldest run first, read a page at a time: 1, then doubling up to 64. Most
 * passes admit one or two instances (an exit freed their capacity), and a row costs about as
 * much to read as the query around it, so the first page is small.
 */
function* pendingInFifoOrder(ctx: EngineContext, max: number): Generator<PendingInstance> {
  let pageSize = 1;
  let cursor: [number, number, number] = [-1, -1, -1];
  let count = 0;
  while (count < max) {
    const page = ctx.store.pendingInstancesAfter(cursor, Math.min(pageSize, max - count));
    pageSize = Math.min(64, pageSize * 2);
    if (page.length === 0) return;
    for (const inst of page) {
      count++;
      yield inst;
    }
    const last = page[page.length - 1]!;
    cursor = [last.runSeq, last.index, last.retry];
  }
}

export async function admit(ctx: EngineContext, track: (p: Promise<void>) => void): Promise<void> {
  // Committed with the facts of this turn (exits that freed the capacity it hands out).
  const { admitted, more } = await ctx.writes.commit((effects) => decide(ctx, effects));
  const touched = new Set<number>();
  for (const a of admitted) {
    track(startOne(ctx, a));
    touched.add(a.run.seq);
  }
  for (const seq of touched) syncSoon(ctx, seq); // a burst of admissions costs one pass
  if (more) ctx.queue.add(ADMISSION_KEY);
}

/** The admission decisions of one pass, inside its transaction. */
function decide(ctx: EngineContext, effects: Effects): { admitted: Admitted[]; more: boolean } {
  const admitted: Admitted[] = [];
  const capacity = ctx.settings.capacity === undefined ? ctx.driver.capabilities.capacity : ctx.settings.capacity;
  const used = ctx.store.usedCapacity(ACTIVE_INSTANCE_STATES);
  const runs = new Map<number, RunRow | undefined>();
  const projects = new Map<string, ProjectRow | undefined>();
  const now = ctx.clock.now();
  let blocked = false;
  let seen = 0;
  for (const next of pendingInFifoOrder(ctx, ctx.settings.admissionBatch)) {
    seen++;
    let run = runs.get(next.runSeq);
    if (!runs.has(next.runSeq)) {
      run = ctx.store.getRunBySeq(next.runSeq);
      runs.set(next.runSeq, run);
    }
    if (!run || run.deleting) continue;
    if (capacity && (next.cpuMillis > capacity.cpuMillis || next.memoryBytes > capacity.memoryBytes)) {
      const inst = ctx.store.getInstance(next.runSeq, next.index, next.retry)!;
      inst.state = transition(inst.state, 'failed');
      inst.reason = 'Unschedulable';
      inst.message =
        `instance asks for cpu ${cpuText(inst.cpuMillis)} and memory ${formatBytes(inst.memoryBytes)}, ` +
        `but this machine has cpu ${cpuText(capacity.cpuMillis)} and memory ${formatBytes(capacity.memoryBytes)} in all`;
      inst.finishedMs = now;
      ctx.store.saveInstance(inst);
      recordEvent(ctx, effects, run, {
        instanceName: inst.name,
        type: 'Warning',
        reason: 'Unschedulable',
        message: `Instance ${inst.name} can never be scheduled: ${inst.message}`,
      });
      ctx.queue.add(runKey(run.seq));
      continue;
    }
    if (
      capacity &&
      (used.cpuMillis + next.cpuMillis > capacity.cpuMillis || used.memoryBytes + next.memoryBytes > capacity.memoryBytes)
    ) {
      blocked = true;
      break;
    }
    let project = projects.get(run.projectId);
    if (!projects.has(run.projectId)) {
      project = ctx.store.getProject(run.projectId);
      projects.set(run.projectId, project);
    }
    if (!project) continue;
    const inst = ctx.store.getInstance(next.runSeq, next.index, next.retry)!;
    used.cpuMillis += inst.cpuMillis;
    used.memoryBytes += inst.memoryBytes;
    inst.state = transition(inst.state, 'starting');
    inst.attempt += 1;
    inst.driver = ctx.driver.name;
    inst.handle = undefined;
    inst.observedExit = undefined;
    inst.startedMs = undefined;
    inst.notBeforeMs = undefined;
    ctx.store.saveInstance(inst);
    if (run.startMs === undefined) {
      run.startMs = now;
      ctx.store.updateRunStatus(run.seq, run);
    }
    admitted.push({ project, run, instance: inst });
    if (capacity && (used.cpuMillis >= capacity.cpuMillis || used.memoryBytes >= capacity.memoryBytes)) {
      // Full: nothing behind can fit (every instance asks for some cpu and memory, at least
      // 0.125 vCPU and 0.25 GB), so the next page is not read.
      blocked = true;
      break;
    }
  }
  return { admitted, more: !blocked && seen === ctx.settings.admissionBatch };
}

async function startOne(ctx: EngineContext, a: Admitted): Promise<void> {
  const { run, instance } = a;
  const attempt = instance.attempt;
  const ref = refOf(run, instance);
  let failure: AttemptExit | undefined;
  try {
    // Synchronous up to the driver call, so starts reach the driver in admission (FIFO) order.
    const spec = buildInstanceSpec({ ...a, layout: ctx.layout, settings: ctx.settings, resolve: ctx.resolve, ...(ctx.workDirOf ? { workDirOf: ctx.workDirOf } : {}) });
    const handle = await ctx.driver.start(spec);
    await ctx.writes.write((effects) => {
      const cur = ctx.store.getInstance(run.seq, instance.index, instance.retry);
      if (!cur || cur.attempt !== attempt) return;
      cur.handle = handle;
      if (cur.state === 'starting') {
        const now = ctx.clock.now();
        cur.state = transition(cur.state, 'running');
        cur.startedMs = now;
        cur.firstStartedMs ??= now;
        recordEvent(ctx, effects, run, {
          instanceName: cur.name,
          type: 'Normal',
          reason: 'Started',
          message: `Started instance ${cur.name}`,
        });
        const payload = { projectId: run.projectId, runName: run.name, instanceName: cur.name, state: cur.state };
        effects.notify(() => ctx.changes.emit('instance', payload));
      }
      ctx.store.saveInstance(cur);
    });
    syncSoon(ctx, run.seq); // status_details now count it as running
    return;
  } catch (e) {
    // A config reference that does not resolve is the workload's problem; anything else is the
    // runtime's. Both fail this attempt visibly; the policy decides about retries.
    const err = coerceError(e);
    failure = {
      attemptId: ref.attemptId,
      outcome: {
        kind: 'start-failed',
        reason: 'StartFailed',
        message:
          isCejobsError(e) || e instanceof SecretBoxError
            ? err.message
            : `the ${ctx.driver.name} driver could not start it: ${err.message}`,
      },
      finishedAt: ctx.clock.now(),
    };
    if (!isCejobsError(e)) ctx.warn(`start ${ref.attemptId}`, e);
  }
  recordObservedExit(ctx, failure);
}
