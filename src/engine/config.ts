/**
 * Config maps and secrets of the engine (docs/api.md "Config maps and secrets"): create, get,
 * list, replace (with an entity tag), delete, and the resolver that reads them when an
 * instance starts.
 *
 * Secrets are sealed with `SecretBox` (AES-256-GCM, bound to project id and name) before they
 * reach the store; the store never sees a value in plaintext. Without a key (an engine opened
 * without `secretKey`) everything works but storing, revealing or resolving a secret, which
 * fail with `secrets_unavailable`. Values are returned `REDACTED` unless `reveal` is asked for.
 */
import crypto from 'node:crypto';
import {
  checkSecretFormat,
  validateConfigMapPrototype,
  validateConfigMapReplace,
  validateSecretPrototype,
  validateSecretReplace,
  type ConfigMap,
  type Secret,
  type SecretFormat,
} from '../domain/config.js';
import { CejobsError } from '../domain/errors.js';
import type { ConfigMapRow, Page, ProjectRow, SecretRow } from '../store/rows.js';
import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';
import type { ConfigResolver } from './instance-spec.js';
import { toConfigMap, toSecret } from './resources.js';
import { SecretBox } from './secret-box.js';

export interface ConfigListOptions {
  limit?: number;
  start?: string;
}

export interface SecretListOptions extends ConfigListOptions {
  /** Only secrets of this format. */
  format?: string;
  /** Decrypt and return the values (default: every value `REDACTED`). */
  reveal?: boolean;
}

export const NO_SECRET_KEY_MESSAGE =
  'no secret key is configured, so secrets cannot be stored or read: the server uses <state home>/secret.key ' +
  'or CEJOBS_SECRET_KEY (32 bytes in base64); a library user opens the engine with secretKey';

function noKey(): CejobsError {
  return new CejobsError('secrets_unavailable', NO_SECRET_KEY_MESSAGE);
}

export class ConfigService {
  private readonly box: SecretBox | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly region: () => string,
    secretKey?: Buffer,
  ) {
    this.box = secretKey === undefined ? undefined : new SecretBox(secretKey);
  }

  /** True when secrets can be stored and read. */
  get hasSecretKey(): boolean {
    return this.box !== undefined;
  }

  // ── config maps ─────────────────────────────────────────────────────────────────────────

  createConfigMap(p: ProjectRow, input: unknown): ConfigMap {
    const proto = validateConfigMapPrototype(input);
    return this.store.transaction(() => {
      if (this.store.config.getConfigMap(p.id, proto.name)) throw CejobsError.alreadyExists('Config map', proto.name);
      const row: ConfigMapRow = {
        id: crypto.randomUUID(),
        projectId: p.id,
        name: proto.name,
        createdMs: this.clock.now(),
        entityTag: newEntityTag(),
        data: proto.data,
      };
      this.store.config.insertConfigMap(row);
      return toConfigMap(row, this.region());
    });
  }

  getConfigMap(p: ProjectRow, name: string): ConfigMap {
    return toConfigMap(this.configMapRow(p.id, name), this.region());
  }

  listConfigMaps(p: ProjectRow, options: ConfigListOptions = {}): Page<ConfigMap> {
    const page = this.store.config.listConfigMaps(p.id, options);
    return { ...page, items: page.items.map((c) => toConfigMap(c, this.region())) };
  }

  /** Replaces all data; `ifMatch` must be the entity tag unless `*` or absent. */
  replaceConfigMap(p: ProjectRow, name: string, input: unknown, ifMatch?: string): ConfigMap {
    return this.store.transaction(() => {
      const row = this.configMapRow(p.id, name);
      checkIfMatch(ifMatch, row.entityTag, 'config map', name);
      const { data } = validateConfigMapReplace(input, name);
      const entityTag = newEntityTag();
      this.store.config.replaceConfigMap(p.id, name, data, entityTag);
      return toConfigMap({ ...row, data, entityTag }, this.region());
    });
  }

  deleteConfigMap(p: ProjectRow, name: string): void {
    if (!this.store.config.deleteConfigMap(p.id, name)) throw CejobsError.notFound('Config map', name);
  }

  // ── secrets ─────────────────────────────────────────────────────────────────────────────

  /** Creates a secret; the answer is redacted. */
  createSecret(p: ProjectRow, input: unknown): Secret {
    const proto = validateSecretPrototype(input);
    const box = this.requireBox();
    return this.store.transaction(() => {
      if (this.store.config.getSecret(p.id, proto.name)) throw CejobsError.alreadyExists('Secret', proto.name);
      const row: SecretRow = {
        id: crypto.randomUUID(),
        projectId: p.id,
        name: proto.name,
        createdMs: this.clock.now(),
        entityTag: newEntityTag(),
        format: proto.format,
        keys: Object.keys(proto.data),
        sealed: box.seal(JSON.stringify(proto.data), { projectId: p.id, name: proto.name }),
      };
      this.store.config.insertSecret(row);
      return toSecret(row, this.region());
    });
  }

  /** A secret, its values `REDACTED` unless `reveal`. */
  getSecret(p: ProjectRow, name: string, options: { reveal?: boolean } = {}): Secret {
    const row = this.secretRow(p.id, name);
    return toSecret(row, this.region(), options.reveal ? this.open(row) : undefined);
  }

  listSecrets(p: ProjectRow, options: SecretListOptions = {}): Page<Secret> {
    if (options.format !== undefined) {
      const issues = checkSecretFormat(options.format, 'format');
      if (issues.length) throw CejobsError.fromIssues(issues);
    }
    if (options.reveal) this.requireBox();
    const page = this.store.config.listSecrets(p.id, {
      limit: options.limit,
      start: options.start,
      format: options.format as SecretFormat | undefined,
    });
    return { ...page, items: page.items.map((s) => toSecret(s, this.region(), options.reveal ? this.open(s) : undefined)) };
  }

  /** Replaces all data (the format cannot change); the answer is redacted. */
  replaceSecret(p: ProjectRow, name: string, input: unknown, ifMatch?: string): Secret {
    return this.store.transaction(() => {
      const row = this.secretRow(p.id, name);
      checkIfMatch(ifMatch, row.entityTag, 'secret', name);
      const { data } = validateSecretReplace(input, name, row.format);
      const box = this.requireBox();
      const entityTag = newEntityTag();
      const keys = Object.keys(data);
      const sealed = box.seal(JSON.stringify(data), { projectId: p.id, name });
      this.store.config.replaceSecret(p.id, name, keys, sealed, entityTag);
      return toSecret({ ...row, keys, sealed, entityTag }, this.region());
    });
  }

  deleteSecret(p: ProjectRow, name: string): void {
    if (!this.store.config.deleteSecret(p.id, name)) throw CejobsError.notFound('Secret', name);
  }

  // ── resolution at instance start ────────────────────────────────────────────────────────

  /**
   * Reads a config map's data or decrypts a secret's, of one project, as they are now. A
   * missing one is `CejobsError('not_found')` naming its kind and name (the instance then fails
   * `StartFailed` with that message); a secret without a key is `secrets_unavailable`.
   */
  readonly resolve: ConfigResolver = (projectId, kind, name) => {
    if (kind === 'config_map') {
      const row = this.store.config.getConfigMap(projectId, name);
      if (!row) throw new CejobsError('not_found', `config map "${name}" was not found`);
      return row.data;
    }
    const row = this.store.config.getSecret(projectId, name);
    if (!row) throw new CejobsError('not_found', `secret "${name}" was not found`);
    return this.open(row);
  };

  private open(row: SecretRow): Record<string, string> {
    const box = this.requireBox();
    return JSON.parse(box.open(row.sealed, { projectId: row.projectId, name: row.name })) as Record<string, string>;
  }

  private requireBox(): SecretBox {
    if (!this.box) throw noKey();
    return this.box;
  }

  private configMapRow(projectId: string, name: string): ConfigMapRow {
    const row = this.store.config.getConfigMap(projectId, name);
    if (!row) throw CejobsError.notFound('Config map', name);
    return row;
  }

  private secretRow(projectId: string, name: string): SecretRow {
    const row = this.store.config.getSecret(projectId, name);
    if (!row) throw CejobsError.notFound('Secret', name);
    return row;
  }
}

function checkIfMatch(ifMatch: string | undefined, current: string, kind: string, name: string): void {
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== current) {
    throw new CejobsError(
      'precondition_failed',
      `If-Match "${ifMatch}" does not match the current entity tag "${current}" of ${kind} '${name}'; get the ${kind} again and retry.`,
    );
  }
}

function newEntityTag(): string {
  return String(crypto.randomBytes(4).readUInt32BE() + 1e9);
}
