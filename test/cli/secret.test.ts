import { beforeEach, describe, expect, it } from 'vitest';
import { useHarnessWithFiles, type CliResult, type Harness } from './harness.js';

let h: Harness;
let write: (name: string, text: string) => string;
useHarnessWithFiles((t) => ({ h, write } = t));

/** A value that must never be printed unless --decode. */
const PW = 'hunter2-S3CRET-pw';

const bodies = () => h.api.bodiesOf('POST', '/secrets');

describe('secret create', () => {
  it('generic (the default) from literals, files and env files', async () => {
    const f = write('token.txt', 'tok\n');
    const env = write('s.env', `# creds\nUSER=admin\nPASSWORD=${PW}\n`);
    const r = await h.run(['secret', 'create', '--name', 'mysecret', '--from-literal', 'A=1', '-f', f, '--from-env-file', env]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Creating secret 'mysecret'...\nOK\n");
    expect(bodies()[0]).toEqual({ name: 'mysecret', format: 'generic', data: { A: '1', 'token.txt': 'tok\n', USER: 'admin', PASSWORD: PW } });
    const r2 = await h.run(['secret', 'create', '-n', 'g2', '--fo', 'generic', '-l', 'K=v']);
    expect(r2.code).toBe(0);
    expect(bodies()[1]).toEqual({ name: 'g2', format: 'generic', data: { K: 'v' } });
  });

  it('registry: server us.icr.io and username iamapikey by default, --password/--pw, --email/--em', async () => {
    expect((await h.run(['secret', 'create', '-n', 'r1', '--format', 'registry', '--password', PW])).code).toBe(0);
    expect(bodies()[0]).toEqual({ name: 'r1', format: 'registry', data: { server: 'us.icr.io', username: 'iamapikey', password: PW } });
    expect((await h.run(['secret', 'create', '-n', 'r2', '--fo', 'registry', '-s', 'de.icr.io', '-u', 'me', '--pw', PW, '--em', 'me@x.org'])).code).toBe(0);
    expect(bodies()[1]).toEqual({ name: 'r2', format: 'registry', data: { server: 'de.icr.io', username: 'me', password: PW, email: 'me@x.org' } });
  });

  it('registry and basic_auth: --password-from-file/--spf reads the first line', async () => {
    const pwFile = write('pw.txt', `${PW}\r\nsecond line\n`);
    expect((await h.run(['secret', 'create', '-n', 'r', '--format', 'registry', '--spf', pwFile, '--server', 'icr.io', '--username', 'u'])).code).toBe(0);
    expect(bodies()[0].data).toEqual({ server: 'icr.io', username: 'u', password: PW });
    expect((await h.run(['secret', 'create', '-n', 'b', '--format', 'basic_auth', '--username', 'u', '--password-from-file', pwFile])).code).toBe(0);
    expect(bodies()[1]).toEqual({ name: 'b', format: 'basic_auth', data: { username: 'u', password: PW } });
  });

  it('asks for a missing password on a terminal (on stderr, never echoing it), else exit 2 naming --password', async () => {
    const noTty = await h.run(['secret', 'create', '-n', 'r', '--format', 'registry']);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain("Required option '--password' not specified");
    const noTty2 = await h.run(['secret', 'create', '-n', 'b', '--format', 'basic_auth', '-u', 'u']);
    expect(noTty2.code).toBe(2);
    expect(noTty2.stderr).toContain("'--password'");
    expect(bodies()).toEqual([]);
    const tty = await h.run(['secret', 'create', '-n', 'r', '--format', 'registry'], { isTTY: true, stdinText: `${PW}\n` });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toBe('Password: \n');
    expect(tty.stdout).not.toContain(PW);
    expect(bodies()[0].data.password).toBe(PW);
  });

  it('basic_auth needs --username', async () => {
    const r = await h.run(['secret', 'create', '-n', 'b', '--format', 'basic_auth', '--password', PW]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Required option '--username' not specified for a secret of format basic_auth.");
  });

  it('ssh (→ ssh_auth): --key-path/--kp required, --known-hosts-path/--khp', async () => {
    const key = write('id_rsa', '-----BEGIN KEY-----\nabc\n');
    const hosts = write('known_hosts', 'github.com ssh-rsa AAA\n');
    expect((await h.run(['secret', 'create', '-n', 's1', '--format', 'ssh', '--key-path', key, '--known-hosts-path', hosts])).code).toBe(0);
    expect(bodies()[0]).toEqual({ name: 's1', format: 'ssh_auth', data: { ssh_key: '-----BEGIN KEY-----\nabc\n', known_hosts: 'github.com ssh-rsa AAA\n' } });
    expect((await h.run(['secret', 'create', '-n', 's2', '--fo', 'ssh', '--kp', key])).code).toBe(0);
    expect(bodies()[1].data).toEqual({ ssh_key: '-----BEGIN KEY-----\nabc\n' });
    const missing = await h.run(['secret', 'create', '-n', 's3', '--format', 'ssh', '--khp', hosts]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("'--key-path'");
  });

  it('tls: --cert-chain-file/--ccf and --private-key-file/--pkf', async () => {
    const crt = write('tls.crt', 'CERT\n');
    const k = write('tls.key', 'KEY\n');
    expect((await h.run(['secret', 'create', '-n', 't', '--format', 'tls', '--ccf', crt, '--pkf', k])).code).toBe(0);
    expect(bodies()[0]).toEqual({ name: 't', format: 'tls', data: { tls_cert: 'CERT\n', tls_key: 'KEY\n' } });
    expect((await h.run(['secret', 'create', '-n', 't2', '--format', 'tls', '--cert-chain-file', crt])).code).toBe(2);
  });

  it('hmac (→ hmac_auth): --access-key-id/--akid and --secret-access-key/--sak', async () => {
    expect((await h.run(['secret', 'create', '-n', 'h1', '--format', 'hmac', '--access-key-id', 'ID', '--secret-access-key', PW])).code).toBe(0);
    expect(bodies()[0]).toEqual({ name: 'h1', format: 'hmac_auth', data: { access_key_id: 'ID', secret_access_key: PW } });
    expect((await h.run(['secret', 'create', '-n', 'h2', '--fo', 'hmac', '--akid', 'ID', '--sak', PW])).code).toBe(0);
    const noKey = await h.run(['secret', 'create', '-n', 'h3', '--fo', 'hmac', '--akid', 'ID']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("'--secret-access-key'");
  });

  it("refuses flags of another format and unknown formats", async () => {
    const r = await h.run(['secret', 'create', '-n', 'x', '--format', 'tls', '--username', 'u', '-l', 'a=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from-literal, --username cannot be used with a secret of format tls.');
    const g = await h.run(['secret', 'create', '-n', 'x', '--server', 'icr.io', '-l', 'a=1']);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('--server cannot be used with a secret of format generic.');
    const f = await h.run(['secret', 'create', '-n', 'x', '--format', 'kerberos']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('Use generic, registry, basic_auth, ssh, tls or hmac.');
    const none = await h.run(['secret', 'create', '-n', 'x']);
    expect(none.code).toBe(2);
    expect(bodies()).toEqual([]);
  });
});

describe('secret get and list', () => {
  beforeEach(() => {
    h.api.addSecret('mysecret', 'generic', { USER: 'admin', PASSWORD: PW });
    h.api.addSecret('reg', 'registry', { server: 'us.icr.io', username: 'iamapikey', password: PW });
    h.api.addSecret('key', 'ssh_auth', { ssh_key: PW });
  });

  it('get shows REDACTED values without --decode, and does not ask for them', async () => {
    const r = await h.run(['secret', 'get', '--name', 'mysecret']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Name:          mysecret\n');
    expect(r.stdout).toContain('Format:        generic\n');
    expect(r.stdout).toContain('\nData:\n---\nPASSWORD: REDACTED\nUSER: REDACTED\n');
    expect(r.stdout).not.toContain(PW);
    const get = h.api.requests.find((x) => x.method === 'GET' && x.path.endsWith('/secrets/mysecret'))!;
    expect(get.query.get('reveal')).toBeNull();
  });

  it('get --decode/-d shows the values (and asks with reveal=true)', async () => {
    const r = await h.run(['secret', 'get', '-n', 'mysecret', '--decode']);
    expect(r.stdout).toContain(`PASSWORD: ${PW}\nUSER: admin\n`);
    const get = h.api.requests.find((x) => x.method === 'GET' && x.path.endsWith('/secrets/mysecret'))!;
    expect(get.query.get('reveal')).toBe('true');
    expect((await h.run(['secret', 'get', '-n', 'mysecret', '-d', '-o', 'json'])).stdout).toContain(PW);
    expect((await h.run(['secret', 'get', '-n', 'mysecret', '-d', '-o', 'jsonpath={.data.PASSWORD}'])).stdout).toBe(`${PW}\n`);
  });

  it('get -o json|yaml without --decode is redacted too', async () => {
    const json = JSON.parse((await h.run(['secret', 'get', '-n', 'reg', '-o', 'json'])).stdout);
    expect(json).toMatchObject({ name: 'reg', format: 'registry', data: { server: 'REDACTED', username: 'REDACTED', password: 'REDACTED' } });
    expect((await h.run(['secret', 'get', '-n', 'reg', '-o', 'yaml'])).stdout).not.toContain(PW);
  });

  it('list prints Name Format Data Age and filters by --format (CLI names mapped)', async () => {
    const r = await h.run(['secret', 'list']);
    expect(r.stdout).toBe(
      ['Listing secrets...', 'OK', '', 'Name      Format    Data  Age', 'key       ssh_auth  1     3m58s', 'mysecret  generic   2     3m58s', 'reg       registry  3     3m58s', ''].join('\n'),
    );
    const ssh = await h.run(['secret', 'list', '--format', 'ssh']);
    expect(ssh.stdout).toContain('key   ssh_auth');
    expect(ssh.stdout).not.toContain('mysecret');
    expect(h.api.requests.filter((x) => x.path.endsWith('/secrets')).at(-1)!.query.get('format')).toBe('ssh_auth');
    const json = await h.run(['secret', 'list', '--fo', 'registry', '-o', 'json']);
    expect(JSON.parse(json.stdout).items.map((s: { name: string }) => s.name)).toEqual(['reg']);
    expect(json.stdout).not.toContain(PW);
  });
});

describe('secret update', () => {
  beforeEach(() => {
    h.api.addSecret('gen', 'generic', { A: '1', B: '2' });
    h.api.addSecret('reg', 'registry', { server: 'us.icr.io', username: 'iamapikey', password: 'old' });
  });

  it('generic: merges keys and removes --rm keys, with If-Match', async () => {
    const tag = h.api.secrets.get('default-id-0000/gen')!.entity_tag;
    const r = await h.run(['secret', 'update', '-n', 'gen', '-l', `C=${PW}`, '--rm', 'A']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Updating secret 'gen'...\nOK\n");
    const put = h.api.requests.find((x) => x.method === 'PUT')!;
    expect(put.headers['if-match']).toBe(tag);
    expect(put.body).toEqual({ format: 'generic', data: { B: '2', C: PW } });
  });

  it("registry: the format's flags replace their fields", async () => {
    const r = await h.run(['secret', 'update', '-n', 'reg', '--password', PW, '--email', 'a@b.c']);
    expect(r.code).toBe(0);
    expect(h.api.secrets.get('default-id-0000/reg')!.data).toEqual({ server: 'us.icr.io', username: 'iamapikey', password: PW, email: 'a@b.c' });
  });

  it('refuses a format change, foreign flags, --rm on non-generic and an empty update', async () => {
    const fmt = await h.run(['secret', 'update', '-n', 'gen', '--format', 'registry', '--password', PW]);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toContain("Secret 'gen' has format generic; the format of a secret cannot change.");
    const foreign = await h.run(['secret', 'update', '-n', 'reg', '-l', 'a=1']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('--from-literal cannot be used with a secret of format registry.');
    const rm = await h.run(['secret', 'update', '-n', 'reg', '--rm', 'email']);
    expect(rm.code).toBe(2);
    const none = await h.run(['secret', 'update', '-n', 'gen']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Nothing to update');
    expect(h.api.requests.filter((x) => x.method === 'PUT')).toEqual([]);
  });

  it('-o json prints the updated secret redacted', async () => {
    const r = await h.run(['secret', 'update', '-n', 'gen', '-l', `P=${PW}`, '-o', 'json']);
    expect(JSON.parse(r.stdout).data).toEqual({ A: 'REDACTED', B: 'REDACTED', P: 'REDACTED' });
  });
});

describe('secret delete', () => {
  it('deletes with -f, prompts on a terminal, --inf', async () => {
    h.api.addSecret('s', 'generic', { a: '1' });
    expect((await h.run(['secret', 'delete', '-n', 's'])).code).toBe(2);
    const declined = await h.run(['secret', 'delete', '-n', 's'], { isTTY: true, stdinText: 'no\n' });
    expect(declined.stdout).toBe('Are you sure you want to delete secret s? [y/N]> Not deleted.\n');
    expect((await h.run(['secret', 'delete', '-n', 's', '-f'])).code).toBe(0);
    expect(h.api.secrets.size).toBe(0);
    const inf = await h.run(['secret', 'delete', '-n', 's', '-f', '--ignore-not-found']);
    expect(inf.code).toBe(0);
    expect(inf.stdout).toContain("Secret 's' was not found.");
  });
});

describe('a secret value is never printed unless --decode', () => {
  const noLeak = (r: CliResult, what: string): void => {
    expect(r.stdout, `${what}: stdout`).not.toContain(PW);
    expect(r.stderr, `${what}: stderr`).not.toContain(PW);
  };

  it('across every secret command, its outputs and its errors', async () => {
    const pwFile = write('pw.txt', `${PW}\n`);
    const env = write('s.env', `GOOD=1\n${PW}\n`);
    const envOk = write('ok.env', `P=${PW}\n`);
    const runs: [string, string[], { isTTY?: boolean; stdinText?: string }?][] = [
      ['create generic', ['secret', 'create', '-n', 'g', '-l', `P=${PW}`]],
      ['create generic -o json', ['secret', 'create', '-n', 'g2', '-l', `P=${PW}`, '-o', 'json']],
      ['create generic -o yaml', ['secret', 'create', '-n', 'g3', '-e', envOk, '-o', 'yaml']],
      ['create registry', ['secret', 'create', '-n', 'r', '--format', 'registry', '--password', PW, '-o', 'json']],
      ['create registry --spf', ['secret', 'create', '-n', 'r2', '--format', 'registry', '--spf', pwFile]],
      ['create basic_auth prompt', ['secret', 'create', '-n', 'b', '--format', 'basic_auth', '-u', 'u', '-o', 'json'], { isTTY: true, stdinText: `${PW}\n` }],
      ['create hmac', ['secret', 'create', '-n', 'h', '--format', 'hmac', '--akid', 'id', '--sak', PW, '-o', 'jsonpath={.data}']],
      ['duplicate', ['secret', 'create', '-n', 'g', '-l', `P=${PW}`]],
      ['literal without =', ['secret', 'create', '-n', 'x', '-l', PW]],
      ['literal with a bad key', ['secret', 'create', '-n', 'x', '-l', `${PW} x=1`]],
      ['malformed env file', ['secret', 'create', '-n', 'x', '-e', env]],
      ['unknown flag with the value', ['secret', 'create', '-n', 'x', `--pasword=${PW}`]],
      ['foreign flag', ['secret', 'create', '-n', 'x', '--format', 'tls', '--password', PW]],
      ['password twice', ['secret', 'create', '-n', 'x', '--format', 'registry', '--password', PW, '--spf', pwFile]],
      ['get', ['secret', 'get', '-n', 'g']],
      ['get -o json', ['secret', 'get', '-n', 'r', '-o', 'json']],
      ['get -o yaml', ['secret', 'get', '-n', 'b', '-o', 'yaml']],
      ['get -o jsonpath', ['secret', 'get', '-n', 'h', '-o', 'jsonpath={.data.secret_access_key}']],
      ['get -o jsonpath-as-json', ['secret', 'get', '-n', 'h', '-o', 'jsonpath-as-json={..*}']],
      ['list', ['secret', 'list']],
      ['list -o json', ['secret', 'list', '-o', 'json']],
      ['list -o yaml', ['secret', 'list', '--format', 'registry', '-o', 'yaml']],
      ['update', ['secret', 'update', '-n', 'g', '-l', `Q=${PW}`]],
      ['update -o json', ['secret', 'update', '-n', 'r', '--password', PW, '-o', 'json']],
      ['update foreign flag', ['secret', 'update', '-n', 'r', '-l', `P=${PW}`]],
      ['update wrong format', ['secret', 'update', '-n', 'r', '--format', 'hmac', '--sak', PW]],
      ['update rm missing', ['secret', 'update', '-n', 'g', '--rm', 'nope', '-l', `Z=${PW}`]],
      ['delete', ['secret', 'delete', '-n', 'h', '-f']],
    ];
    for (const [what, argv, opts] of runs) noLeak(await h.run(argv, opts ?? {}), what);
    // ...and the plaintext does come back with --decode
    const decoded = await h.run(['secret', 'get', '-n', 'g', '--decode']);
    expect(decoded.stdout).toContain(`P: ${PW}`);
    expect(decoded.stdout).toContain(`Q: ${PW}`);
  });
});
