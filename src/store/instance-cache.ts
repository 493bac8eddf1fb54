/**
 * A write-through cache of the instances of recently read runs.
 *
 * Why: the reconciler re-reads every instance of a run at each sync (level-triggered), and with
 * a 1,000-index run that read — SQLite stepping and marshalling 1,000 rows — was the engine's
 * largest cost per instance. The store is the only writer of its database (one server per
 * state home), so it can keep what it wrote.
 *
 * Rules: the cache holds copies (callers mutate what they get and save it explicitly); every
 * instance write of the store goes through `put`/`dropRun`; a transaction that throws clears
 * the whole cache (SQLite rolled back writes the cache already took); at most `maxRows` rows
 * are kept, least recently used runs evicted first.
 */
import type { InstanceRow } from './rows.js';

interface RunEntry {
  rows: Map<string, InstanceRow>;
  /** `rows` in (index, retry) order, and each key's position there; rebuilt after an insert. */
  ordered: InstanceRow[] | null;
  positions: Map<string, number> | null;
}

const keyOf = (i: Pick<InstanceRow, 'index' | 'retry'>): string => `${i.index}:${i.retry}`;

export class InstanceCache {
  private readonly runs = new Map<number, RunEntry>();
  private rowCount = 0;

  constructor(private readonly maxRows = 50_000) {}

  /** Copies of a run's instances in (index, retry) order, or undefined when not cached. */
  get(runSeq: number): InstanceRow[] | undefined {
    const entry = this.runs.get(runSeq);
    if (!entry) return undefined;
    this.runs.delete(runSeq); // most recently used last
    this.runs.set(runSeq, entry);
    if (!entry.ordered || !entry.positions) {
      entry.ordered = [...entry.rows.values()].sort((a, b) => a.index - b.index || a.retry - b.retry);
      entry.positions = new Map(entry.ordered.map((r, i) => [keyOf(r), i]));
    }
    return entry.ordered.map((r) => ({ ...r }));
  }

  /**
   * A copy of one instance: undefined when its run is not cached (ask the database), null when
   * the run is cached and has no such instance.
   */
  getOne(runSeq: number, index: number, retry: number): InstanceRow | null | undefined {
    const entry = this.runs.get(runSeq);
    if (!entry) return undefined;
    const row = entry.rows.get(`${index}:${retry}`);
    return row ? { ...row } : null;
  }

  /** Caches a run's instances as just read from the database. */
  fill(runSeq: number, rows: InstanceRow[]): void {
    this.dropRun(runSeq);
    const map = new Map<string, InstanceRow>();
    for (const r of rows) map.set(keyOf(r), { ...r });
    this.runs.set(runSeq, { rows: map, ordered: null, positions: null });
    this.rowCount += map.size;
    this.evict();
  }

  /** An instance was inserted or saved: a cached run takes the new values. */
  put(row: InstanceRow): void {
    const entry = this.runs.get(row.runSeq);
    if (!entry) return;
    const key = keyOf(row);
    const copy = { ...row };
    const known = entry.rows.has(key);
    entry.rows.set(key, copy);
    if (!known) {
      entry.ordered = entry.positions = null;
      this.rowCount++;
    } else if (entry.ordered && entry.positions) {
      entry.ordered[entry.positions.get(key)!] = copy;
    }
  }

  dropRun(runSeq: number): void {
    const entry = this.runs.get(runSeq);
    if (!entry) return;
    this.rowCount -= entry.rows.size;
    this.runs.delete(runSeq);
  }

  clear(): void {
    this.runs.clear();
    this.rowCount = 0;
  }

  private evict(): void {
    for (const seq of this.runs.keys()) {
      if (this.rowCount <= this.maxRows) return;
      this.dropRun(seq);
    }
  }
}
