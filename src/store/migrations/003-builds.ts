/**
 * Migration 3: builds and build runs of a project.
 * `spec` is the validated `BuildSpec` as JSON (a build run keeps a copy of its build's spec at
 * submission, so editing the build never changes a run). A run's `status_details` is JSON.
 * `job_builds` links a job created from source to its build run (the job's `build` and
 * `build_run`); the job takes the run's `output_image` once it succeeded.
 * Rows go with their project (ON DELETE CASCADE; the store also deletes them explicitly).
 */
export const sql = `
CREATE TABLE builds (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  entity_tag  TEXT NOT NULL,
  spec        TEXT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE build_runs (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT NOT NULL UNIQUE,
  project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  build_name     TEXT NOT NULL,
  created_ms     INTEGER NOT NULL,
  spec           TEXT NOT NULL,
  status         TEXT NOT NULL,
  status_details TEXT NOT NULL,
  output_image   TEXT,
  UNIQUE (project_id, name)
);
CREATE INDEX build_runs_build ON build_runs (project_id, build_name, name);
CREATE INDEX build_runs_status ON build_runs (status);

CREATE TABLE job_builds (
  project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  job_name       TEXT NOT NULL,
  build_name     TEXT NOT NULL,
  build_run_name TEXT NOT NULL,
  PRIMARY KEY (project_id, job_name)
);
CREATE INDEX job_builds_run ON job_builds (project_id, build_run_name);
`;
