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

/** What every entity-tagged row of a project starts with (jobs, builds, config maps, secrets). */
export interface TaggedRow {
  id: string;
  projectId: string;
  name: string;
  createdMs: number;
  entityTag: string;
}

/** The tagged fields of a raw row. */
export function taggedRow(r: Raw): TaggedRow {
  return {
    id: r.id as string,
    projectId: r.project_id as string,
    name: r.name as string,
    createdMs: r.created_ms as number,
    entityTag: r.entity_tag as string,
  };
}

/** The columns of the tagged fields, for `ProjectRows.insert` (the inverse of `taggedRow`). */
export function taggedColumns(t: TaggedRow): Raw {
  return { id: t.id, project_id: t.projectId, name: t.name, created_ms: t.createdMs, entity_tag: t.entityTag };
}

/**
 * The statements every table of rows named within a project shares (`project_id` and `name`
 * unique together). Table and column names are code, never input; values are always bound.
 * Statements are cached by SQL text, so a generated statement compiles once.
 */
export class ProjectRows<T extends { name: string }> {
  constructor(
    private readonly statements: Statements,
    private readonly table: string,
    private readonly map: (r: Raw) => T,
  ) {}

  /** Inserts one row: `columns` maps each column to its value, in the table's order. */
  insert(columns: Record<string, unknown>): void {
    const names = Object.keys(columns);
    this.statements
      .get(`INSERT INTO ${this.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`)
      .run(...Object.values(columns));
  }

  get(projectId: string, name: string): T | undefined {
    const r = this.statements.get(`SELECT * FROM ${this.table} WHERE project_id = ? AND name = ?`).get(projectId, name) as Raw | undefined;
    return r && this.map(r);
  }

  /** One page of a project's rows by name; `where` adds `column = value` for each defined value. */
  page(projectId: string, options: ListOptions, where: Record<string, unknown> = {}): Page<T> {
    const filters = Object.entries(where).filter(([, value]) => value !== undefined);
    const conditions = ['project_id = ?', ...filters.map(([column]) => `${column} = ?`), 'name > ?'].join(' AND ');
    const sql = `SELECT * FROM ${this.table} WHERE ${conditions} ORDER BY name LIMIT ?`;
    return pageByName(options, (after, n) => this.statements.get(sql).all(projectId, ...filters.map(([, value]) => value), after, n), this.map);
  }

  /** Sets `columns` of one row. */
  update(projectId: string, name: string, columns: Record<string, unknown>): void {
    const assignments = Object.keys(columns).map((column) => `${column} = ?`).join(', ');
    this.statements
      .get(`UPDATE ${this.table} SET ${assignments} WHERE project_id = ? AND name = ?`)
      .run(...Object.values(columns), projectId, name);
  }

  /** Removes one row; whether there was one. */
  delete(projectId: string, name: string): boolean {
    return this.statements.get(`DELETE FROM ${this.table} WHERE project_id = ? AND name = ?`).run(projectId, name).changes > 0;
  }

  deleteAllOfProject(projectId: string): void {
    this.statements.get(`DELETE FROM ${this.table} WHERE project_id = ?`).run(projectId);
  }

  /** The names of a project's rows. */
  namesOfProject(projectId: string): string[] {
    return (this.statements.get(`SELECT name FROM ${this.table} WHERE project_id = ? ORDER BY name`).all(projectId) as { name: string }[]).map((r) => r.name);
  }
}
