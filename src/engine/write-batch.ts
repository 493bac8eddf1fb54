/**
 * The writes of one event-loop turn, committed in one store transaction.
 *
 * Why: a start reply and an exit are each a small write (one instance row, maybe an event), and
 * a commit costs more than the write. A burst — 16 instances ending and starting at once — came
 * to one commit per fact; facts that arrive in the same turn of the event loop now share one.
 *
 * Contract:
 * - `write(fn)` queues `fn` and returns at once; `fn` runs inside the batch's transaction (on
 *   the next turn: `setImmediate`), in the order writes were queued, and decides against the
 *   store as it is then (earlier writes of the batch included).
 * - The promise resolves with `fn`'s result once the batch is committed and its effects'
 *   notifications have been emitted: nothing a write records is visible (notifications, driver
 *   calls such as `release`) before it is durable, as with one transaction per write.
 * - A batch is atomic. When it throws, it is rolled back and each of its writes is retried in a
 *   transaction of its own, so a failing write fails alone: its promise rejects, the others
 *   commit.
 * - A crash before the flush loses only writes nobody has seen acknowledged: the driver still
 *   holds the exit (it is released after the commit) and recovery finds a `starting` instance
 *   by its attempt id, exactly as after a crash just before a per-write transaction.
 */
import type { Store } from '../store/store.js';
import { Effects } from './context.js';

interface Pending {
  fn: (effects: Effects) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class WriteBatch {
  private pending: Pending[] = [];
  private scheduled = false;
  /** What runs when the turn ends, before the batch commits (see `atTurnEnd`), by name. */
  private readonly turnEnd = new Map<string, () => void>();
  /** Flushes whose effects are still running (driver calls after the commit). */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    /** Runs the effects of a committed batch (`Effects.run` with the engine's context). */
    private readonly runEffects: (effects: Effects) => Promise<void>,
    /** When the turn ends: the check phase of the event loop (`setImmediate`) by default. */
    private readonly schedule: (endTurn: () => void) => void = (endTurn) => void setImmediate(endTurn),
  ) {}

  /** Queues a write for this turn's batch; see the contract above. */
  write<T>(fn: (effects: Effects) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.scheduleTurnEnd();
    });
  }

  /**
   * Queues `fn` and commits the batch now, `fn` last: how a pass of the loop (admission, a sync)
   * commits its decisions together with the facts that arrived before it.
   */
  commit<T>(fn: (effects: Effects) => T): Promise<T> {
    const done = this.write(fn);
    this.flush();
    return done;
  }

  /**
   * Runs `fn` when this turn ends, once per `name`, just before the batch commits (one microtask
   * later): a pass of the loop that `fn` queues and that starts at once commits the batch with
   * its own decisions, one commit instead of two (an exit and the admission it makes possible).
   */
  atTurnEnd(name: string, fn: () => void): void {
    this.turnEnd.set(name, fn);
    this.scheduleTurnEnd();
  }

  /** True when no write or turn-end call is queued and no batch's effects are running. */
  isIdle(): boolean {
    return this.pending.length === 0 && this.turnEnd.size === 0 && this.running.size === 0;
  }

  /** Resolves once every write queued so far is committed and its batch's effects have run. */
  async idle(): Promise<void> {
    while (!this.isIdle()) {
      this.endTurn(); // now, rather than waiting for the scheduled turn
      await Promise.resolve(); // the pass it started, or the flush it queued, runs
      await Promise.all([...this.running]);
    }
  }

  private scheduleTurnEnd(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.endTurn());
  }

  private endTurn(): void {
    this.scheduled = false;
    const calls = [...this.turnEnd.values()];
    this.turnEnd.clear();
    for (const call of calls) call();
    queueMicrotask(() => this.flush());
  }

  /** Commits what is queued now (also called by the scheduled turn; a no-op when empty). */
  flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let effects = new Effects();
    let outcomes: Outcome[];
    try {
      outcomes = this.store.transaction(() => batch.map((w): Outcome => ({ ok: true, value: w.fn(effects) })));
    } catch {
      // Rolled back as a whole: each write again on its own, so only a failing one fails.
      effects = new Effects();
      outcomes = batch.map((w) => {
        const own = new Effects();
        try {
          const value = this.store.transaction(() => w.fn(own));
          effects.absorb(own);
          return { ok: true, value };
        } catch (error) {
          return { ok: false, error };
        }
      });
    }
    // Notifications are emitted synchronously at the start of `run`, before any write's
    // promise resolves; the driver calls it makes are awaited by `idle`.
    const done: Promise<void> = this.runEffects(effects)
      .catch(() => undefined) // Effects.run reports its own failures
      .finally(() => this.running.delete(done));
    this.running.add(done);
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
  }
}
