import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
  h.api.addConfigMap('cm', { A: '1', B: '2' });
  h.api.addSecret('sec', 'generic', { PASSWORD: 'pw-value-xyz', USER: 'u' });
  h.api.addSecret('reg', 'registry', { server: 'us.icr.io', username: 'iamapikey', password: 'p' });
});
afterEach(async () => {
  await h.close();
});

const posts = (end: string) => h.api.bodiesOf('POST', end);

describe('existence check of references', () => {
  it('passes when every config map, secret, key and registry secret exists (secrets read without reveal)', async () => {
    const r = await h.run([
      'job', 'create', '-n', 'j', '--env-cm', 'cm', '--env-from-configmap', 'cm:A,NEW=B', '--env-sec', 'P_=sec', '--env-from-secret', 'sec:PASSWORD',
      '--mount-cm', '/etc/cm=cm', '--mount-secret', '/etc/sec=sec', '--rs', 'reg',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(posts('/jobs')).toHaveLength(1);
    const secretGets = h.api.requests.filter((x) => x.method === 'GET' && x.path.includes('/secrets/'));
    expect(secretGets.length).toBe(2); // each object read once
    expect(secretGets.every((x) => x.query.get('reveal') === null)).toBe(true);
  });

  it('fails (exit 1, nothing created) naming every missing object and key, and --force', async () => {
    const r = await h.run([
      'job', 'create', '-n', 'j', '--env-cm', 'nocm', '--env-cm', 'cm:A,ZZ', '--env-sec', 'sec:NOKEY', '--mount-sec', '/m=nosec', '--rs', 'sec',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        'FAILED',
        "Config map 'nocm' (--env-from-configmap) was not found in project 'default'.",
        "Key 'ZZ' (--env-from-configmap) was not found in config map 'cm'.",
        "Key 'NOKEY' (--env-from-secret) was not found in secret 'sec'.",
        "Secret 'nosec' (--mount-secret) was not found in project 'default'.",
        "Secret 'sec' (--registry-secret) has format 'generic'; a registry secret must have format 'registry'.",
        'Create what is missing, or use --force (-f) to skip this check.',
        '',
      ].join('\n'),
    );
    expect(r.stdout).toBe('');
    expect(posts('/jobs')).toEqual([]);
  });

  it('--force / -f skips the check', async () => {
    expect((await h.run(['job', 'create', '-n', 'j1', '--env-cm', 'nocm', '--force'])).code).toBe(0);
    expect((await h.run(['job', 'create', '-n', 'j2', '--mount-cm', '/x=nocm', '-f'])).code).toBe(0);
    expect(posts('/jobs')).toHaveLength(2);
    expect(h.api.requests.filter((x) => x.path.includes('/config_maps/'))).toEqual([]);
  });

  it('applies to job update, jobrun submit and jobrun resubmit', async () => {
    h.api.addJob({ name: 'j', run_commands: ['/bin/true'] });
    h.api.addRun({ name: 'prev', job_name: 'j' });
    const update = await h.run(['job', 'update', '-n', 'j', '--env-sec', 'missing']);
    expect(update.code).toBe(1);
    expect(update.stderr).toContain("Secret 'missing' (--env-from-secret) was not found");
    expect(h.api.requests.filter((x) => x.method === 'PATCH')).toEqual([]);
    const submit = await h.run(['jobrun', 'submit', '--job', 'j', '--mount-cm', '/c=gone']);
    expect(submit.code).toBe(1);
    expect(submit.stderr).toContain("Config map 'gone' (--mount-configmap) was not found");
    const resubmit = await h.run(['jobrun', 'resubmit', '--jobrun', 'prev', '--env-cm', 'cm:NOPE']);
    expect(resubmit.code).toBe(1);
    expect(resubmit.stderr).toContain("Key 'NOPE' (--env-from-configmap) was not found in config map 'cm'.");
    expect(posts('/job_runs')).toEqual([]);
    expect((await h.run(['jobrun', 'resubmit', '--jobrun', 'prev', '--env-cm', 'cm:NOPE', '-f'])).code).toBe(0);
    expect((await h.run(['jobrun', 'submit', '--job', 'j', '--mount-cm', '/c=gone', '--force'])).code).toBe(0);
    expect((await h.run(['job', 'update', '-n', 'j', '--env-sec', 'missing', '-f'])).code).toBe(0);
  });

  it('does not check what is removed, nor references the job already has', async () => {
    h.api.addJob({ name: 'j', run_env_variables: [{ type: 'config_map_full_reference', reference: 'gone' }] });
    const r = await h.run(['job', 'update', '-n', 'j', '--env-cm-rm', 'gone', '--env', 'X=1']);
    expect(r.code).toBe(0);
    expect(h.api.requests.filter((x) => x.path.includes('/config_maps'))).toEqual([]);
  });
});

describe('env and mount flags on submit and resubmit', () => {
  it('submit maps --mount-configmap/--mount-secret to run_volume_mounts and env references', async () => {
    const r = await h.run(['jobrun', 'submit', '--name', 'r', '--cmd', '/bin/true', '--mount-configmap', '/cfg=cm', '--mount-sec', '/s=sec', '--env-sec', 'sec:PW=PASSWORD', '--env-cm', 'PRE_=cm']);
    expect(r.code).toBe(0);
    expect(posts('/job_runs')[0]).toMatchObject({
      run_volume_mounts: [
        { type: 'config_map', reference: 'cm', mount_path: '/cfg' },
        { type: 'secret', reference: 'sec', mount_path: '/s' },
      ],
      run_env_variables: [
        { type: 'secret_key_reference', name: 'PW', reference: 'sec', key: 'PASSWORD' },
        { type: 'config_map_full_reference', reference: 'cm', prefix: 'PRE_' },
      ],
    });
  });

  it('resubmit removes with --env-rm, --env-cm-rm, --env-sec-rm and --mount-rm, and adds mounts', async () => {
    h.api.addRun({
      name: 'prev',
      run_commands: ['/bin/true'],
      run_env_variables: [
        { type: 'literal', name: 'L', value: '1' },
        { type: 'config_map_key_reference', name: 'K', reference: 'cm', key: 'A' },
        { type: 'config_map_full_reference', reference: 'cm' },
        { type: 'secret_full_reference', reference: 'sec' },
        { type: 'literal', name: 'KEEP', value: 'k' },
      ],
      run_volume_mounts: [
        { type: 'config_map', reference: 'cm', mount_path: '/a' },
        { type: 'secret', reference: 'sec', mount_path: '/b' },
      ],
    });
    const r = await h.run([
      'jobrun', 'resubmit', '--jobrun', 'prev', '--name', 'next',
      '--env-rm', 'L', '--env-rm', 'K', '--env-from-configmap-rm', 'cm', '--env-sec-rm', 'sec', '--mount-rm', '/a', '--mount-cm', '/c=cm',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const body = posts('/job_runs')[0];
    expect(body.run_env_variables).toEqual([{ type: 'literal', name: 'KEEP', value: 'k' }]);
    expect(body.run_volume_mounts).toEqual([
      { type: 'secret', reference: 'sec', mount_path: '/b' },
      { type: 'config_map', reference: 'cm', mount_path: '/c' },
    ]);
  });

  it('update: --env-secret-rm and --mount-rm by directory', async () => {
    h.api.addJob({
      name: 'j',
      run_env_variables: [{ type: 'secret_full_reference', reference: 'sec' }, { type: 'secret_key_reference', name: 'P', reference: 'sec', key: 'PASSWORD' }],
      run_volume_mounts: [{ type: 'secret', reference: 'sec', mount_path: '/b' }],
    });
    expect((await h.run(['job', 'update', '-n', 'j', '--env-from-secret-rm', 'sec', '--mount-rm', '/b'])).code).toBe(0);
    expect(h.api.requests.find((x) => x.method === 'PATCH')!.body).toEqual({
      run_env_variables: [{ type: 'secret_key_reference', name: 'P', reference: 'sec', key: 'PASSWORD' }],
      run_volume_mounts: [],
    });
  });
});

describe('job get and jobrun get show env, mounts and the registry secret', () => {
  const env = [
    { type: 'literal' as const, name: 'TARGET', value: 'World' },
    { type: 'config_map_full_reference' as const, reference: 'cm' },
    { type: 'secret_full_reference' as const, reference: 'sec', prefix: 'DB_' },
    { type: 'config_map_key_reference' as const, name: 'K', reference: 'cm', key: 'A' },
    { type: 'secret_key_reference' as const, name: 'PW', reference: 'sec', key: 'PASSWORD' },
  ];
  const mounts = [
    { type: 'config_map' as const, reference: 'cm', mount_path: '/etc/cm' },
    { type: 'secret' as const, reference: 'sec', mount_path: '/etc/secret' },
  ];
  const table = [
    'Environment Variables:',
    '  Type                       Name    Value',
    '  Literal                    TARGET  World',
    '  Config map full reference          cm',
    '  Secret full reference      DB_*    sec',
    '  Config map key reference   K       cm.A',
    '  Secret key reference       PW      sec.PASSWORD',
    '',
    'Mounts:',
    '  Mount Path   Type        Reference',
    '  /etc/cm      Config map  cm',
    '  /etc/secret  Secret      sec',
    '',
  ].join('\n');

  it('job get', async () => {
    h.api.addJob({ name: 'j', image_secret: 'reg', run_env_variables: env, run_volume_mounts: mounts });
    const r = await h.run(['job', 'get', '-n', 'j']);
    expect(r.stdout).toContain(table);
    expect(r.stdout).toMatch(/Registry Secret: +reg\n/);
    expect(r.stdout).not.toContain('pw-value-xyz');
  });

  it('jobrun get', async () => {
    h.api.addRun({ name: 'r', image_secret: 'reg', run_env_variables: env, run_volume_mounts: mounts });
    const r = await h.run(['jobrun', 'get', '-n', 'r']);
    expect(r.stdout).toContain(table);
    expect(r.stdout).toMatch(/Registry Secret: +reg\n/);
  });
});
