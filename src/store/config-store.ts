/**
 * Repository of config maps and secrets (migration 2), over the store's database. Every lookup
 * is by project id, so projects are isolated by construction. Secret rows hold ciphertext only;
 * sealing and opening is the engine's (engine/secret-box.ts).
 */
import type { SecretFormat } from '../domain/config.js';
import type { Db } from './database.js';
import type { ConfigMapRow, Page, SecretRow } from './rows.js';
import { pageByName, Statements, type ListOptions, type Raw } from './sql.js';

function toConfigMap(r: Raw): ConfigMapRow {
  return {
    id: r.id as string,
    projectId: r.project_id as string,
    name: r.name as string,
    createdMs: r.created_ms as number,
    entityTag: r.entity_tag as string,
    data: JSON.parse(r.data as string) as Record<string, string>,
  };
}

function toSecret(r: Raw): SecretRow {
  return {
    id: r.id as string,
    projectId: r.project_id as string,
    name: r.name as string,
    createdMs: r.created_ms as number,
    entityTag: r.entity_tag as string,
    format: r.format as SecretFormat,
    keys: JSON.parse(r.data_keys as string) as string[],
    sealed: r.data_sealed as string,
  };
}

export type ConfigListOptions = ListOptions;

export class ConfigStore {
  private readonly statements: Statements;

  constructor(db: Db) {
    this.statements = new Statements(db);
  }

  private q(sql: string) {
    return this.statements.get(sql);
  }

  // ── config maps ─────────────────────────────────────────────────────────────────────────
  insertConfigMap(c: ConfigMapRow): void {
    this.q('INSERT INTO config_maps (id, project_id, name, created_ms, entity_tag, data) VALUES (?, ?, ?, ?, ?, ?)')
      .run(c.id, c.projectId, c.name, c.createdMs, c.entityTag, JSON.stringify(c.data));
  }

  getConfigMap(projectId: string, name: string): ConfigMapRow | undefined {
    const r = this.q('SELECT * FROM config_maps WHERE project_id = ? AND name = ?').get(projectId, name) as Raw | undefined;
    return r && toConfigMap(r);
  }

  listConfigMaps(projectId: string, options: ConfigListOptions = {}): Page<ConfigMapRow> {
    return pageByName(
      options,
      (after, n) => this.q('SELECT * FROM config_maps WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?').all(projectId, after, n),
      toConfigMap,
    );
  }

  replaceConfigMap(projectId: string, name: string, data: Record<string, string>, entityTag: string): void {
    this.q('UPDATE config_maps SET data = ?, entity_tag = ? WHERE project_id = ? AND name = ?')
      .run(JSON.stringify(data), entityTag, projectId, name);
  }

  deleteConfigMap(projectId: string, name: string): boolean {
    return this.q('DELETE FROM config_maps WHERE project_id = ? AND name = ?').run(projectId, name).changes > 0;
  }

  // ── secrets ─────────────────────────────────────────────────────────────────────────────
  insertSecret(s: SecretRow): void {
    this.q(
      `INSERT INTO secrets (id, project_id, name, created_ms, entity_tag, format, data_keys, data_sealed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(s.id, s.projectId, s.name, s.createdMs, s.entityTag, s.format, JSON.stringify(s.keys), s.sealed);
  }

  getSecret(projectId: string, name: string): SecretRow | undefined {
    const r = this.q('SELECT * FROM secrets WHERE project_id = ? AND name = ?').get(projectId, name) as Raw | undefined;
    return r && toSecret(r);
  }

  /** Secrets of a project by name; `format` filters. */
  listSecrets(projectId: string, options: ConfigListOptions & { format?: SecretFormat } = {}): Page<SecretRow> {
    return pageByName(
      options,
      (after, n) =>
        options.format === undefined
          ? this.q('SELECT * FROM secrets WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?').all(projectId, after, n)
          : this.q('SELECT * FROM secrets WHERE project_id = ? AND format = ? AND name > ? ORDER BY name LIMIT ?')
              .all(projectId, options.format, after, n),
      toSecret,
    );
  }

  replaceSecret(projectId: string, name: string, keys: string[], sealed: string, entityTag: string): void {
    this.q('UPDATE secrets SET data_keys = ?, data_sealed = ?, entity_tag = ? WHERE project_id = ? AND name = ?')
      .run(JSON.stringify(keys), sealed, entityTag, projectId, name);
  }

  deleteSecret(projectId: string, name: string): boolean {
    return this.q('DELETE FROM secrets WHERE project_id = ? AND name = ?').run(projectId, name).changes > 0;
  }

  /** Removes every config map and secret of a project. */
  deleteAllOfProject(projectId: string): void {
    this.q('DELETE FROM config_maps WHERE project_id = ?').run(projectId);
    this.q('DELETE FROM secrets WHERE project_id = ?').run(projectId);
  }
}
