/**
 * Config maps and secrets in the engine: CRUD, entity tags, references resolved at instance
 * start (Code Engine's precedence, current values, prefix), mounts, failures naming what is
 * missing, project isolation, an engine without a key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CejobsError } from '../../src/domain/errors.js';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const small = { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G', run_commands: ['/bin/true'] };
const SECRET_VALUE = 's3cr3t-VALUE-1234';

function thrown(f: () => unknown): CejobsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CejobsError);
    return e as CejobsError;
  }
  throw new Error('nothing thrown');
}

describe('config maps and secrets: CRUD', () => {
  it('creates, gets, lists, replaces (If-Match) and deletes config maps', async () => {
    h = await makeHarness();
    const e = h.engine;
    const c = e.createConfigMap('default', { name: 'app', data: { A: '1' } });
    expect(c).toMatchObject({ name: 'app', resource_type: 'config_map_v2', region: 'local', data: { A: '1' } });
    expect(c.entity_tag).toMatch(/^\d+$/);
    expect(e.getConfigMap('default', 'app')).toEqual(c);
    expect(thrown(() => e.createConfigMap('default', { name: 'app' })).code).toBe('already_exists');
    const stale = thrown(() => e.replaceConfigMap('default', 'app', { data: {} }, '1'));
    expect(stale.code).toBe('precondition_failed');
    expect(stale.message).toContain("config map 'app'");
    const r = e.replaceConfigMap('default', 'app', { data: { B: '2' } }, c.entity_tag);
    expect(r.data).toEqual({ B: '2' });
    expect(r.entity_tag).not.toBe(c.entity_tag);
    expect(e.replaceConfigMap('default', 'app', { data: { C: '3' } }, '*').data).toEqual({ C: '3' });
    e.createConfigMap('default', { name: 'b' });
    expect(e.listConfigMaps('default', { limit: 1 })).toMatchObject({ items: [{ name: 'app' }], next: expect.any(String) });
    e.deleteConfigMap('default', 'app');
    expect(thrown(() => e.getConfigMap('default', 'app')).message).toBe("Config map 'app' was not found.");
    expect(thrown(() => e.deleteConfigMap('default', 'app')).code).toBe('not_found');
    expect(thrown(() => e.getConfigMap('nope', 'b')).message).toContain("Project 'nope'");
  });

  it('redacts secrets unless revealed, filters by format, keeps the format on replace', async () => {
    h = await makeHarness();
    const e = h.engine;
    const s = e.createSecret('default', { name: 'login', format: 'basic_auth', data: { username: 'u', password: SECRET_VALUE } });
    expect(s).toMatchObject({ name: 'login', format: 'basic_auth', resource_type: 'secret_v2', data: { username: 'REDACTED', password: 'REDACTED' } });
    expect(e.getSecret('default', 'login').data).toEqual({ username: 'REDACTED', password: 'REDACTED' });
    expect(e.getSecret('default', 'login', { reveal: true }).data).toEqual({ username: 'u', password: SECRET_VALUE });
    e.createSecret('default', { name: 'g', data: { k: 'v' } });
    expect(e.listSecrets('default').items.map((x) => [x.name, x.format, x.data])).toEqual([
      ['g', 'generic', { k: 'REDACTED' }],
      ['login', 'basic_auth', { username: 'REDACTED', password: 'REDACTED' }],
    ]);
    expect(e.listSecrets('default', { format: 'generic', reveal: true }).items.map((x) => x.data)).toEqual([{ k: 'v' }]);
    expect(thrown(() => e.listSecrets('default', { format: 'bad' })).issues[0]!.field).toBe('format');
    const r = e.replaceSecret('default', 'login', { data: { username: 'u2', password: 'p2' } }, s.entity_tag);
    expect(r.data).toEqual({ username: 'REDACTED', password: 'REDACTED' });
    expect(e.getSecret('default', 'login', { reveal: true }).data).toEqual({ username: 'u2', password: 'p2' });
    expect(thrown(() => e.replaceSecret('default', 'login', { format: 'generic', data: {} }, '*')).issues[0]!.field).toBe('format');
    expect(thrown(() => e.replaceSecret('default', 'login', { data: {} }, 'stale')).code).toBe('precondition_failed');
    expect(thrown(() => e.createSecret('default', { name: 'login', data: {} })).code).toBe('already_exists');
    e.deleteSecret('default', 'login');
    expect(thrown(() => e.getSecret('default', 'login')).message).toBe("Secret 'login' was not found.");
  });

  it('deleting a project deletes its config maps and secrets', async () => {
    h = await makeHarness();
    const e = h.engine;
    e.createProject('p');
    e.createConfigMap('p', { name: 'c' });
    e.createSecret('p', { name: 's', data: {} });
    e.deleteProject('p');
    await h.tick();
    e.createProject('p');
    expect(e.listConfigMaps('p').items).toEqual([]);
    expect(e.listSecrets('p').items).toEqual([]);
  });

  it('without a secret key: config maps work, secrets fail with secrets_unavailable', async () => {
    h = await makeHarness({ engine: { secretKey: undefined } });
    const e = h.engine;
    e.createConfigMap('default', { name: 'c', data: { a: 'b' } });
    const err = thrown(() => e.createSecret('default', { name: 's', data: { k: SECRET_VALUE } }));
    expect(err).toMatchObject({ code: 'secrets_unavailable', status: 503 });
    expect(err.message).toContain('no secret key is configured');
    expect(err.message).not.toContain(SECRET_VALUE);
    // validation still comes first
    expect(thrown(() => e.createSecret('default', { name: 'BAD' })).code).toBe('invalid_name');
    // a run referencing a secret fails its instance with that message
    e.submitRun('default', { name: 'r', run_env_variables: [{ type: 'secret_full_reference', reference: 's' }], scale_retry_limit: 0, ...small });
    await h.tick();
    const [inst] = e.listInstances('default', 'r');
    expect(inst).toMatchObject({ state: 'failed', last_failure_reason: 'StartFailed' });
    expect(inst!.message).toContain('secret "s" was not found');
  });

  it('secrets stored under one key do not open under another (clear StartFailed, no plaintext)', async () => {
    h = await makeHarness();
    h.engine.createSecret('default', { name: 's', data: { K: SECRET_VALUE } });
    await h.restart();
    await h.engine.close();
    const { Engine } = await import('../../src/engine/engine.js');
    const { FakeDriver } = await import('../../src/drivers/fake/driver.js');
    h.engine = await Engine.open({
      home: h.home,
      driver: new FakeDriver({ clock: h.clock, runtime: h.runtime }),
      clock: h.clock,
      warn: () => {},
      secretKey: Buffer.alloc(32, 7),
      settings: { syncBatchMs: 0 },
    });
    expect(h.engine.getSecret('default', 's').data).toEqual({ K: 'REDACTED' }); // no key needed to redact
    expect(() => h.engine.getSecret('default', 's', { reveal: true })).toThrow(/could not be decrypted/);
    h.engine.submitRun('default', { name: 'r', run_env_variables: [{ type: 'secret_full_reference', reference: 's' }], scale_retry_limit: 0, ...small });
    await h.tick();
    const [inst] = h.engine.listInstances('default', 'r');
    expect(inst).toMatchObject({ state: 'failed', last_failure_reason: 'StartFailed' });
    expect(inst!.message).toContain("secret 's'");
    expect(inst!.message).toContain('could not be decrypted');
    expect(inst!.message).not.toContain(SECRET_VALUE);
  });
});

describe('references at instance start', () => {
  it("applies Code Engine's precedence: key reference beats full reference, later full wins, literal beats key", async () => {
    h = await makeHarness();
    const e = h.engine;
    e.createConfigMap('default', { name: 'cm1', data: { A: 'cm1-A', B: 'cm1-B', C: 'cm1-C', HOSTNAME: 'nope' } });
    e.createConfigMap('default', { name: 'cm2', data: { A: 'cm2-A', D: 'cm2-D' } });
    e.createSecret('default', { name: 'sec', data: { pw: SECRET_VALUE, B: 'sec-B' } });
    e.submitRun('default', {
      name: 'r',
      ...small,
      run_env_variables: [
        { type: 'config_map_key_reference', name: 'A', reference: 'cm1', key: 'C' }, // key ref first: still beats the full refs
        { type: 'config_map_full_reference', reference: 'cm1' },
        { type: 'secret_full_reference', reference: 'sec' }, // later full ref: its B wins over cm1's
        { type: 'config_map_full_reference', reference: 'cm2' }, // later full ref: its A wins over cm1's A (but the key ref beats both)
        { type: 'literal', name: 'C', value: 'literal-C' },
        { type: 'secret_key_reference', name: 'C', reference: 'sec', key: 'pw' }, // literal (earlier) still beats it
        { type: 'secret_key_reference', name: 'PASSWORD', reference: 'sec', key: 'pw' },
        { type: 'config_map_full_reference', reference: 'cm2', prefix: 'CM2_' },
      ],
    });
    await h.tick();
    const env = h.runtime.starts[0]!.env;
    expect(env).toMatchObject({
      A: 'cm1-C',
      B: 'sec-B',
      C: 'literal-C',
      D: 'cm2-D',
      pw: SECRET_VALUE,
      PASSWORD: SECRET_VALUE,
      CM2_A: 'cm2-A',
      CM2_D: 'cm2-D',
      HOSTNAME: 'r-0-0',
    });
  });

  it('uses the values current at each start: a config map updated between two runs', async () => {
    h = await makeHarness({ driver: { script: () => ({}) } }); // runs until stopped
    const e = h.engine;
    e.createConfigMap('default', { name: 'cfg', data: { MODE: 'old' } });
    e.createSecret('default', { name: 'sec', data: { TOKEN: 'old-token' } });
    e.createJob('default', {
      name: 'j',
      ...small,
      run_env_variables: [
        { type: 'config_map_full_reference', reference: 'cfg' },
        { type: 'secret_key_reference', name: 'TOKEN', reference: 'sec', key: 'TOKEN' },
      ],
    });
    e.submitRun('default', { job_name: 'j', name: 'first' });
    await h.tick();
    e.replaceConfigMap('default', 'cfg', { data: { MODE: 'new' } }, '*');
    e.replaceSecret('default', 'sec', { data: { TOKEN: 'new-token' } }, '*');
    e.submitRun('default', { job_name: 'j', name: 'second' });
    await h.tick();
    const byRun = Object.fromEntries(h.runtime.starts.map((s) => [s.runName, s.env]));
    expect(byRun.first).toMatchObject({ MODE: 'old', TOKEN: 'old-token' });
    expect(byRun.second).toMatchObject({ MODE: 'new', TOKEN: 'new-token' });
    // the first run's instance keeps the env it started with
    expect(h.runtime.running().find((s) => s.runName === 'first')!.env.MODE).toBe('old');
  });

  it.each([
    ['a missing config map', { type: 'config_map_full_reference', reference: 'nope' }, 'config map "nope" was not found'],
    ['a missing secret', { type: 'secret_key_reference', name: 'X', reference: 'nope', key: 'k' }, 'secret "nope" was not found'],
    ['a missing key', { type: 'config_map_key_reference', name: 'X', reference: 'cfg', key: 'missing' }, 'key "missing" was not found in config map "cfg"'],
    ['a missing secret key', { type: 'secret_key_reference', name: 'X', reference: 'sec', key: 'missing' }, 'key "missing" was not found in secret "sec"'],
  ])('fails the index with StartFailed naming %s, with retries', async (_what, ref, message) => {
    h = await makeHarness();
    const e = h.engine;
    e.createConfigMap('default', { name: 'cfg', data: { present: 'x' } });
    e.createSecret('default', { name: 'sec', data: { present: SECRET_VALUE } });
    e.submitRun('default', { name: 'r', ...small, scale_retry_limit: 1, run_env_variables: [ref] });
    await h.tick();
    await h.tick(1000); // backoff, then the retry fails the same way
    await h.tick(2000);
    const run = e.getRun('default', 'r');
    expect(run.status).toBe('failed');
    expect(run.status_details.indices_details['0']).toMatchObject({ status: 'failed', retries: 1, last_failure_reason: 'StartFailed' });
    const insts = e.listInstances('default', 'r');
    expect(insts.map((i) => [i.name, i.last_failure_reason])).toEqual([
      ['r-0-0', 'StartFailed'],
      ['r-0-1', 'StartFailed'],
    ]);
    expect(insts[0]!.message).toContain(message);
    expect(h.runtime.starts).toHaveLength(0);
    const events = e.listEvents('default', 'r').map((ev) => ev.message).join('\n');
    expect(events).toContain(message);
    expect(events).not.toContain(SECRET_VALUE);
  });

  it('a reference created after the failure is picked up by the next retry', async () => {
    h = await makeHarness();
    const e = h.engine;
    e.submitRun('default', { name: 'r', ...small, scale_retry_limit: 2, run_env_variables: [{ type: 'config_map_full_reference', reference: 'late' }] });
    await h.tick();
    e.createConfigMap('default', { name: 'late', data: { HELLO: 'world' } });
    await h.tick(1000);
    await h.tick(1000);
    expect(e.getRun('default', 'r').status).toBe('completed');
    expect(h.runtime.starts[0]!.env.HELLO).toBe('world');
  });

  it('resolves config map and secret mounts into InstanceSpec.mounts', async () => {
    h = await makeHarness();
    const e = h.engine;
    e.createConfigMap('default', { name: 'cfg', data: { 'app.yaml': 'a: 1\n', other: 'x' } });
    e.createSecret('default', { name: 'tls-cert', format: 'tls', data: { tls_cert: 'CERT', tls_key: SECRET_VALUE } });
    e.submitRun('default', {
      name: 'r',
      ...small,
      run_volume_mounts: [
        { type: 'config_map', reference: 'cfg', mount_path: '/etc/config/' },
        { type: 'secret', reference: 'tls-cert', mount_path: '/etc//tls', read_only: true },
      ],
    });
    await h.tick();
    expect(h.runtime.starts[0]!.mounts).toEqual([
      { mountPath: '/etc/config', source: 'config_map', name: 'cfg', files: { 'app.yaml': 'a: 1\n', other: 'x' } },
      { mountPath: '/etc/tls', source: 'secret', name: 'tls-cert', files: { tls_cert: 'CERT', tls_key: SECRET_VALUE } },
    ]);
    expect(e.getRun('default', 'r').status).toBe('completed');
    // a run without mounts gets an empty list
    e.submitRun('default', { name: 'plain', ...small });
    await h.tick();
    expect(h.runtime.starts.find((s) => s.runName === 'plain')!.mounts).toEqual([]);
  });

  it('a missing mounted object fails the index with StartFailed naming it and its mount path', async () => {
    h = await makeHarness();
    const e = h.engine;
    e.submitRun('default', { name: 'r', ...small, scale_retry_limit: 0, run_volume_mounts: [{ type: 'secret', reference: 'gone', mount_path: '/s' }] });
    await h.tick();
    const [inst] = e.listInstances('default', 'r');
    expect(inst).toMatchObject({ state: 'failed', last_failure_reason: 'StartFailed' });
    expect(inst!.message).toContain('secret "gone" was not found (run_volume_mounts[0], mounted at /s)');
  });

  it('isolates projects: a run in project B cannot reference project A\'s config map or secret', async () => {
    h = await makeHarness();
    const e = h.engine;
    e.createProject('a');
    e.createProject('b');
    e.createConfigMap('a', { name: 'shared', data: { FROM: 'a' } });
    e.createSecret('a', { name: 'sec', data: { K: SECRET_VALUE } });
    e.submitRun('b', { name: 'rb', ...small, scale_retry_limit: 0, run_env_variables: [{ type: 'config_map_full_reference', reference: 'shared' }] });
    e.submitRun('b', { name: 'rb2', ...small, scale_retry_limit: 0, run_volume_mounts: [{ type: 'secret', reference: 'sec', mount_path: '/s' }] });
    e.submitRun('a', { name: 'ra', ...small, run_env_variables: [{ type: 'config_map_full_reference', reference: 'shared' }] });
    await h.tick();
    expect(e.listInstances('b', 'rb')[0]).toMatchObject({ last_failure_reason: 'StartFailed', message: expect.stringContaining('config map "shared" was not found') });
    expect(e.listInstances('b', 'rb2')[0]!.message).toContain('secret "sec" was not found');
    expect(h.runtime.starts.map((s) => [s.runName, s.env.FROM])).toEqual([['ra', 'a']]);
    expect(() => e.getConfigMap('b', 'shared')).toThrow(/not found/);
    expect(() => e.getSecret('b', 'sec', { reveal: true })).toThrow(/not found/);
    // same names in both projects are independent
    e.createConfigMap('b', { name: 'shared', data: { FROM: 'b' } });
    e.submitRun('b', { name: 'rb3', ...small, run_env_variables: [{ type: 'config_map_full_reference', reference: 'shared' }] });
    await h.tick();
    expect(h.runtime.starts.find((s) => s.runName === 'rb3')!.env.FROM).toBe('b');
  });
});

describe('mounts the driver cannot honour', () => {
  it('refuses persistent data stores on create, update and submit', async () => {
    h = await makeHarness();
    const e = h.engine;
    const pds = { run_volume_mounts: [{ type: 'persistent_data_store', reference: 'store', mount_path: '/data' }] };
    for (const f of [
      () => e.createJob('default', { name: 'j', ...pds }),
      () => e.submitRun('default', { name: 'r', ...small, ...pds }),
    ]) {
      const err = thrown(f);
      expect(err.code).toBe('invalid_field');
      expect(err.issues[0]!.field).toBe('run_volume_mounts[0].type');
      expect(err.message).toContain('persistent data stores are not supported by cejobs');
    }
    e.createJob('default', { name: 'j' });
    expect(thrown(() => e.updateJob('default', 'j', pds)).message).toContain('persistent data stores are not supported by cejobs');
  });

  it('refuses config map and secret mounts on a driver that cannot mount', async () => {
    h = await makeHarness();
    h.driver.capabilities.mounts = { enforced: false, how: 'not available here' };
    const e = h.engine;
    const mounts = { run_volume_mounts: [{ type: 'config_map', reference: 'c', mount_path: '/c' }] };
    for (const f of [() => e.createJob('default', { name: 'j', ...mounts }), () => e.submitRun('default', { name: 'r', ...small, ...mounts })]) {
      const err = thrown(f);
      expect(err).toMatchObject({ code: 'invalid_field', status: 400 });
      expect(err.issues[0]!.field).toBe('run_volume_mounts');
      expect(err.message).toContain('the fake driver cannot mount config maps or secrets as files (not available here)');
    }
    // env references still work there
    e.createJob('default', { name: 'ok', run_env_variables: [{ type: 'config_map_full_reference', reference: 'c' }] });
  });
});
