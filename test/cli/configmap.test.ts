import path from 'node:path';
import YAML from 'yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import { useHarnessWithFiles, type Harness } from './harness.js';

let h: Harness;
let dir: string;
let write: (name: string, text: string) => string;
useHarnessWithFiles((t) => ({ h, dir, write } = t));

describe('configmap create', () => {
  it('combines --from-literal, --from-file (FILE and KEY=FILE) and --from-env-file, in order', async () => {
    const settings = write('settings.json', '{"a":1}\n');
    const conf = write('app.conf', 'x=y\n');
    const env = write('vars.env', '# comment\n\nCOLOR=blue\n  SIZE=large=xl\r\nEMPTY=\n');
    const r = await h.run(['configmap', 'create', '--name', 'mycm', '--from-literal', 'a=1', '-l', 'b=x=y', '--from-file', settings, '-f', `CONF=${conf}`, '--from-env-file', env, '-e', env, '-l', 'COLOR=red']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Creating configmap 'mycm'...\nOK\n");
    expect(h.api.bodiesOf('POST', '/config_maps')[0]).toEqual({
      name: 'mycm',
      data: { a: '1', b: 'x=y', 'settings.json': '{"a":1}\n', CONF: 'x=y\n', COLOR: 'red', SIZE: 'large=xl', EMPTY: '' },
    });
  });

  it('has the cm alias and the --from-literal=… form, and prints the object with -o', async () => {
    const r = await h.run(['cm', 'create', '-n', 'c2', '--from-literal=k=v', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'c2', resource_type: 'config_map_v2', data: { k: 'v' } });
  });

  it('reports a malformed env-file line with the file and line number (exit 2, no request)', async () => {
    const env = write('bad.env', 'A=1\n# ok\nNOEQUALS\n');
    const r = await h.run(['configmap', 'create', '-n', 'c', '-e', env]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--from-env-file ${env}, line 3: expected KEY=VALUE.`);
    expect(r.stderr).toContain("Run 'ce configmap create --help' for usage.");
    expect(h.api.bodiesOf('POST', '/config_maps')).toEqual([]);
  });

  it('refuses a missing file, a bad key, a literal without =, and no data at all', async () => {
    const missing = await h.run(['configmap', 'create', '-n', 'c', '-f', path.join(dir, 'nope.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--from-file .*nope\.txt: cannot read the file \(no such file\)/);
    const badKey = await h.run(['configmap', 'create', '-n', 'c', '-l', 'bad key=1']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain("key 'bad key' is not valid");
    const noEq = await h.run(['configmap', 'create', '-n', 'c', '-l', 'novalue']);
    expect(noEq.code).toBe(2);
    expect(noEq.stderr).toContain('use KEY=VALUE');
    const none = await h.run(['configmap', 'create', '-n', 'c']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("at least one of '--from-literal', '--from-file' or '--from-env-file'");
    expect(h.api.requests.filter((x) => x.method === 'POST')).toEqual([]);
  });

  it('reports the server refusing a duplicate with FAILED and exit 1', async () => {
    h.api.addConfigMap('dup', { a: '1' });
    const r = await h.run(['configmap', 'create', '-n', 'dup', '-l', 'a=2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("FAILED\nConfig map 'dup' already exists; choose another name.\n");
  });
});

describe('configmap get and list', () => {
  beforeEach(() => {
    h.api.addConfigMap('mycm', { size: 'large', color: 'blue' });
    h.api.addConfigMap('other', { a: '1' });
  });

  it('get prints the header and the data', async () => {
    const r = await h.run(['configmap', 'get', '--name', 'mycm']);
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n');
    expect(out.slice(0, 3)).toEqual(["Getting configmap 'mycm'...", 'OK', '']);
    expect(out).toContain('Name:          mycm');
    expect(out).toContain('Project Name:  default');
    expect(out).toContain('Project ID:    default-id-0000');
    expect(out).toContain('Age:           3m58s');
    expect(r.stdout).toMatch(/ID: {12}cm-\d+\n/);
    expect(r.stdout).toMatch(/Created: {7}2024-05-01T/);
    expect(r.stdout).toContain('\nData:\n---\ncolor: blue\nsize: large\n');
  });

  it('get -o json|yaml|jsonpath', async () => {
    expect(JSON.parse((await h.run(['cm', 'get', '-n', 'mycm', '-o', 'json'])).stdout).data).toEqual({ size: 'large', color: 'blue' });
    expect(YAML.parse((await h.run(['cm', 'get', '-n', 'mycm', '-o', 'yaml'])).stdout).name).toBe('mycm');
    expect((await h.run(['cm', 'get', '-n', 'mycm', '-o', 'jsonpath={.data.color}'])).stdout).toBe('blue\n');
  });

  it('get of a missing config map fails with exit 1', async () => {
    const r = await h.run(['cm', 'get', '-n', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("FAILED\nConfig map 'nope' was not found.\n");
  });

  it('list prints Name Data Age, or the items with -o', async () => {
    const r = await h.run(['configmap', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(['Listing configmaps...', 'OK', '', 'Name   Data  Age', 'mycm   2     3m58s', 'other  1     3m58s', ''].join('\n'));
    expect((await h.run(['cm', 'list', '-o', 'jsonpath={.items[*].name}'])).stdout).toBe('mycm other\n');
  });

  it('list says so when there are none', async () => {
    h.api.configMaps.clear();
    expect((await h.run(['cm', 'list'])).stdout).toContain('No configmaps were found.');
  });
});

describe('configmap update', () => {
  beforeEach(() => {
    h.api.addConfigMap('mycm', { a: '1', b: '2', c: '3' });
  });

  it('merges new keys, removes --rm keys, and PUTs with If-Match', async () => {
    const tag = h.api.configMaps.get('default-id-0000/mycm')!.entity_tag;
    const env = write('u.env', 'D=4\n');
    const r = await h.run(['configmap', 'update', '-n', 'mycm', '--from-literal', 'a=10', '--rm', 'b', '-e', env]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Updating configmap 'mycm'...\nOK\n");
    const put = h.api.requests.find((x) => x.method === 'PUT')!;
    expect(put.headers['if-match']).toBe(tag);
    expect(put.body).toEqual({ data: { a: '10', c: '3', D: '4' } });
  });

  it('retries on a stale entity tag', async () => {
    let bumped = false;
    const orig = h.api.requests.push.bind(h.api.requests);
    h.api.requests.push = (...recs) => {
      for (const rec of recs) {
        if (rec.method === 'PUT' && !bumped) {
          bumped = true;
          h.api.configMaps.get('default-id-0000/mycm')!.entity_tag = 'changed-meanwhile';
        }
      }
      return orig(...recs);
    };
    const r = await h.run(['cm', 'update', '-n', 'mycm', '-l', 'z=1']);
    expect(r.code).toBe(0);
    expect(h.api.requests.filter((x) => x.method === 'PUT').length).toBe(2);
    expect(h.api.configMaps.get('default-id-0000/mycm')!.data).toEqual({ a: '1', b: '2', c: '3', z: '1' });
  });

  it('refuses --rm of a missing key and an update without changes (exit 2)', async () => {
    const rm = await h.run(['cm', 'update', '-n', 'mycm', '--rm', 'zz']);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain("--rm zz: the config map 'mycm' has no key 'zz'.");
    const none = await h.run(['cm', 'update', '-n', 'mycm']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Nothing to update');
    expect(h.api.requests.filter((x) => x.method === 'PUT')).toEqual([]);
  });
});

describe('configmap delete', () => {
  beforeEach(() => {
    h.api.addConfigMap('mycm', { a: '1' });
  });

  it('deletes with -f, asks on a terminal, refuses without one', async () => {
    const refused = await h.run(['configmap', 'delete', '-n', 'mycm']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('use --force (-f)');
    const declined = await h.run(['cm', 'delete', '-n', 'mycm'], { isTTY: true, stdinText: 'n\n' });
    expect(declined.stdout).toBe('Are you sure you want to delete configmap mycm? [y/N]> Not deleted.\n');
    expect(h.api.configMaps.size).toBe(1);
    const yes = await h.run(['cm', 'delete', '-n', 'mycm'], { isTTY: true, stdinText: 'y\n' });
    expect(yes.code).toBe(0);
    expect(h.api.configMaps.size).toBe(0);
  });

  it('--ignore-not-found / --inf', async () => {
    const r = await h.run(['cm', 'delete', '-n', 'gone', '-f', '--inf']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Configmap 'gone' was not found.");
    const f = await h.run(['cm', 'delete', '-n', 'gone', '-f']);
    expect(f.code).toBe(1);
    const ok = await h.run(['cm', 'delete', '-n', 'mycm', '--force', '-q']);
    expect(ok.stdout).toBe('');
    expect(h.api.configMaps.size).toBe(0);
  });
});
