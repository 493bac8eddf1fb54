/**
 * `ce` end to end with builds, against a real server on the process driver (source strategy):
 * `job create --build-source DIR|GIT_URL` in one command, `--no-wait`, `job update --rebuild`
 * and `--build-commit`, a failing build that creates no job, and the `build`/`buildrun` groups.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWritable } from '../../src/builders/tree.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { startServer } from '../../src/server/serve.js';
import { ceInHome } from '../cli/local-ce.js';
import { makeGitRepo, until, writeTree } from './fixtures.js';

let home: string;
let work: string;
let server: Awaited<ReturnType<typeof startServer>>;

const ce = (...argv: string[]) => ceInHome(home, argv, { pollMs: 100 });

async function runOutput(job: string, run: string): Promise<string> {
  const r = await ce('jobrun', 'submit', '--job', job, '--name', run, '--wait', '--wait-timeout', '60');
  if (r.code !== 0) {
    const logs = (await ce('jobrun', 'logs', '--jobrun', run, '--raw')).out;
    const launcherLog = fs.readFileSync(path.join(home, 'launcher', 'launcher.log'), 'utf8').split('\n').slice(-15).join('\n');
    expect(r.code, `${r.out}\n--- logs:\n${logs}\n--- launcher log:\n${launcherLog}`).toBe(0);
  }
  return (await ce('jobrun', 'logs', '--jobrun', run, '--raw')).out;
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-e2e-build-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-e2e-build-src-'));
  server = await startServer({ home, driver: 'process', log: () => undefined });
});

afterAll(async () => {
  await server?.close();
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  for (const d of [home, work]) {
    makeWritable(d);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

describe('ce with builds (process driver, source strategy)', () => {
  it('creates a job from a local directory in one command and runs it', async () => {
    const dir = path.join(work, 'app');
    writeTree(dir, { 'run.sh': '#!/bin/sh\necho "hello from source"\ncat built.txt\n' });
    const r = await ce('job', 'create', '--name', 'app', '--build-source', dir, '--build-command', 'echo "made by build" > built.txt', '--cmd', './run.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("Creating build 'app'");
    expect(r.out).toContain('succeeded');
    const job = JSON.parse((await ce('job', 'get', '--name', 'app', '-o', 'json')).out);
    expect(job.build).toBe('app');
    expect(job.build_run).toMatch(/^app-run-/);
    expect(job.image_reference).toMatch(/^snapshot\.cejobs\.local\//);
    expect((await ce('job', 'get', '--name', 'app')).out).toMatch(/Build Run:\s+app-run-/);
    const out = await runOutput('app', 'app-1');
    expect(out).toContain('hello from source');
    expect(out).toContain('made by build');

    // Edits change nothing until the rebuild; the rebuild changes later runs only.
    writeTree(dir, { 'run.sh': '#!/bin/sh\necho "second version"\n' });
    expect(await runOutput('app', 'app-2')).toContain('hello from source');
    const up = await ce('job', 'update', '--name', 'app', '--build-source', dir, '--build-command', 'true');
    expect(up.code, up.out).toBe(0);
    expect(await runOutput('app', 'app-3')).toContain('second version');
    const runs = JSON.parse((await ce('buildrun', 'list', '--build', 'app', '-o', 'json')).out);
    expect(runs.items).toHaveLength(2);

    // --no-wait on update: the job keeps its image until the new build run succeeds.
    const before = JSON.parse((await ce('job', 'get', '--name', 'app', '-o', 'json')).out);
    const nw = await ce('job', 'update', '--name', 'app', '--build-command', 'sleep 1; echo v3 > built.txt', '--no-wait');
    expect(nw.code, nw.out).toBe(0);
    const during = JSON.parse((await ce('job', 'get', '--name', 'app', '-o', 'json')).out);
    expect(during.image_reference).toBe(before.image_reference);
    expect(during.build_run).not.toBe(before.build_run);
    await until('the new image', async () =>
      JSON.parse((await ce('job', 'get', '--name', 'app', '-o', 'json')).out).image_reference !== before.image_reference);

    // --build-clear detaches the job from its build; it keeps the image.
    const clear = await ce('job', 'update', '--name', 'app', '--build-clear');
    expect(clear.code, clear.out).toBe(0);
    const cleared = JSON.parse((await ce('job', 'get', '--name', 'app', '-o', 'json')).out);
    expect(cleared.build).toBeUndefined();
    expect(cleared.image_reference).toMatch(/^snapshot\.cejobs\.local\//);
    expect((await ce('job', 'update', '--name', 'app', '--rebuild')).code).toBe(2);
  }, 120_000);

  it('creates a job from a Git repository at a tag, then moves it with --build-commit and --rebuild', async () => {
    const repo = path.join(work, 'repo');
    makeGitRepo(repo);
    const r = await ce('job', 'create', '--name', 'fromgit', '--build-source', `file://${repo}`, '--build-commit', 'v1', '--cmd', './run.sh');
    expect(r.code, r.out).toBe(0);
    expect(await runOutput('fromgit', 'fromgit-1')).toContain('from git v1');
    const u = await ce('job', 'update', '--name', 'fromgit', '--build-commit', 'main');
    expect(u.code, u.out).toBe(0);
    expect(await runOutput('fromgit', 'fromgit-2')).toContain('from git v2');
    const re = await ce('job', 'update', '--name', 'fromgit', '--rebuild');
    expect(re.code, re.out).toBe(0);
    expect(await runOutput('fromgit', 'fromgit-3')).toContain('from git v2');
    const b = await ce('build', 'get', '--name', 'fromgit');
    expect(b.out).toContain(`file://${repo}`);
    expect(b.out).toMatch(/Commit:\s+main/);
  }, 120_000);

  it('fails job creation when the build fails: reason and log tail, exit 1, no job', async () => {
    const dir = path.join(work, 'broken');
    writeTree(dir, { 'run.sh': '#!/bin/sh\n' });
    const r = await ce('job', 'create', '--name', 'broken', '--build-source', dir, '--build-command', 'echo "compiler says: missing semicolon" >&2; exit 4', '--cmd', './run.sh');
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAILED');
    expect(r.out).toContain('BuildFailed');
    expect(r.out).toContain('compiler says: missing semicolon');
    expect(r.out).toContain('ce buildrun logs -n broken-run-');
    const get = await ce('job', 'get', '--name', 'broken');
    expect(get.code).toBe(1);
    const runName = /ce buildrun logs -n (broken-run-[0-9a-f]+)/.exec(r.out)![1]!;
    const logs = await ce('buildrun', 'logs', '--name', runName);
    expect(logs.out).toContain('compiler says: missing semicolon');
    expect((await ce('buildrun', 'get', '--name', runName)).out).toMatch(/Reason:\s+BuildFailed/);
  }, 60_000);

  it('with --no-wait creates the job at once; it takes the image when the build succeeds', async () => {
    const dir = path.join(work, 'nowait');
    writeTree(dir, { 'run.sh': '#!/bin/sh\necho "built later"\n' });
    const r = await ce('job', 'create', '--name', 'nowait', '--build-source', dir, '--build-command', 'sleep 1', '--cmd', './run.sh', '--no-wait');
    expect(r.code, r.out).toBe(0);
    const early = JSON.parse((await ce('job', 'get', '--name', 'nowait', '-o', 'json')).out);
    expect(early.build_run).toMatch(/^nowait-run-/);
    expect(early.image_reference).toBeUndefined();
    const refused = await ce('jobrun', 'submit', '--job', 'nowait', '--name', 'nowait-0');
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/runs the image of build run 'nowait-run-[0-9a-f]+', which is (pending|running)/);
    await until('the job image', async () => JSON.parse((await ce('job', 'get', '--name', 'nowait', '-o', 'json')).out).image_reference);
    expect(await runOutput('nowait', 'nowait-1')).toContain('built later');
  }, 60_000);

  it('manages builds and build runs with ce build / ce buildrun (aliases bd, br)', async () => {
    const dir = path.join(work, 'manual');
    writeTree(dir, { 'run.sh': '#!/bin/sh\necho manual\n' });
    expect((await ce('build', 'create', '--name', 'manual', '--source', dir, '--timeout', '30')).code).toBe(0);
    const sub = await ce('br', 'submit', '--build', 'manual', '--name', 'manual-1', '--wait');
    expect(sub.code, sub.out).toBe(0);
    const list = await ce('bd', 'list');
    expect(list.out).toMatch(/manual\s+ready\s+local\s+source/);
    expect((await ce('buildrun', 'list')).out).toMatch(/manual-1\s+succeeded\s+manual/);
    expect((await ce('build', 'update', '--name', 'manual', '--timeout', '60')).code).toBe(0);
    expect(JSON.parse((await ce('build', 'get', '--name', 'manual', '-o', 'json')).out).timeout).toBe(60);
    expect((await ce('buildrun', 'delete', '--name', 'manual-1', '-f')).code).toBe(0);
    expect((await ce('build', 'delete', '--name', 'manual', '-f')).code).toBe(0);
    expect((await ce('build', 'get', '--name', 'manual')).code).toBe(1);
    const bad = await ce('build', 'create', '--name', 'x', '--source', path.join(work, 'does-not-exist'));
    expect(bad.code).toBe(2);
  }, 60_000);
});
