import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openDatabase, type Db } from '../../src/store/database.js';

let dir: string;
const open: Db[] = [];
const track = (db: Db): Db => (open.push(db), db);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-db-'));
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tables = (db: Db): string[] =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {
    name: string;
  }[]).map((r) => r.name);

describe('MIGRATIONS', () => {
  it('are numbered 1, 2, … in order without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_m, i) => i + 1));
  });
  it('start with the initial schema', () => {
    expect(MIGRATIONS[0]).toMatchObject({ version: 1, name: 'initial' });
  });
});

describe('openDatabase', () => {
  it('creates the file and its missing parent directories', () => {
    const file = path.join(dir, 'a', 'b', 'state.db');
    track(openDatabase(file));
    expect(fs.existsSync(file)).toBe(true);
  });

  it('creates missing parent directories private to the owner (0700)', () => {
    const parent = path.join(dir, 'home');
    track(openDatabase(path.join(parent, 'state.db')));
    expect(fs.statSync(parent).mode & 0o777).toBe(0o700);
  });

  it('applies the migrations of a new database and records each version', () => {
    const db = track(openDatabase(path.join(dir, 'state.db')));
    const rows = db.prepare('SELECT version, name, applied_ms FROM schema_migrations ORDER BY version').all() as {
      version: number;
      name: string;
      applied_ms: number;
    }[];
    expect(rows.map((r) => [r.version, r.name])).toEqual([[1, 'initial'], [2, 'config'], [3, 'builds'], [4, 'deleted-projects']]);
    expect(Number.isInteger(rows[0]!.applied_ms)).toBe(true);
    expect(tables(db)).toEqual(['build_runs', 'builds', 'config_maps', 'deleted_projects', 'events', 'instances', 'job_builds', 'job_runs', 'jobs', 'projects', 'schema_migrations', 'secrets']);
  });

  it('re-opens an up-to-date database without applying anything again and keeps its data', () => {
    const file = path.join(dir, 'state.db');
    const first = openDatabase(file);
    const before = first.prepare('SELECT * FROM schema_migrations').all();
    first.prepare(`INSERT INTO projects (id, name, region, subdomain, status, created_ms) VALUES ('p1', 'one', 'r', 's', 'active', 1)`).run();
    first.close();
    for (let i = 0; i < 3; i++) {
      const db = openDatabase(file);
      expect(db.prepare('SELECT * FROM schema_migrations').all()).toEqual(before);
      expect(db.prepare('SELECT name FROM projects').all()).toEqual([{ name: 'one' }]);
      db.close();
    }
  });

  it('makes migrate a no-op when called again on an open database', () => {
    const db = track(openDatabase(path.join(dir, 'state.db')));
    const before = db.prepare('SELECT * FROM schema_migrations').all();
    migrate(db);
    migrate(db);
    expect(db.prepare('SELECT * FROM schema_migrations').all()).toEqual(before);
  });

  it('uses the WAL journal', () => {
    const db = track(openDatabase(path.join(dir, 'state.db')));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('keeps the WAL journal after a re-open', () => {
    const file = path.join(dir, 'state.db');
    openDatabase(file).close();
    const raw = track(openDatabase(file));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('uses synchronous=NORMAL by default and FULL when asked', () => {
    const normal = track(openDatabase(path.join(dir, 'n.db')));
    const full = track(openDatabase(path.join(dir, 'f.db'), { synchronous: 'full' }));
    expect(normal.pragma('synchronous', { simple: true })).toBe(1);
    expect(full.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('turns on foreign keys and a busy timeout', () => {
    const db = track(openDatabase(path.join(dir, 'state.db')));
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('opens an in-memory database without touching the file system', () => {
    const db = track(openDatabase(':memory:'));
    expect(tables(db)).toContain('job_runs');
  });

  it('refuses a database written by a newer cejobs, naming both schema versions', () => {
    const file = path.join(dir, 'state.db');
    const db = openDatabase(file);
    db.prepare(`INSERT INTO schema_migrations (version, name, applied_ms) VALUES (999, 'future', 0)`).run();
    db.close();
    let caught: unknown;
    try {
      track(openDatabase(file));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    const message = (caught as Error).message;
    expect(message).toContain('newer cejobs');
    expect(message).toContain('999');
    expect(message).toContain(`knows ${MIGRATIONS.length}`);
    expect(message).toMatch(/upgrade/i);
  });

  it('leaves a newer database untouched when it refuses it', () => {
    const file = path.join(dir, 'state.db');
    const db = openDatabase(file);
    db.prepare(`INSERT INTO schema_migrations (version, name, applied_ms) VALUES (999, 'future', 0)`).run();
    const before = db.prepare('SELECT * FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(() => track(openDatabase(file))).toThrow();
    const check = track(openDatabase(path.join(dir, 'other.db')));
    check.exec(`ATTACH DATABASE '${file.replace(/'/g, "''")}' AS old`);
    expect(check.prepare('SELECT * FROM old.schema_migrations ORDER BY version').all()).toEqual(before);
  });

  it('applies the missing migrations of a database that has only the bookkeeping table', () => {
    const file = path.join(dir, 'state.db');
    const raw = new Database(file);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
    raw.close();
    const db = track(openDatabase(file));
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    expect(tables(db)).toContain('instances');
    expect(tables(db)).toContain('secrets');
  });

  it('rolls back a migration that fails, leaving no partial schema and no record of it', () => {
    const file = path.join(dir, 'state.db');
    const raw = new Database(file);
    // a clashing table makes migration 1 fail part-way (after it created projects and jobs)
    raw.exec('CREATE TABLE job_runs (x INTEGER)');
    raw.close();
    expect(() => track(openDatabase(file))).toThrow(/job_runs/);
    const check = track(new Database(file));
    expect(tables(check)).toEqual(['job_runs', 'schema_migrations']);
    expect(check.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: 0 });
  });
});
