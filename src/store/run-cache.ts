/**
 * A write-through cache of job run rows by sequence number, and of run ids → sequence numbers.
 *
 * Why: the engine reads a run for every admission pass and every sync, and a run row carries its
 * `status_details` (about 100 bytes per index: 100 KB for a 1,000-index run) and its spec as
 * JSON; reading and parsing them again each time was a large part of a small pass. The store is
 * the only writer of its database, so it can keep what it read and follow what it writes.
 *
 * Rules: rows are handed out as shallow copies, their spec deep-frozen (specs never change after
 * submission; a frozen one makes an accidental edit throw instead of corrupting the cache);
 * every run write of the store goes through `update`/`drop`; a transaction that throws clears
 * the cache (SQLite rolled back writes the cache already took); at most `maxRuns` runs are kept,
 * least recently used first out.
 */
import type { RunRow } from './rows.js';

export class RunCache {
  private readonly rows = new Map<number, RunRow>();
  private readonly seqById = new Map<string, number>();

  constructor(private readonly maxRuns = 256) {}

  get(seq: number): RunRow | undefined {
    const row = this.rows.get(seq);
    if (!row) return undefined;
    this.rows.delete(seq); // most recently used last
    this.rows.set(seq, row);
    return { ...row };
  }

  /** A row as just read from the database. */
  fill(row: RunRow): void {
    deepFreeze(row.spec);
    this.rows.delete(row.seq);
    this.rows.set(row.seq, { ...row });
    this.rememberSeq(row.id, row.seq);
    for (const seq of this.rows.keys()) {
      if (this.rows.size <= this.maxRuns) break;
      this.rows.delete(seq);
    }
  }

  /** Fields of a cached run were written. */
  update(seq: number, fields: Partial<RunRow>): void {
    const row = this.rows.get(seq);
    if (row) this.rows.set(seq, { ...row, ...fields });
  }

  seqOf(id: string): number | undefined {
    return this.seqById.get(id);
  }

  rememberSeq(id: string, seq: number): void {
    if (this.seqById.size >= this.maxRuns * 16) this.seqById.clear(); // ids are cheap to read again
    this.seqById.set(id, seq);
  }

  drop(seq: number): void {
    const row = this.rows.get(seq);
    this.rows.delete(seq);
    if (row) this.seqById.delete(row.id);
    else for (const [id, s] of this.seqById) if (s === seq) this.seqById.delete(id);
  }

  clear(): void {
    this.rows.clear();
    this.seqById.clear();
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}
