/**
 * Migration 2: config maps and secrets of a project.
 * A config map's `data` is a JSON object. A secret's data is only ever stored sealed
 * (`data_sealed`: AES-256-GCM, see engine/secret-box.ts); `data_keys` lists its key names (not
 * values) so a secret can be listed and shown redacted without the key.
 * Rows go with their project (ON DELETE CASCADE; the store also deletes them explicitly).
 */
export const sql = `
CREATE TABLE config_maps (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  entity_tag  TEXT NOT NULL,
  data        TEXT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE secrets (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  entity_tag  TEXT NOT NULL,
  format      TEXT NOT NULL,
  data_keys   TEXT NOT NULL,
  data_sealed TEXT NOT NULL,
  UNIQUE (project_id, name)
);
CREATE INDEX secrets_format ON secrets (project_id, format, name);
`;
