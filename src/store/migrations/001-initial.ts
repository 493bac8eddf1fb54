/**
 * Migration 1: projects, jobs, job runs, instances, events.
 * Migrations are immutable once released: change the schema with a new numbered file.
 * Resource specs are stored as JSON documents (validated by the domain before they get here);
 * everything the engine queries or orders by is a column.
 */
export const sql = `
CREATE TABLE projects (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL UNIQUE,
  region      TEXT NOT NULL,
  subdomain   TEXT NOT NULL,
  status      TEXT NOT NULL,
  created_ms  INTEGER NOT NULL
);

CREATE TABLE jobs (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  project_id  TEXT NOT NULL REFERENCES projects(id),
  name        TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  entity_tag  TEXT NOT NULL,
  spec        TEXT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE job_runs (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL UNIQUE,
  project_id      TEXT NOT NULL REFERENCES projects(id),
  name            TEXT NOT NULL,
  job_name        TEXT,
  created_ms      INTEGER NOT NULL,
  spec            TEXT NOT NULL,
  array_size_override INTEGER,
  index_count     INTEGER NOT NULL,
  status          TEXT NOT NULL,
  status_details  TEXT NOT NULL,
  start_ms        INTEGER,
  completion_ms   INTEGER,
  deleting        INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_id, name)
);
CREATE INDEX job_runs_job ON job_runs (project_id, job_name);
CREATE INDEX job_runs_status ON job_runs (status, completion_ms);

CREATE TABLE instances (
  run_seq       INTEGER NOT NULL REFERENCES job_runs(seq) ON DELETE CASCADE,
  idx           INTEGER NOT NULL,
  retry         INTEGER NOT NULL,
  name          TEXT NOT NULL,
  state         TEXT NOT NULL,
  attempt       INTEGER NOT NULL DEFAULT -1,
  restarts      INTEGER NOT NULL DEFAULT 0,
  failures      INTEGER NOT NULL DEFAULT 0,
  cpu_millis    INTEGER NOT NULL,
  memory_bytes  INTEGER NOT NULL,
  created_ms    INTEGER NOT NULL,
  first_started_ms INTEGER,
  started_ms    INTEGER,
  finished_ms   INTEGER,
  not_before_ms INTEGER,
  exit_code     INTEGER,
  reason        TEXT,
  message       TEXT,
  stop_reason   TEXT,
  driver        TEXT,
  handle        TEXT,
  observed_exit TEXT,
  PRIMARY KEY (run_seq, idx, retry)
);
CREATE INDEX instances_state ON instances (state, run_seq, idx);

CREATE TABLE events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  run_seq        INTEGER NOT NULL REFERENCES job_runs(seq) ON DELETE CASCADE,
  instance_name  TEXT,
  type           TEXT NOT NULL,
  reason         TEXT NOT NULL,
  message        TEXT NOT NULL,
  count          INTEGER NOT NULL,
  first_ms       INTEGER NOT NULL,
  last_ms        INTEGER NOT NULL
);
CREATE INDEX events_run ON events (run_seq, last_ms, id);
CREATE INDEX events_object ON events (run_seq, instance_name, reason);
`;
