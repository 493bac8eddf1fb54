/**
 * The config map and secret repository (real SQLite files), and secrets at rest: the raw bytes
 * of the database and its WAL never hold a secret value.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMapRow, ProjectRow, SecretRow } from '../../src/store/rows.js';
import { Store } from '../../src/store/store.js';
import { makeHarness, type Harness } from '../engine/harness.js';

let dir: string;
let file: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-config-store-'));
  file = path.join(dir, 'state.db');
  store = Store.open(file);
  store.insertProject(project('p-1', 'one'));
  store.insertProject(project('p-2', 'two'));
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function project(id: string, name: string): ProjectRow {
  return { id, name, region: 'local', subdomain: 'abc', status: 'active', createdMs: 1 };
}
const cm = (projectId: string, name: string, data: Record<string, string> = { k: 'v' }): ConfigMapRow => ({
  id: `${projectId}-${name}`,
  projectId,
  name,
  createdMs: 5,
  entityTag: '1000000001',
  data,
});
const secret = (projectId: string, name: string, format: SecretRow['format'] = 'generic'): SecretRow => ({
  id: `${projectId}-s-${name}`,
  projectId,
  name,
  createdMs: 6,
  entityTag: '1000000002',
  format,
  keys: ['a', 'b'],
  sealed: 'v1:nonce:data',
});

describe('ConfigStore', () => {
  it('round-trips config maps through the file, per project, unique by name', () => {
    store.config.insertConfigMap(cm('p-1', 'app', { A: '1', 'b.c': 'two' }));
    store.config.insertConfigMap(cm('p-2', 'app', { A: 'other' }));
    store.close();
    store = Store.open(file);
    expect(store.config.getConfigMap('p-1', 'app')).toEqual(cm('p-1', 'app', { A: '1', 'b.c': 'two' }));
    expect(store.config.getConfigMap('p-2', 'app')!.data).toEqual({ A: 'other' });
    expect(store.config.getConfigMap('p-1', 'nope')).toBeUndefined();
    expect(() => store.config.insertConfigMap({ ...cm('p-1', 'app'), id: 'x' })).toThrow(/UNIQUE/);
  });

  it('replaces and deletes config maps', () => {
    store.config.insertConfigMap(cm('p-1', 'app'));
    store.config.replaceConfigMap('p-1', 'app', { n: 'new' }, '1000000009');
    expect(store.config.getConfigMap('p-1', 'app')).toMatchObject({ data: { n: 'new' }, entityTag: '1000000009' });
    expect(store.config.deleteConfigMap('p-2', 'app')).toBe(false);
    expect(store.config.deleteConfigMap('p-1', 'app')).toBe(true);
    expect(store.config.getConfigMap('p-1', 'app')).toBeUndefined();
  });

  it('pages config maps and secrets by name', () => {
    for (const n of ['e', 'a', 'c', 'b', 'd']) store.config.insertConfigMap(cm('p-1', n));
    const first = store.config.listConfigMaps('p-1', { limit: 2 });
    expect(first.items.map((c) => c.name)).toEqual(['a', 'b']);
    const second = store.config.listConfigMaps('p-1', { limit: 2, start: first.next });
    expect(second.items.map((c) => c.name)).toEqual(['c', 'd']);
    const third = store.config.listConfigMaps('p-1', { limit: 2, start: second.next });
    expect(third).toEqual({ items: [expect.objectContaining({ name: 'e' })] });
    expect(store.config.listConfigMaps('p-2').items).toEqual([]);
  });

  it('round-trips, filters, replaces and deletes secrets', () => {
    store.config.insertSecret(secret('p-1', 'g'));
    store.config.insertSecret(secret('p-1', 'r', 'registry'));
    store.config.insertSecret(secret('p-1', 'b', 'basic_auth'));
    store.config.insertSecret(secret('p-2', 'g'));
    expect(store.config.getSecret('p-1', 'r')).toEqual(secret('p-1', 'r', 'registry'));
    expect(store.config.listSecrets('p-1').items.map((s) => s.name)).toEqual(['b', 'g', 'r']);
    expect(store.config.listSecrets('p-1', { format: 'registry' }).items.map((s) => s.name)).toEqual(['r']);
    const page = store.config.listSecrets('p-1', { limit: 1, format: 'generic' });
    expect(page).toEqual({ items: [expect.objectContaining({ name: 'g' })] });
    store.config.replaceSecret('p-1', 'g', ['z'], 'v1:n:new', '1000000003');
    expect(store.config.getSecret('p-1', 'g')).toMatchObject({ keys: ['z'], sealed: 'v1:n:new', entityTag: '1000000003' });
    expect(store.config.deleteSecret('p-1', 'g')).toBe(true);
    expect(store.config.getSecret('p-1', 'g')).toBeUndefined();
    expect(store.config.getSecret('p-2', 'g')).toBeDefined();
  });

  it('deleting a project deletes its config maps and secrets, not those of others', () => {
    store.config.insertConfigMap(cm('p-1', 'app'));
    store.config.insertSecret(secret('p-1', 's'));
    store.config.insertConfigMap(cm('p-2', 'app'));
    store.config.insertSecret(secret('p-2', 's'));
    store.transaction(() => store.deleteProject('p-1', 1_000));
    expect(store.config.getConfigMap('p-1', 'app')).toBeUndefined();
    expect(store.config.getSecret('p-1', 's')).toBeUndefined();
    expect(store.config.getConfigMap('p-2', 'app')).toBeDefined();
    expect(store.config.getSecret('p-2', 's')).toBeDefined();
  });
});

describe('secrets at rest', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  /** Every byte of the database files (main file, WAL, shared memory) as latin1 text. */
  function rawBytes(home: string): string {
    return fs
      .readdirSync(home)
      .filter((f) => f.startsWith('cejobs.db'))
      .map((f) => fs.readFileSync(path.join(home, f)).toString('latin1'))
      .join('\n');
  }

  it('never writes a secret value in plaintext to the database or its WAL', async () => {
    h = await makeHarness();
    const e = h.engine;
    const values = ['s3cr3t-VALUE-1234', 'pa55-WORD-5678', 'hmac-SECRET-9012', 'replaced-VALUE-3456'];
    e.createSecret('default', { name: 'db', format: 'generic', data: { DB_PASSWORD: values[0] } });
    e.createSecret('default', { name: 'login', format: 'basic_auth', data: { username: 'admin', password: values[1] } });
    e.createProject('other');
    e.createSecret('other', { name: 'h', format: 'hmac_auth', data: { access_key_id: 'id', secret_access_key: values[2] } });
    e.replaceSecret('default', 'db', { data: { DB_PASSWORD: values[3] } }, '*');
    e.createConfigMap('default', { name: 'cfg', data: { PLAIN_SETTING: 'visible-CONFIG-7777' } });
    e.createJob('default', {
      name: 'j',
      run_env_variables: [{ type: 'secret_full_reference', reference: 'db' }],
      run_volume_mounts: [{ type: 'secret', reference: 'login', mount_path: '/etc/login' }],
    });
    e.submitRun('default', { job_name: 'j', name: 'r' });
    await h.tick();
    expect(h.runtime.starts[0]!.env.DB_PASSWORD).toBe(values[3]);

    const walFile = path.join(h.home, 'cejobs.db-wal');
    expect(fs.existsSync(walFile)).toBe(true);
    const before = rawBytes(h.home);
    expect(before).toContain('visible-CONFIG-7777'); // sanity: the scan sees plain data
    for (const v of values) expect(before, v).not.toContain(v);
    for (const v of values) expect(before, v).not.toContain(Buffer.from(v).toString('base64').slice(0, 16));

    // and after a checkpoint moved the WAL into the main file
    h.engine.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const after = rawBytes(h.home);
    expect(after).toContain('visible-CONFIG-7777');
    for (const v of values) expect(after, v).not.toContain(v);
  });
});
