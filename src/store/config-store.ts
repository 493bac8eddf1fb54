/**
 * Repository of config maps and secrets (migration 2), over the store's database. Every lookup
 * is by project id, so projects are isolated by construction. Secret rows hold ciphertext only;
 * sealing and opening is the engine's (engine/secret-box.ts).
 */
import type { SecretFormat } from '../domain/config.js';
import type { Db } from './database.js';
import type { ConfigMapRow, Page, SecretRow } from './rows.js';
import { ProjectRows, Statements, taggedColumns, taggedRow, type ListOptions, type Raw } from './sql.js';

function toConfigMap(r: Raw): ConfigMapRow {
  return { ...taggedRow(r), data: JSON.parse(r.data as string) as Record<string, string> };
}

function toSecret(r: Raw): SecretRow {
  return {
    ...taggedRow(r),
    format: r.format as SecretFormat,
    keys: JSON.parse(r.data_keys as string) as string[],
    sealed: r.data_sealed as string,
  };
}

export type ConfigListOptions = ListOptions;

export class ConfigStore {
  private readonly configMaps: ProjectRows<ConfigMapRow>;
  private readonly secrets: ProjectRows<SecretRow>;

  constructor(db: Db) {
    const statements = new Statements(db);
    this.configMaps = new ProjectRows(statements, 'config_maps', toConfigMap);
    this.secrets = new ProjectRows(statements, 'secrets', toSecret);
  }

  // ── config maps ─────────────────────────────────────────────────────────────────────────
  insertConfigMap(c: ConfigMapRow): void {
    this.configMaps.insert({ ...taggedColumns(c), data: JSON.stringify(c.data) });
  }

  getConfigMap(projectId: string, name: string): ConfigMapRow | undefined {
    return this.configMaps.get(projectId, name);
  }

  listConfigMaps(projectId: string, options: ConfigListOptions = {}): Page<ConfigMapRow> {
    return this.configMaps.page(projectId, options);
  }

  replaceConfigMap(projectId: string, name: string, data: Record<string, string>, entityTag: string): void {
    this.configMaps.update(projectId, name, { data: JSON.stringify(data), entity_tag: entityTag });
  }

  deleteConfigMap(projectId: string, name: string): boolean {
    return this.configMaps.delete(projectId, name);
  }

  // ── secrets ─────────────────────────────────────────────────────────────────────────────
  insertSecret(s: SecretRow): void {
    this.secrets.insert({
      ...taggedColumns(s),
      format: s.format,
      data_keys: JSON.stringify(s.keys),
      data_sealed: s.sealed,
    });
  }

  getSecret(projectId: string, name: string): SecretRow | undefined {
    return this.secrets.get(projectId, name);
  }

  /** Secrets of a project by name; `format` filters. */
  listSecrets(projectId: string, options: ConfigListOptions & { format?: SecretFormat } = {}): Page<SecretRow> {
    return this.secrets.page(projectId, options, { format: options.format });
  }

  replaceSecret(projectId: string, name: string, keys: string[], sealed: string, entityTag: string): void {
    this.secrets.update(projectId, name, { data_keys: JSON.stringify(keys), data_sealed: sealed, entity_tag: entityTag });
  }

  deleteSecret(projectId: string, name: string): boolean {
    return this.secrets.delete(projectId, name);
  }

  /** The names of a project's config maps and secrets. */
  namesOfProject(projectId: string): { configMaps: string[]; secrets: string[] } {
    return { configMaps: this.configMaps.namesOfProject(projectId), secrets: this.secrets.namesOfProject(projectId) };
  }

  /** Removes every config map and secret of a project. */
  deleteAllOfProject(projectId: string): void {
    this.configMaps.deleteAllOfProject(projectId);
    this.secrets.deleteAllOfProject(projectId);
  }
}
