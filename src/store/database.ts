/**
 * Opens the SQLite database of a state home and brings its schema up to date.
 *
 * Durability: WAL journal, `synchronous=NORMAL` by default. A crash of the process at any point
 * loses no committed transaction and never corrupts the file (SQLite's WAL guarantees);
 * `synchronous: 'full'` also survives a power loss at the cost of an fsync per commit.
 * Migrations run in one transaction each and are recorded in `schema_migrations`.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { sql as m001 } from './migrations/001-initial.js';
import { sql as m002 } from './migrations/002-config.js';
import { sql as m003 } from './migrations/003-builds.js';
import { sql as m004 } from './migrations/004-deleted-projects.js';

export type Db = Database.Database;

/** Numbered migrations, applied in order; never edit a released one. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'initial', sql: m001 },
  { version: 2, name: 'config', sql: m002 },
  { version: 3, name: 'builds', sql: m003 },
  { version: 4, name: 'deleted-projects', sql: m004 },
];

export interface OpenOptions {
  /** @default 'normal' */
  synchronous?: 'normal' | 'full';
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

export function migrate(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const newest = Math.max(0, ...applied);
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  if (newest > known) {
    throw new Error(
      `The database was written by a newer cejobs (schema ${newest}, this version knows ${known}); upgrade cejobs.`,
    );
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    })();
  }
}
