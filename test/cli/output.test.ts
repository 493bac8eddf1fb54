import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
  h.api.addJob({
    name: 'myjob-daemon',
    image_reference: 'icr.io/codeengine/helloworld',
    run_mode: 'daemon',
    scale_max_execution_time: undefined,
    scale_retry_limit: undefined,
    last_job_run: { name: 'myjobrun-daemon', created_at: '2024-05-01T10:03:00Z' },
    run_env_variables: [
      { type: 'literal', name: 'TARGET', value: 'World' },
      { type: 'secret_full_reference', reference: 'db', prefix: 'DB_' },
      { type: 'config_map_key_reference', name: 'K', reference: 'cm', key: 'key' },
    ],
  });
  h.api.addJob({ name: 'alpha', image_reference: 'x', created_at: '2024-04-29T06:00:00Z' });
  h.api.addRun({
    name: 'myjobrun-daemon',
    job_name: 'myjob-daemon',
    image_reference: 'icr.io/codeengine/helloworld',
    run_mode: 'daemon',
    scale_max_execution_time: undefined,
    scale_retry_limit: undefined,
    status: 'running',
    scale_array_spec: '0-1',
    status_details: { start_time: '2024-05-01T10:03:31Z', requested: 0, pending: 0, running: 1, succeeded: 1, failed: 0, unknown: 0, indices_details: {} },
  });
  h.api.addRun({
    name: 'failedrun',
    job_name: 'alpha',
    status: 'failed',
    scale_array_spec: '0-4',
    scale_array_size_variable_override: 50,
    created_at: '2024-05-01T09:00:00Z',
    status_details: {
      start_time: '2024-05-01T09:00:01Z',
      completion_time: '2024-05-01T09:10:00Z',
      requested: 0, pending: 0, running: 0, succeeded: 4, failed: 1, unknown: 0,
      failed_indices: '3',
      indices_details: { '3': { status: 'failed', retries: 3, last_failure_reason: 'OOMKilled' } },
    },
  });
  h.api.instances.set('myjobrun-daemon', [
    { name: 'myjobrun-daemon-0-0', project_id: 'p', job_run_name: 'myjobrun-daemon', index: 0, retry: 0, state: 'running', restarts: 2, attempts: 3, created_at: '2024-05-01T10:03:32Z' },
    { name: 'myjobrun-daemon-1-0', project_id: 'p', job_run_name: 'myjobrun-daemon', index: 1, retry: 0, state: 'succeeded', restarts: 0, attempts: 1, created_at: '2024-05-01T10:00:00Z' },
  ]);
  h.api.instances.set('failedrun', [
    { name: 'failedrun-3-3', project_id: 'p', job_run_name: 'failedrun', index: 3, retry: 3, state: 'failed', restarts: 0, attempts: 1, last_failure_reason: 'OOMKilled', created_at: '2024-05-01T09:09:00Z' },
  ]);
  h.api.events.set('myjobrun-daemon', [
    { id: 1, project_id: 'p', job_run_name: 'myjobrun-daemon', type: 'Normal', reason: 'Created', message: 'Job run created', count: 1, first_timestamp: '2024-05-01T10:03:31Z', last_timestamp: '2024-05-01T10:03:31Z' },
    { id: 2, project_id: 'p', job_run_name: 'myjobrun-daemon', instance_name: 'myjobrun-daemon-0-0', type: 'Warning', reason: 'BackOff', message: 'restarting in 2s', count: 3, first_timestamp: '2024-05-01T10:03:32Z', last_timestamp: '2024-05-01T10:03:54Z' },
  ]);
  h.api.logs.set('myjobrun-daemon', [
    { instance: 'myjobrun-daemon-0-0', container: 'myjob-daemon', records: [{ time: '2024-05-01T10:03:33Z', stream: 'stdout', text: 'Hello from helloworld!' }, { time: '2024-05-01T10:03:34Z', stream: 'stdout', text: 'JOB_INDEX=0' }] },
    { instance: 'myjobrun-daemon-1-0', container: 'myjob-daemon', records: [{ time: '2024-05-01T10:03:35Z', stream: 'stderr', text: 'bye' }] },
  ]);
});
afterEach(async () => {
  await h.close();
});

const lines = (s: string): string[] => s.split('\n');

describe('job get', () => {
  it('prints the sections of Code Engine', async () => {
    const r = await h.run(['job', 'get', '--name', 'myjob-daemon']);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.slice(0, 3)).toEqual(["Getting job 'myjob-daemon'...", 'OK', '']);
    expect(out).toContain('Name:          myjob-daemon');
    expect(out).toContain('Project Name:  default');
    expect(out).toContain('Project ID:    default-id-0000');
    expect(out).toContain('Age:           3m58s');
    expect(r.stdout).toMatch(/Created: {7}2024-05-01T\d\d:\d\d:00[+-]\d\d:\d\d/);
    expect(r.stdout).toContain('Last Job Run:\n  Name:     myjobrun-daemon\n  Age:      58s\n');
    expect(r.stdout).toContain(
      [
        'Environment Variables:',
        '  Type                      Name    Value',
        '  Literal                   TARGET  World',
        '  Secret full reference     DB_*    db',
        '  Config map key reference  K       cm.key',
      ].join('\n'),
    );
    expect(r.stdout).toContain(
      [
        'Image:                icr.io/codeengine/helloworld',
        'Runs On:              fake driver',
        'Resource Allocation:',
        '  CPU:                1',
        '  Ephemeral Storage:  400M',
        '  Memory:             4G',
        '',
        'Runtime:',
        '    Mode:           daemon',
        '    Array Indices:  0',
        '    Array Size:     1',
      ].join('\n'),
    );
  });

  it('prints the API object with -o json and -o yaml, and fields with jsonpath', async () => {
    const json = JSON.parse((await h.run(['job', 'get', '-n', 'alpha', '-o', 'json'])).stdout);
    expect(json).toMatchObject({ name: 'alpha', resource_type: 'job_v2', scale_array_spec: '0' });
    const yaml = YAML.parse((await h.run(['job', 'get', '-n', 'alpha', '-o', 'yaml'])).stdout);
    expect(yaml.name).toBe('alpha');
    expect((await h.run(['job', 'get', '-n', 'alpha', '-o', 'jsonpath={.scale_cpu_limit}/{.scale_memory_limit}'])).stdout).toBe('1/4G\n');
    expect((await h.run(['job', 'get', '-n', 'myjob-daemon', '-o', 'jsonpath-as-json={.run_env_variables[*].type}'])).stdout).toBe(
      JSON.stringify(['literal', 'secret_full_reference', 'config_map_key_reference'], null, 2) + '\n',
    );
  });

  it('reports a missing job with FAILED and exit 1', async () => {
    const r = await h.run(['job', 'get', '-n', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("Getting job 'nope'...\n");
    expect(r.stderr).toBe("FAILED\nJob 'nope' was not found.\n");
  });
});

describe('jobrun get', () => {
  it('prints status, conditions, events and instances', async () => {
    const r = await h.run(['jobrun', 'get', '--name', 'myjobrun-daemon']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        "Getting jobrun 'myjobrun-daemon'...",
        "Getting instances of jobrun 'myjobrun-daemon'...",
        "Getting events of jobrun 'myjobrun-daemon'...",
        "Run 'ce jobrun events -n myjobrun-daemon' to get the system events of the job run instances.",
        "Run 'ce jobrun logs -f -n myjobrun-daemon' to follow the logs of the job run instances.",
        'OK',
        '',
        'Name:          myjobrun-daemon',
      ].join('\n'),
    );
    expect(r.stdout).toContain('Job Ref:              myjob-daemon\nImage:                icr.io/codeengine/helloworld\n');
    expect(r.stdout).toContain('    Array Size:            2\n    JOB_ARRAY_SIZE Value:  2\n');
    expect(r.stdout).toContain(
      [
        'Status:',
        '  Instance Statuses:',
        '    Running:    1',
        '    Succeeded:  1',
        '  Conditions:',
        '    Type     Status  Last Probe  Last Transition',
        '    Pending  True    3m58s       3m58s',
        '    Running  True    27s         27s',
        '',
        'Events:',
        '  Type     Reason   Age               Source               Messages',
        '  Normal   Created  27s               myjobrun-daemon      Job run created',
        '  Warning  BackOff  4s (x3 over 26s)  myjobrun-daemon-0-0  restarting in 2s',
        '',
        'Instances:',
        '  Name                 Running  Status     Restarts  Age',
        '  myjobrun-daemon-0-0  1/1      Running    2         26s',
        '  myjobrun-daemon-1-0  0/1      Succeeded  0         3m58s',
      ].join('\n'),
    );
  });

  it('shows a failed run: Failed condition, override, failed indices', async () => {
    const r = await h.run(['jobrun', 'get', '-n', 'failedrun']);
    expect(r.stdout).toContain('    Array Size:            5\n    JOB_ARRAY_SIZE Value:  50\n');
    expect(r.stdout).toContain('Status:\n  Failed:  53m\n');
    expect(r.stdout).toContain('    Failed   True    53m         53m\n');
    expect(r.stdout).toContain('  Failed Indices:\n    Index  Reason     Retries\n    3      OOMKilled  3 retries\n');
    expect(r.stdout).toContain('  failedrun-3-3  0/1      Failed (OOMKilled)  0         54m');
  });
});

describe('lists', () => {
  it('job list: columns, sorted by name, pagination followed', async () => {
    h.api.addJob({ name: 'beta', image_reference: 'x' });
    const r = await h.run(['job', 'list']);
    expect(r.stdout).toBe(
      [
        'Listing jobs...',
        'OK',
        '',
        'Name          Age    Last Job Run Name  Last Job Run Age',
        'alpha         2d4h',
        'beta          3m58s',
        'myjob-daemon  3m58s  myjobrun-daemon    58s',
        '',
      ].join('\n'),
    );
    expect(h.api.requests.filter((x) => x.path.endsWith('/jobs')).length).toBe(2); // two pages of 2
  });

  it('job list --sort-by age puts the newest first', async () => {
    const r = await h.run(['job', 'list', '-s', 'age', '-q']);
    expect(lines(r.stdout).map((l) => l.split(' ')[0])).toEqual(['Name', 'myjob-daemon', 'alpha', '']);
  });

  it('jobrun list: columns and --job filter', async () => {
    const r = await h.run(['jobrun', 'list']);
    expect(r.stdout).toContain(
      [
        'Name             Failed  Pending  Requested  Running  Succeeded  Unknown  Age',
        'failedrun        1       0        0          0        4          0        63m',
        'myjobrun-daemon  0       0        0          1        1          0        3m58s',
      ].join('\n'),
    );
    await h.run(['jobrun', 'list', '--job', 'alpha']);
    expect(h.api.requests.at(-1)!.query.get('job_name')).toBe('alpha');
  });

  it('lists as {items} for -o json and jsonpath', async () => {
    const r = await h.run(['jobrun', 'list', '-o', 'json']);
    expect(JSON.parse(r.stdout).items.map((x: { name: string }) => x.name)).toEqual(['failedrun', 'myjobrun-daemon']);
    expect((await h.run(['jobrun', 'list', '-o', 'jsonpath={range .items[*]}{.name}={.status}{"\\n"}{end}'])).stdout).toBe('failedrun=failed\nmyjobrun-daemon=running\n\n');
  });

  it('says so when there is nothing', async () => {
    h.api.runs.clear();
    expect((await h.run(['jobrun', 'list', '-q'])).stdout).toBe('No job runs were found.\n');
  });
});

describe('logs and events', () => {
  it('groups logs under <instance>/<container>: headers', async () => {
    const r = await h.run(['jobrun', 'logs', '--name', 'myjobrun-daemon']);
    expect(r.stdout).toBe(
      [
        "Getting logs for all instances of job run 'myjobrun-daemon'...",
        'OK',
        '',
        'myjobrun-daemon-0-0/myjob-daemon:',
        'Hello from helloworld!',
        'JOB_INDEX=0',
        '',
        'myjobrun-daemon-1-0/myjob-daemon:',
        'bye',
        '',
        '',
      ].join('\n'),
    );
  });

  it('--raw drops headers, --timestamps prefixes times, --instance and --tail are passed', async () => {
    const r = await h.run(['jobrun', 'logs', '-j', 'myjobrun-daemon', '--raw', '--ts', '-q']);
    expect(r.stdout).toBe('2024-05-01T10:03:33Z Hello from helloworld!\n2024-05-01T10:03:34Z JOB_INDEX=0\n2024-05-01T10:03:35Z bye\n');
    const one = await h.run(['jobrun', 'logs', '-i', 'myjobrun-daemon-1-0', '-t', '5', '-q']);
    expect(one.stdout).toBe('myjobrun-daemon-1-0/myjob-daemon:\nbye\n\n');
    const req = h.api.requests.at(-1)!;
    expect(req.path).toBe('/v2/projects/default/job_runs/myjobrun-daemon/logs');
    expect(req.query.get('instance')).toBe('myjobrun-daemon-1-0');
    expect(req.query.get('tail')).toBe('5');
  });

  it('-f streams NDJSON records grouped by instance', async () => {
    const rec = (instance: string, text: string) => ({ instance, container: 'c', time: '2024-05-01T10:00:00Z', stream: 'stdout' as const, text });
    h.api.followRecords.set('myjobrun-daemon', [rec('r-0-0', 'a'), rec('r-0-0', 'b'), rec('r-1-0', 'c'), rec('r-0-0', 'd')]);
    const r = await h.run(['jobrun', 'logs', '-f', '-n', 'myjobrun-daemon', '--jobrun', 'myjobrun-daemon']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK\n\nr-0-0/c:\na\nb\n\nr-1-0/c:\nc\n\nr-0-0/c:\nd\n');
    const raw = await h.run(['jobrun', 'logs', '--follow', '-n', 'myjobrun-daemon', '-r', '-q']);
    expect(raw.stdout).toBe('a\nb\nc\nd\n');
  });

  it('events of one instance', async () => {
    const r = await h.run(['jobrun', 'events', '--instance', 'myjobrun-daemon-0-0', '-q']);
    expect(r.stdout).toBe('Type     Reason   Age               Source               Messages\nWarning  BackOff  4s (x3 over 26s)  myjobrun-daemon-0-0  restarting in 2s\n');
    expect(JSON.parse((await h.run(['jobrun', 'events', '-n', 'myjobrun-daemon', '-o', 'json'])).stdout).events).toHaveLength(2);
  });

  it('restart prints the restarted instances', async () => {
    const r = await h.run(['jobrun', 'restart', '-n', 'myjobrun-daemon']);
    expect(r.stdout).toBe("Restarting the running instances of job run 'myjobrun-daemon'...\nRestarted instance 'myjobrun-daemon-0-0'.\nOK\n");
    await h.run(['jobrun', 'restart', '-i', 'myjobrun-daemon-1-0']);
    expect(h.api.requests.at(-1)!.body).toEqual({ instance: 'myjobrun-daemon-1-0' });
  });
});

describe('quiet and colours', () => {
  it('-q and IBMCLOUD_QUIET=true drop progress messages', async () => {
    expect((await h.run(['job', 'create', '-n', 'q1', '-q'])).stdout).toBe('');
    expect((await h.run(['job', 'create', '-n', 'q2'], { env: { IBMCLOUD_QUIET: 'true' } })).stdout).toBe('');
  });

  it('colours OK and FAILED on a TTY unless NO_COLOR is set', async () => {
    const tty = await h.run(['job', 'create', '-n', 'c1'], { isTTY: true });
    expect(tty.stdout).toContain('\x1b[32mOK\x1b[0m');
    const fail = await h.run(['job', 'get', '-n', 'zzz'], { isTTY: true, stderrIsTTY: true });
    expect(fail.stderr).toContain('\x1b[31mFAILED\x1b[0m');
    // FAILED goes to stderr: coloured by stderr's terminal, not stdout's
    expect((await h.run(['job', 'get', '-n', 'zzz'], { isTTY: true, stderrIsTTY: false })).stderr).toBe("FAILED\nJob 'zzz' was not found.\n");
    expect((await h.run(['job', 'get', '-n', 'zzz'], { isTTY: false, stderrIsTTY: true })).stderr).toContain('\x1b[31mFAILED\x1b[0m');
    expect((await h.run(['job', 'get', '-n', 'zzz'], { stderrIsTTY: true, env: { NO_COLOR: '1' } })).stderr).toBe("FAILED\nJob 'zzz' was not found.\n");
    const plain = await h.run(['job', 'create', '-n', 'c2'], { isTTY: true, env: { NO_COLOR: '1' } });
    expect(plain.stdout).toBe("Creating job 'c2'...\nOK\n");
  });
});

describe('help', () => {
  it.each([['--help'], ['job', 'create', '--help'], ['jobrun', 'submit', '--help'], ['jobrun', 'logs', '--help'], ['project', 'select', '--help'], ['job', 'delete', '-h']])(
    'ce %s shows examples (exit 0)',
    async (...argv) => {
      const r = await h.run(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:\n  ce ');
    },
  );

  it('lists aliases in the help', async () => {
    const r = await h.run(['jobrun', 'submit', '--help']);
    expect(r.stdout).toContain('--as, --instances, --is');
    expect(r.stdout).toContain('--array-size-variable-override, --asvo');
    expect(r.stdout).toContain('--nw');
  });
});
