/** Regression tests of the review's bugs. */
import YAML from 'yaml';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { createContext } from '../../src/cli/context.js';
import { readCliConfig } from '../../src/cli/config.js';
import { Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.close();
});

describe('-o is validated before any request', () => {
  it.each([
    [['job', 'create', '-n', 'j', '--cmd', '/bin/true', '-o', 'jsonpath={.name']],
    [['job', 'update', '-n', 'j', '--cpu', '2', '-o', 'jsonpath-as-json={range .x}']],
    [['jobrun', 'submit', '--name', 'r', '--cmd', '/bin/true', '-o', 'jsonpath={.a[}']],
    [['jobrun', 'resubmit', '--jobrun', 'r0', '-o', 'jsonpath={end}']],
    [['project', 'create', '-n', 'p', '-o', 'jsonpath={.name']],
    [['configmap', 'create', '-n', 'c', '-l', 'a=1', '-o', 'jsonpath={.name']],
    [['secret', 'create', '-n', 's', '-l', 'a=1', '-o', 'jsonpath={.name']],
  ])('%j: usage error, nothing sent', async (argv) => {
    const r = await h.run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid JSONPath template');
    expect(h.api.requests).toEqual([]);
  });
});

describe('jobrun logs -f honours -o', () => {
  beforeEach(() => {
    h.api.addRun({ name: 'r' });
    h.api.followRecords.set('r', [
      { instance: 'r-0-0', container: 'r', time: '2024-05-01T10:00:01Z', stream: 'stdout', text: 'one' },
      { instance: 'r-1-0', container: 'r', time: '2024-05-01T10:00:02Z', stream: 'stdout', text: 'two' },
    ]);
  });

  it('json: one JSON record per line', async () => {
    const r = await h.run(['jobrun', 'logs', '-f', '-n', 'r', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).text)).toEqual(['one', 'two']);
  });

  it('yaml: one document per record', async () => {
    const r = await h.run(['jobrun', 'logs', '-f', '-n', 'r', '-o', 'yaml']);
    expect(YAML.parseAllDocuments(r.stdout).map((d) => d.toJS().text)).toEqual(['one', 'two']);
  });

  it('jsonpath and jsonpath-as-json: the template per record', async () => {
    expect((await h.run(['jobrun', 'logs', '-f', '-n', 'r', '-o', 'jsonpath={.instance} {.text}'])).stdout).toBe('r-0-0 one\nr-1-0 two\n');
    expect((await h.run(['jobrun', 'logs', '-f', '-n', 'r', '-o', 'jsonpath-as-json={.text}'])).stdout).toBe('["one"]\n["two"]\n');
  });
});

describe('help defaults of submit and resubmit', () => {
  it("submit shows the job's values as defaults; create the server's; resubmit the previous run's", async () => {
    const submit = (await h.run(['jobrun', 'submit', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(submit).toContain("(default: the job's, else 1)");
    expect(submit).toContain("(default: the job's, else 4G)");
    expect(submit).not.toMatch(/\(default 4G\)/);
    const create = (await h.run(['job', 'create', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(create).toContain('(default 4G)');
    const resubmit = (await h.run(['jobrun', 'resubmit', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(resubmit).toContain("(default: the previous run's)");
    expect(resubmit).not.toMatch(/\(default 4G\)|else 4G/);
  });
});

describe('--array-size 0 on update/resubmit', () => {
  it('does not conflict with --array-indices (0 = unchanged), but any other size does', async () => {
    h.api.addJob({ name: 'j' });
    h.api.addRun({ name: 'prev', job_name: 'j' });
    const upd = await h.run(['job', 'update', '-n', 'j', '--array-size', '0', '--array-indices', '1-3']);
    expect(upd.stderr).toBe('');
    expect(h.api.requests.find((x) => x.method === 'PATCH')!.body).toEqual({ scale_array_spec: '1-3' });
    const res = await h.run(['jobrun', 'resubmit', '--jobrun', 'prev', '--as', '0', '--ai', '4-5']);
    expect(res.code).toBe(0);
    expect(h.api.bodiesOf('POST', '/job_runs')[0].scale_array_spec).toBe('4-5');
    const both = await h.run(['job', 'update', '-n', 'j', '--array-size', '2', '--array-indices', '1-3']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--array-indices.*cannot be used with.*--array-size/);
    expect((await h.run(['job', 'create', '-n', 'k', '--as', '1', '--ai', '0'])).code).toBe(2);
  });
});

describe('--flag=true|false on every boolean flag', () => {
  it('project create --select=false does not select; --no-select=false does', async () => {
    const r = await h.run(['project', 'create', '-n', 'p1', '--select=false']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await readCliConfig(h.home)).project).toBeUndefined();
    expect((await h.run(['project', 'create', '-n', 'p2', '--no-select=false'])).code).toBe(0);
    expect((await readCliConfig(h.home)).project).toBe('p2');
    expect((await h.run(['project', 'create', '-n', 'p3', '--select=true'])).code).toBe(0);
    expect((await readCliConfig(h.home)).project).toBe('p3');
  });

  it('--force=false really means not forced (a later value wins), --force=true forces', async () => {
    h.api.addJob({ name: 'j' });
    const r = await h.run(['job', 'delete', '-n', 'j', '-f', '--force=false']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('use --force (-f)');
    expect((await h.run(['job', 'delete', '-n', 'j', '--force=true'])).code).toBe(0);
    expect(h.api.jobs.size).toBe(0);
  });

  it('refuses other values, naming the flag', async () => {
    const r = await h.run(['jobrun', 'submit', '--job', 'j', '--wait=maybe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Option '--wait' takes no value; use --wait, --wait=true or --wait=false.");
  });
});

describe('-q help text', () => {
  it('is the same on every command that has -q', () => {
    const program = buildProgram(createContext({ stdout: { write: () => 0 }, stderr: { write: () => 0 }, env: {}, isTTY: false }));
    const seen: string[] = [];
    const walk = (cmd: Command, path: string): void => {
      for (const o of cmd.options) {
        if (o.long === '--quiet') {
          seen.push(path);
          expect(o.description, path).toBe('Only print results, no progress messages (also IBMCLOUD_QUIET=true)');
        }
      }
      for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`);
    };
    walk(program, 'ce');
    expect(seen).toEqual(expect.arrayContaining(['ce project select', 'ce project delete', 'ce job delete', 'ce jobrun delete', 'ce jobrun restart', 'ce configmap delete', 'ce secret delete']));
  });
});
