import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.close();
});

describe('job create flag mapping', () => {
  it('maps every flag and alias to the API body', async () => {
    const r = await h.run([
      'job', 'create', '-n', 'j', '-i', 'icr.io/codeengine/helloworld',
      '--arg', 'a1', '-a', 'a2', '--argument', 'a3',
      '--cmd', 'c1', '-c', 'c2', '--command', 'c3',
      '--ai', '1-3', '--cpu', '0.5', '-m', '2G', '--es', '1G', '--met', '100', '-r', '2', '--mode', 'task',
      '-e', 'A=1', '--env', 'B=x=y',
      '--env-cm', 'cm1', '--env-from-configmap', 'P_=cm2',
      '--env-sec', 's1:K1,K2', '--env-from-secret', 's2:NEW=KEY',
      '--mount-cm', '/a=cm', '--mount-secret', '/b=sec', '--mount-sec', '/c=sec2', '--rs', 'regsec', '-f',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Creating job 'j'...\nOK\n");
    expect(h.api.bodiesOf('POST', '/jobs')[0]).toEqual({
      name: 'j',
      image_reference: 'icr.io/codeengine/helloworld',
      image_secret: 'regsec',
      run_commands: ['c1', 'c2', 'c3'],
      run_arguments: ['a1', 'a2', 'a3'],
      scale_array_spec: '1-3',
      scale_cpu_limit: '0.5',
      scale_memory_limit: '2G',
      scale_ephemeral_storage_limit: '1G',
      scale_max_execution_time: 100,
      scale_retry_limit: 2,
      run_mode: 'task',
      run_env_variables: [
        { type: 'literal', name: 'A', value: '1' },
        { type: 'literal', name: 'B', value: 'x=y' },
        { type: 'config_map_full_reference', reference: 'cm1' },
        { type: 'config_map_full_reference', reference: 'cm2', prefix: 'P_' },
        { type: 'secret_key_reference', name: 'K1', reference: 's1', key: 'K1' },
        { type: 'secret_key_reference', name: 'K2', reference: 's1', key: 'K2' },
        { type: 'secret_key_reference', name: 'NEW', reference: 's2', key: 'KEY' },
      ],
      run_volume_mounts: [
        { type: 'config_map', reference: 'cm', mount_path: '/a' },
        { type: 'secret', reference: 'sec', mount_path: '/b' },
        { type: 'secret', reference: 'sec2', mount_path: '/c' },
      ],
    });
  });

  it('keeps env entries in command-line order across the env flags', async () => {
    await h.run(['job', 'create', '-n', 'j', '--env-sec', 'S', '-e', 'A=1', '--env-cm', 'C:X', '--force']);
    expect(h.api.bodiesOf('POST', '/jobs')[0].run_env_variables).toEqual([
      { type: 'secret_full_reference', reference: 'S' },
      { type: 'literal', name: 'A', value: '1' },
      { type: 'config_map_key_reference', name: 'X', reference: 'C', key: 'X' },
    ]);
  });

  it('sends only the given fields (the server applies defaults)', async () => {
    await h.run(['job', 'create', '--name', 'myjob-daemon', '--image', 'icr.io/codeengine/helloworld', '--mode', 'daemon']);
    expect(h.api.bodiesOf('POST', '/jobs')[0]).toEqual({ name: 'myjob-daemon', image_reference: 'icr.io/codeengine/helloworld', run_mode: 'daemon' });
  });

  it.each([
    [['--array-size', '5'], '0-4'],
    [['--as', '1'], '0'],
    [['--instances', '3'], '0-2'],
    [['--is', '2'], '0-1'],
    [['--array-size=10'], '0-9'],
    [['--ai=1'], '1'],
    [['--array-indexes', '1 - 5, 7'], '1-5,7'],
    [['--array-indices', '0,3,6,9'], '0,3,6,9'],
  ])('%j → scale_array_spec %s', async (flags, spec) => {
    const r = await h.run(['job', 'create', '-n', 'j', ...flags]);
    expect(r.code).toBe(0);
    expect(h.api.bodiesOf('POST', '/jobs')[0].scale_array_spec).toBe(spec);
  });

  it('accepts Go-style boolean values and --flag=value', async () => {
    const r = await h.run(['job', 'create', '--name=j', '--quiet=true', '--force=false']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('passes a dash-leading value to its option without rewriting it', async () => {
    await h.run(['job', 'create', '-n', 'j', '--cmd', '/bin/sh', '--arg', '-c', '--arg', '--ai']);
    expect(h.api.bodiesOf('POST', '/jobs')[0]).toMatchObject({ run_commands: ['/bin/sh'], run_arguments: ['-c', '--ai'] });
  });
});

describe('usage errors (exit 2 with a hint)', () => {
  it.each([
    [['job', 'create', '-n', 'j', '--array-size', '2', '--ai', '1'], /--array-(size|indices).*cannot be used with.*--array-(indices|size)/i, 'ce job create'],
    [['job', 'create', '-n', 'j', '--bogus'], /unknown option '--bogus'/i, 'ce job create'],
    [['job', 'create', '-i', 'img'], /required option '-n, --name <name>' not specified/i, 'ce job create'],
    [['job', 'create', '-n', 'j', '--retrylimit', '9'], /--retrylimit.*'9' is invalid.*0 to 5/i, 'ce job create'],
    [['job', 'create', '-n', 'j', '--met', 'abc'], /--maxexecutiontime.*whole number/i, 'ce job create'],
    [['job', 'create', '-n', 'j', '--mode', 'forever'], /--mode.*'forever' is invalid.*task, daemon/i, 'ce job create'],
    [['job', 'create', '-n', 'j', '--env', 'NOVALUE'], /--env.*NAME=VALUE/, 'ce job create'],
    [['job', 'create', '-n', 'j', '--env-cm', 'cm:'], /--env-from-configmap/, 'ce job create'],
    [['job', 'create', '-n', 'j', '--mount-secret', 'nodir'], /--mount-secret.*MOUNT_DIRECTORY=SECRET/, 'ce job create'],
    [['job', 'create', '-n', 'j', '--ai', '5-2'], /--array-indices.*reversed range/, 'ce job create'],
    [['job', 'create', '-n', 'j', '--array-size', '0'], /--array-size.*1 to 1000/, 'ce job create'],
    [['jobrun', 'submit', '--image', 'img'], /--name/, 'ce jobrun submit'],
    [['jobrun', 'submit', '--job', 'j', '--wto', '0'], /--wait-timeout/, 'ce jobrun submit'],
    [['jobrun', 'logs'], /--name/, 'ce jobrun logs'],
    [['jobrun', 'logs', '--instance', 'nope'], /not an instance name/, 'ce jobrun logs'],
    [['job', 'list', '-o', 'xml'], /--output.*json, yaml/, 'ce job list'],
    [['job', 'list', '-s', 'size'], /--sort-by/, 'ce job list'],
    [['nope'], /unknown command 'nope'/i, 'ce'],
    [['project', 'select'], /--name/, 'ce project select'],
  ])('%j', async (argv, message, path) => {
    const r = await h.run(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^FAILED\n/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`Run '${path} --help' for usage.`);
  });

  it('does not contact the server for a usage error', async () => {
    await h.run(['job', 'create', '--bogus']);
    expect(h.api.requests).toHaveLength(0);
  });
});

describe('jobrun submit mapping', () => {
  beforeEach(() => {
    h.api.addJob({ name: 'myjob', image_reference: 'img', scale_array_spec: '0-9' });
  });

  it('submits a run of a job with overrides', async () => {
    const r = await h.run(['jobrun', 'submit', '--name', 'r1', '-j', 'myjob', '--ai', '4-5', '--asvo', '10', '-e', 'X=1', '--cpu', '2', '-m', '8G']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Submitting job run 'r1'...\nRun 'ce jobrun get -n r1' to check the job run status.\nOK\n");
    expect(h.api.bodiesOf('POST', '/job_runs')[0]).toEqual({
      name: 'r1',
      job_name: 'myjob',
      scale_array_spec: '4-5',
      scale_array_size_variable_override: 10,
      run_env_variables: [{ type: 'literal', name: 'X', value: '1' }],
      scale_cpu_limit: '2',
      scale_memory_limit: '8G',
    });
  });

  it('generates <job>-jobrun-xxxxx when no name is given', async () => {
    const r = await h.run(['jobrun', 'submit', '--job', 'myjob']);
    expect(r.code).toBe(0);
    const name = h.api.bodiesOf('POST', '/job_runs')[0].name as string;
    expect(name).toMatch(/^myjob-jobrun-[a-z0-9]{5}$/);
    expect(r.stdout).toContain(`Submitting job run '${name}'...`);
  });

  it('submits a standalone run', async () => {
    await h.run(['jobrun', 'submit', '--name', 'hi-job', '--ai=1', '--image', 'icr.io/codeengine/helloworld', '--array-size-variable-override', '3', '--rs', 'rs1', '--mode', 'daemon', '-f']);
    expect(h.api.bodiesOf('POST', '/job_runs')[0]).toEqual({
      name: 'hi-job',
      scale_array_spec: '1',
      image_reference: 'icr.io/codeengine/helloworld',
      image_secret: 'rs1',
      scale_array_size_variable_override: 3,
      run_mode: 'daemon',
    });
  });

  it("reports the server's refusal with FAILED and exit 1", async () => {
    const r = await h.run(['jobrun', 'submit', '--job', 'myjob', '--name', 'r', '--image', 'other']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("FAILED\nimage_reference: you cannot override the job's image\n");
  });
});

describe('job update', () => {
  beforeEach(() => {
    h.api.addJob({
      name: 'u',
      image_reference: 'img',
      image_secret: 'rs',
      run_arguments: ['old'],
      run_commands: ['cmd'],
      run_env_variables: [
        { type: 'literal', name: 'A', value: '1' },
        { type: 'literal', name: 'B', value: '1' },
        { type: 'config_map_full_reference', reference: 'X' },
        { type: 'secret_key_reference', name: 'K', reference: 's', key: 'k' },
      ],
      run_volume_mounts: [{ type: 'secret', reference: 's', mount_path: '/m' }],
    });
  });

  it('merges env changes into the current list and sends If-Match', async () => {
    const job = h.api.jobs.get('default-id-0000/u')!;
    const tag = job.entity_tag;
    const r = await h.run(['job', 'update', '-n', 'u', '--env', 'B=2', '--env', 'C=3', '--env-rm', 'A', '--env-cm-rm', 'X', '--env-sec', 's:K=other', '-f']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Updating job 'u'...\nOK\n");
    const patch = h.api.requests.find((x) => x.method === 'PATCH')!;
    expect(patch.headers['if-match']).toBe(tag);
    expect(patch.body).toEqual({
      run_env_variables: [
        { type: 'literal', name: 'B', value: '2' },
        { type: 'literal', name: 'C', value: '3' },
        { type: 'secret_key_reference', name: 'K', reference: 's', key: 'other' },
      ],
    });
  });

  it('clears lists and the registry secret, replaces mounts', async () => {
    await h.run(['job', 'update', '-n', 'u', '--ac', '--cc', '--rsc', '--mount-rm', '/m', '--mount-cm', '/n=cm', '--as', '3', '--cpu', '2', '-f']);
    expect(h.api.requests.find((x) => x.method === 'PATCH')!.body).toEqual({
      run_arguments: [],
      run_commands: [],
      image_secret: null,
      run_volume_mounts: [{ type: 'config_map', reference: 'cm', mount_path: '/n' }],
      scale_array_spec: '0-2',
      scale_cpu_limit: '2',
    });
  });

  it('replaces the arguments with --arguments-clear --arg', async () => {
    await h.run(['job', 'update', '-n', 'u', '--arguments-clear', '--arg', 'new']);
    expect(h.api.requests.find((x) => x.method === 'PATCH')!.body).toEqual({ run_arguments: ['new'] });
  });

  it('treats --array-size 0 as unchanged and refuses an empty update', async () => {
    const r = await h.run(['job', 'update', '-n', 'u', '--array-size', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Nothing to update');
  });
});

describe('jobrun resubmit', () => {
  beforeEach(() => {
    h.api.addJob({ name: 'j', image_reference: 'img' });
    h.api.addRun({
      name: 'prev',
      job_name: 'j',
      image_reference: 'img',
      image_secret: 'rs',
      scale_array_spec: '0-9',
      run_env_variables: [{ type: 'literal', name: 'A', value: '1' }],
      status: 'failed',
      status_details: { requested: 0, pending: 0, running: 0, succeeded: 8, failed: 2, unknown: 0, failed_indices: '3,8', indices_details: {} },
    });
    h.api.addRun({ name: 'solo', image_reference: 'img', scale_array_spec: '0-1', scale_array_size_variable_override: 50, status: 'completed', status_details: { requested: 0, pending: 0, running: 0, succeeded: 2, failed: 0, unknown: 0, indices_details: {} } });
  });

  it('clones a run of a job without its image, with overrides', async () => {
    const r = await h.run(['jobrun', 'resubmit', '--jobrun', 'prev', '--name', 'again', '--array-indices', '4-5', '-e', 'B=2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Getting job run 'prev'...\nRerunning job run 'again'...\n");
    const body = h.api.bodiesOf('POST', '/job_runs')[0];
    expect(body).toMatchObject({ name: 'again', job_name: 'j', scale_array_spec: '4-5', run_mode: 'task', scale_retry_limit: 3 });
    expect(body.run_env_variables).toEqual([
      { type: 'literal', name: 'A', value: '1' },
      { type: 'literal', name: 'B', value: '2' },
    ]);
    expect(body).not.toHaveProperty('image_reference');
    expect(body).not.toHaveProperty('image_secret');
    expect(body).not.toHaveProperty('run_service_account');
    expect(body).not.toHaveProperty('scale_array_size_variable_override');
  });

  it('--failed reruns the failed indices with the original JOB_ARRAY_SIZE', async () => {
    await h.run(['jobrun', 'resubmit', '--jobrun', 'prev', '--failed']);
    const body = h.api.bodiesOf('POST', '/job_runs')[0];
    expect(body).toMatchObject({ job_name: 'j', scale_array_spec: '3,8', scale_array_size_variable_override: 10 });
    expect(body.name).toMatch(/^j-jobrun-/);
  });

  it('--failed with --array-indices: the indices win', async () => {
    await h.run(['jobrun', 'resubmit', '--jobrun', 'prev', '--failed', '--ai', '3']);
    expect(h.api.bodiesOf('POST', '/job_runs')[0]).toMatchObject({ scale_array_spec: '3', scale_array_size_variable_override: 10 });
  });

  it('--failed fails when the run has no failed indices', async () => {
    const r = await h.run(['jobrun', 'resubmit', '--jobrun', 'solo', '--name', 'x', '--failed']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Job run 'solo' has no failed indices to rerun.");
  });

  it('a standalone run keeps its image and override, and needs --name', async () => {
    const bad = await h.run(['jobrun', 'resubmit', '--jobrun', 'solo']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Run 'ce jobrun resubmit --help' for usage.");
    await h.run(['jobrun', 'resubmit', '--jobrun', 'solo', '-n', 'solo2', '--mode', 'daemon']);
    const body = h.api.bodiesOf('POST', '/job_runs')[0];
    expect(body).toMatchObject({ name: 'solo2', image_reference: 'img', scale_array_size_variable_override: 50, run_mode: 'daemon' });
    expect(body).not.toHaveProperty('scale_max_execution_time');
    expect(body).not.toHaveProperty('scale_retry_limit');
  });
});
