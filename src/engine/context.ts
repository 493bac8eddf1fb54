/**
 * What the engine's parts share: the store, the driver, time, settings, the work queue and the
 * change notifications. Parts decide inside a store transaction and collect `Effects`; the
 * effects (driver calls, file removal, notifications) run only after the commit, so a crash
 * between the two never leaves an action without its recorded intent.
 */
import fs from 'node:fs';
import type { AttemptRef, Driver } from '../drivers/driver.js';
import type { EventReason, EventType } from '../domain/types.js';
import type { InstanceRow, RunRow } from '../store/rows.js';
import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';
import type { EngineEmitter } from './changes.js';
import type { ConfigResolver } from './instance-spec.js';
import type { StateLayout } from './layout.js';
import type { EngineSettings } from './settings.js';
import type { WorkQueue } from './work-queue.js';
import type { WriteBatch } from './write-batch.js';
import { attemptIdOf } from '../drivers/driver.js';

export interface EngineContext {
  store: Store;
  driver: Driver;
  clock: Clock;
  random: () => number;
  settings: EngineSettings;
  layout: StateLayout;
  queue: WorkQueue;
  /** Facts arriving in bursts (start replies, exits) are committed a turn of the event loop at a time. */
  writes: WriteBatch;
  changes: EngineEmitter;
  resolve: ConfigResolver;
  /** Logs an internal problem (never a user's secret). */
  warn: (message: string, error?: unknown) => void;
  /** The working directory of instances of a built `image_reference` (source snapshots), if any. */
  workDirOf?: (image: string) => string | undefined;
}

export const ADMISSION_KEY = 'admission';
export const RETENTION_KEY = 'retention';
export const runKey = (seq: number): string => `run:${seq}`;

/** Queues a run's sync for an event that may come in a burst (exits, start results). */
export function syncSoon(ctx: EngineContext, seq: number): void {
  ctx.queue.addThrottled(runKey(seq), ctx.settings.syncBatchMs);
}

/**
 * Queues an admission pass for freed capacity when this turn of the event loop ends: the exits
 * of the turn are then committed with the pass's decisions (`WriteBatch.atTurnEnd`). Not
 * throttled: a burst of exits in one turn already costs one pass, and a pass costs in
 * proportion to what it admits, not to the size of a run; waiting would only leave capacity idle.
 */
export function admitSoon(ctx: EngineContext): void {
  ctx.writes.atTurnEnd(ADMISSION_KEY, () => ctx.queue.add(ADMISSION_KEY));
}

export function refOf(run: Pick<RunRow, 'id'>, i: InstanceRow): AttemptRef {
  const ref: AttemptRef = { attemptId: attemptIdOf(run.id, i.index, i.retry, i.attempt) };
  if (i.handle) ref.handle = i.handle;
  return ref;
}

/** Side effects collected during a transaction, run after it commits. */
export class Effects {
  private readonly stops: AttemptRef[] = [];
  private readonly releases: AttemptRef[] = [];
  private readonly removals: string[] = [];
  private readonly notices: (() => void)[] = [];
  admission = false;

  stop(ref: AttemptRef): void {
    this.stops.push(ref);
  }

  release(ref: AttemptRef): void {
    this.releases.push(ref);
  }

  removeDir(dir: string): void {
    this.removals.push(dir);
  }

  notify(fn: () => void): void {
    this.notices.push(fn);
  }

  /** Takes over everything `other` collected (after it), e.g. the effects of one write of a batch. */
  absorb(other: Effects): void {
    this.stops.push(...other.stops);
    this.releases.push(...other.releases);
    this.removals.push(...other.removals);
    this.notices.push(...other.notices);
    this.admission ||= other.admission;
  }

  async run(ctx: EngineContext): Promise<void> {
    for (const n of this.notices) {
      try {
        n();
      } catch (e) {
        ctx.warn('a change listener threw', e);
      }
    }
    await Promise.all([
      ...this.stops.map((ref) =>
        ctx.driver.stop(ref, { graceMs: ctx.settings.stopGraceMs }).catch((e) => ctx.warn(`stop ${ref.attemptId}`, e)),
      ),
      ...this.releases.map((ref) => ctx.driver.release(ref).catch((e) => ctx.warn(`release ${ref.attemptId}`, e))),
    ]);
    for (const dir of this.removals) {
      await fs.promises.rm(dir, { recursive: true, force: true }).catch((e) => ctx.warn(`remove ${dir}`, e));
    }
    if (this.admission) ctx.queue.add(ADMISSION_KEY);
  }
}

/** Records an event of a run (or of one of its instances) and announces it. */
export function recordEvent(
  ctx: EngineContext,
  effects: Effects,
  run: RunRow,
  event: { instanceName?: string; type: EventType; reason: EventReason; message: string },
): void {
  const timeMs = ctx.clock.now();
  ctx.store.recordEvent({ runSeq: run.seq, timeMs, ...event });
  effects.notify(() => ctx.changes.emit('event', { projectId: run.projectId, runName: run.name, ...event }));
}
