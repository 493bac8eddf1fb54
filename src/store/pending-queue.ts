/**
 * The pending instances in admission order, kept in memory and written through.
 *
 * Why: admission asks for the first pending instances after every batch of exits (to fill the
 * capacity they freed), and that query — a seek in the `instances_state` index, then the row
 * for its cpu and memory — was the engine's largest single cost per instance in a fan-out
 * (≈ 0.07 ms each, more than one per instance). The store is the only writer of its database
 * (one server per state home), so it can keep the answer.
 *
 * Contract:
 * - Order: `(runSeq, index, retry)`, which is the order admission has always used (FIFO by run,
 *   then index; the retries of an index are inserted in retry order).
 * - Not loaded until the first question: the store then reads every pending instance once
 *   (`load`). From then on every instance write of the store goes through `track` (insert or
 *   save: in when pending, out otherwise) and `dropRun` (a deleted run).
 * - `clear` when a transaction throws: SQLite rolled back writes the queue already took; the
 *   next question loads it again.
 * - Answers are copies.
 */
import type { InstanceRow, PendingInstance } from './rows.js';

type Key = readonly [runSeq: number, index: number, retry: number];

function compare(a: PendingInstance, b: Key): number {
  return a.runSeq - b[0] || a.index - b[1] || a.retry - b[2];
}

export class PendingQueue {
  /** Sorted by (runSeq, index, retry); null while not loaded. */
  private entries: PendingInstance[] | null = null;

  get loaded(): boolean {
    return this.entries !== null;
  }

  /** Takes (owns) the pending instances as the database holds them, in admission order. */
  load(rows: PendingInstance[]): void {
    this.entries = rows;
  }

  /** An instance was inserted or saved: in the queue when pending, out of it otherwise. */
  track(row: Pick<InstanceRow, 'runSeq' | 'index' | 'retry' | 'state' | 'cpuMillis' | 'memoryBytes'>): void {
    const entries = this.entries;
    if (!entries) return;
    const key: Key = [row.runSeq, row.index, row.retry];
    const at = this.firstNotBefore(key);
    const present = at < entries.length && compare(entries[at]!, key) === 0;
    if (row.state === 'pending') {
      const entry = { runSeq: row.runSeq, index: row.index, retry: row.retry, cpuMillis: row.cpuMillis, memoryBytes: row.memoryBytes };
      if (present) entries[at] = entry;
      else entries.splice(at, 0, entry);
    } else if (present) {
      entries.splice(at, 1);
    }
  }

  dropRun(runSeq: number): void {
    if (this.entries) this.entries = this.entries.filter((e) => e.runSeq !== runSeq);
  }

  clear(): void {
    this.entries = null;
  }

  /** Up to `limit` pending instances after `cursor`, in order; only when loaded. */
  after(cursor: Key, limit: number): PendingInstance[] {
    const entries = this.entries;
    if (!entries) throw new Error('the pending queue is not loaded');
    let at = this.firstNotBefore(cursor);
    if (at < entries.length && compare(entries[at]!, cursor) === 0) at++;
    return entries.slice(at, at + limit).map((e) => ({ ...e }));
  }

  /** Index of the first entry ≥ key. */
  private firstNotBefore(key: Key): number {
    const entries = this.entries!;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(entries[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
