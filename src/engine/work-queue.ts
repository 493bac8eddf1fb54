/**
 * A work queue of keys, processed one at a time by an idempotent handler (the Kubernetes
 * controller pattern): adding a key that is already queued does nothing; adding a key that is
 * being processed queues it again for after; `addAfter` schedules a key (the earliest wins);
 * a handler that throws gets its key requeued with a growing delay.
 *
 * Keys carry no payload: the handler re-reads everything it needs from the store, so a dropped
 * or repeated notification can never lose or duplicate work.
 *
 * `addThrottled` is for notifications that come in bursts (exits, starts): a key is processed
 * at most once per `ms`, and — so that a handler whose cost grows with its object (the sync of
 * a 1,000-index run) never spends more than about a twentieth of the time on it — at most once per
 * `THROTTLE_COST_FACTOR` × its last processing time. A throttled add that arrives while the key
 * is being processed waits for the throttle too; a plain `add` does not.
 */
import type { Clock, TimerHandle } from './clock.js';

export type KeyHandler = (key: string) => Promise<void>;

/** A throttled key waits at least this many times its last processing time. */
export const THROTTLE_COST_FACTOR = 20;
/** ... but never more than this (ms). */
export const THROTTLE_COST_MAX_MS = 200;

export interface WorkQueueOptions {
  /** First requeue delay after a handler error. @default 100 */
  errorBaseMs?: number;
  /** Cap of the requeue delay after errors. @default 30000 */
  errorMaxMs?: number;
  /** Called with every handler error (never throws into the loop). */
  onError?: (key: string, error: unknown) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  /** Throttled adds that came while their key was processed: key → the throttle asked for. */
  private readonly dirtyThrottled = new Map<string, number>();
  /** How long the last processing of each key took (ms, by the clock). */
  private readonly lastCost = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly errorCounts = new Map<string, number>();
  /** When each key was last processed (for `addThrottled`), oldest first. */
  private readonly lastDone = new Map<string, number>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly handler: KeyHandler,
    private readonly options: WorkQueueOptions = {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.kick();
  }

  /** Processes `key` after `ms`; an earlier schedule of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const now = this.clock.now();
    const at = now + ms;
    const existing = this.delayed.get(key);
    // (an existing schedule already past by the wall clock is not trusted: the clock jumped forward)
    if (existing && existing.at <= at && existing.at >= now) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /**
   * Leading-edge throttle: processes `key` now, unless it was processed less than `ms` ago; then
   * it is processed once `ms` have passed since. A burst of events costs one or two passes
   * instead of one per event (the Kubernetes job controller batches pod events the same way).
   */
  addThrottled(key: string, ms: number): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirtyThrottled.set(key, Math.max(ms, this.dirtyThrottled.get(key) ?? 0));
      return;
    }
    if (ms > 0) ms = Math.max(ms, Math.min(THROTTLE_COST_MAX_MS, THROTTLE_COST_FACTOR * (this.lastCost.get(key) ?? 0)));
    const last = this.lastDone.get(key);
    const elapsed = last === undefined ? Infinity : this.clock.now() - last;
    // elapsed < 0: the wall clock went back since; do not wait for it to catch up
    if (ms <= 0 || elapsed >= ms || elapsed < 0) this.add(key);
    else this.addAfter(key, ms - elapsed);
  }

  /** True when nothing is queued or being processed (delayed keys do not count). */
  isIdle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  /** Resolves when nothing is queued or being processed (delayed keys do not count). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops processing; the current handler call finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.idle();
  }

  private markDone(key: string, startedAt: number): void {
    const now = this.clock.now();
    this.lastDone.delete(key);
    this.lastDone.set(key, now);
    this.lastCost.set(key, Math.max(0, now - startedAt));
    // Forget keys idle for a minute: throttling only matters within bursts.
    for (const [k, t] of this.lastDone) {
      if (now - t < 60_000) break;
      this.lastDone.delete(k);
      this.lastCost.delete(k);
    }
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    // Run on a fresh tick so callers inside a transaction never re-enter the handler.
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && this.queue.length > 0) {
        const key = this.queue.shift()!;
        this.queued.delete(key);
        this.processing.add(key);
        const startedAt = this.clock.now();
        try {
          await this.handler(key);
          this.errorCounts.delete(key);
        } catch (error) {
          const n = (this.errorCounts.get(key) ?? 0) + 1;
          this.errorCounts.set(key, n);
          try {
            this.options.onError?.(key, error);
          } catch {
            // a throwing listener must never break the loop
          }
          const base = this.options.errorBaseMs ?? 100;
          const max = this.options.errorMaxMs ?? 30_000;
          this.addAfter(key, Math.min(base * 2 ** (n - 1), max));
        } finally {
          this.processing.delete(key);
          this.markDone(key, startedAt);
        }
        const throttled = this.dirtyThrottled.get(key);
        this.dirtyThrottled.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        else if (throttled !== undefined) this.addThrottled(key, throttled);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0 && !this.stopped) this.kick();
      else {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }
}
