/**
 * What every repository over the database shares: a cache of prepared statements, row-mapping
 * helpers, and name-ordered pagination (`?start=` tokens are the last name of a page, base64url).
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.js';
import type { Page } from './rows.js';

export type Statement = Database.Statement<unknown[], unknown>;
export type Raw = Record<string, unknown>;

export const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
export const json = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (JSON.parse(v as string) as T));

export interface ListOptions {
  limit?: number;
  start?: string;
}

const encodeToken = (name: string): string => Buffer.from(name, 'utf8').toString('base64url');
/** The name a page starts after ('' for the first page). */
const startAfter = (options: ListOptions): string => (options.start ? Buffer.from(options.start, 'base64url').toString('utf8') : '');

/**
 * One page of rows ordered by name (default limit 100). `fetch(after, n)` returns at most `n`
 * raw rows whose name sorts after `after`; it is asked for one row beyond the limit, which says
 * whether there is a next page, whose token is the last name of this one.
 */
export function pageByName<T extends { name: string }>(
  options: ListOptions,
  fetch: (after: string, n: number) => unknown[],
  map: (row: Raw) => T,
): Page<T> {
  const limit = options.limit ?? 100;
  const rows = (fetch(startAfter(options), limit + 1) as Raw[]).map(map);
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: encodeToken(items[items.length - 1]!.name) };
}

/** Prepared statements, compiled once per SQL text. */
export class Statements {
  private readonly cache = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  get(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
}
