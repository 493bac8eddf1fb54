/**
 * Builds with the `source` strategy on the real process driver: a local directory and a Git
 * repository (file://) built into snapshots and run as jobs; rebuild immutability; failing
 * builds, timeouts, a missing context directory, and runs interrupted by a restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalEngine } from '../../src/server/local.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import type { Engine } from '../../src/engine/engine.js';
import { makeWritable } from '../../src/builders/tree.js';
import { makeGitRepo, sourceFiles, tarOf, writeTree } from './fixtures.js';
import { waitFor } from '../conformance/driver-conformance.js';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-build-proc-'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-build-src-'));
let engine: Engine;

// No grace for unreferenced outputs: a test removes them at once (`collectBuildOutputs`).
const open = () =>
  openLocalEngine({ home, warn: () => {}, secretKey: Buffer.alloc(32, 7), process: { idleExitMs: 5000 }, settings: { buildOutputGraceMs: 0 } });

beforeAll(async () => {
  engine = await open();
});

afterAll(async () => {
  await engine?.close();
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  for (const d of [home, work]) {
    makeWritable(d); // snapshots are read-only
    fs.rmSync(d, { recursive: true, force: true });
  }
});

async function buildLocal(build: string, dir: string, spec: Record<string, unknown> = {}) {
  try {
    engine.getBuild('default', build);
  } catch {
    engine.createBuild('default', { name: build, source_type: 'local', ...spec });
  }
  await engine.uploadBuildSource('default', build, tarOf(dir), 64 << 20);
  const run = engine.submitBuildRun('default', { build_name: build });
  return engine.waitForBuildRun('default', run.name);
}

async function runJob(job: string, image: string, run: string): Promise<string[]> {
  try {
    engine.updateJob('default', job, { image_reference: image });
  } catch {
    engine.createJob('default', { name: job, image_reference: image, run_commands: ['./run.sh'] });
  }
  engine.submitRun('default', { name: run, job_name: job });
  return outputOf(run);
}

async function outputOf(run: string): Promise<string[]> {
  const r = await engine.waitForRun('default', run);
  const logs = await engine.readLogs('default', run);
  const lines = logs.flatMap((l) => l.records.filter((x) => x.stream === 'stdout').map((x) => x.text));
  expect(r.status, lines.join('\n')).toBe('completed');
  return lines;
}

describe('source builds on the process driver', () => {
  it('builds a local directory into a read-only snapshot and runs it as a job', async () => {
    const dir = path.join(work, 'local');
    writeTree(dir, sourceFiles('from local dir'));
    writeTree(dir, { 'node_modules/x/index.js': 'skip me', '.git/HEAD': 'ref' });
    const br = await buildLocal('local-app', dir, { source_build_command: 'echo "built by command" > built.txt' });
    expect(br.status, br.status_details.message).toBe('succeeded');
    expect(br.output_image).toMatch(/^snapshot\.cejobs\.local\/.+:sha256-[0-9a-f]{64}$/);
    expect(br.status_details.output_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const snapshot = path.join(home, 'snapshots', br.status_details.output_digest!.slice(7));
    expect(fs.existsSync(path.join(snapshot, 'run.sh'))).toBe(true);
    expect(fs.existsSync(path.join(snapshot, 'node_modules'))).toBe(false);
    expect(fs.existsSync(path.join(snapshot, '.git'))).toBe(false);
    expect(fs.statSync(path.join(snapshot, 'run.sh')).mode & 0o222).toBe(0);
    const log = await engine.readBuildRunLog('default', br.name);
    expect(log.join('\n')).toContain('running the build command');

    expect(await runJob('local-app', br.output_image!, 'local-app-1')).toEqual(['from local dir', 'built by command']);
  });

  it('removes snapshots nothing refers to any more, and keeps those in use', async () => {
    const dir = path.join(work, 'gc');
    writeTree(dir, sourceFiles('gc v1'));
    const first = await buildLocal('gc-app', dir);
    const snapshotOf = (br: typeof first) => path.join(home, 'snapshots', br.status_details.output_digest!.slice(7));
    expect(await runJob('gc-app', first.output_image!, 'gc-app-1')).toEqual(['gc v1']);
    writeTree(dir, sourceFiles('gc v2'));
    const second = await buildLocal('gc-app', dir);
    engine.updateJob('default', 'gc-app', { image_reference: second.output_image });
    // Still named by the first build run and by the run gc-app-1.
    expect(await engine.collectBuildOutputs()).not.toContain(snapshotOf(first));
    expect(fs.existsSync(snapshotOf(first))).toBe(true);
    engine.deleteBuildRun('default', first.name);
    engine.deleteRun('default', 'gc-app-1');
    // The run's rows go once its deletion is processed (it is referenced until then).
    let removed: string[] = [];
    for (const deadline = Date.now() + 10_000; !removed.includes(snapshotOf(first)) && Date.now() < deadline; ) {
      removed = await engine.collectBuildOutputs();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(removed).toContain(snapshotOf(first));
    expect(fs.existsSync(snapshotOf(first))).toBe(false);
    expect(fs.existsSync(snapshotOf(second))).toBe(true);
    expect(await runJob('gc-app', second.output_image!, 'gc-app-2')).toEqual(['gc v2']);
  });

  it('builds a Git repository at a tag, a commit and a branch, and in a context directory', async () => {
    const repo = path.join(work, 'repo');
    const { v1 } = makeGitRepo(repo);
    const url = `file://${repo}`;
    const cases: [string, Record<string, unknown>, string][] = [
      ['git-tag', { source_revision: 'v1' }, 'from git v1'],
      ['git-commit', { source_revision: v1 }, 'from git v1'],
      ['git-branch', { source_revision: 'main' }, 'from git v2'],
      ['git-head', {}, 'from git v2'],
      ['git-ctx', { source_context_dir: 'app' }, 'from git app dir'],
    ];
    for (const [name, extra, expected] of cases) {
      engine.createBuild('default', { name, source_url: url, ...extra });
      const br = await engine.waitForBuildRun('default', engine.submitBuildRun('default', { build_name: name }).name);
      expect(br.status, `${name}: ${br.status_details.message}`).toBe('succeeded');
      expect(await runJob(name, br.output_image!, `${name}-1`)).toEqual([expected]);
    }
  });

  it('never changes a run submitted before a rebuild (snapshots are immutable)', async () => {
    const dir = path.join(work, 'immutable');
    writeTree(dir, { 'run.sh': '#!/bin/sh\nsleep 1\necho one\n' });
    const first = await buildLocal('imm', dir);
    expect(first.status).toBe('succeeded');
    engine.createJob('default', { name: 'imm', image_reference: first.output_image!, run_commands: ['./run.sh'] });
    engine.submitRun('default', { name: 'imm-1', job_name: 'imm' });
    // Edit the directory: nothing changes until the next build.
    writeTree(dir, { 'run.sh': '#!/bin/sh\necho two\n' });
    engine.submitRun('default', { name: 'imm-2', job_name: 'imm' });
    const second = await buildLocal('imm', dir);
    expect(second.output_image).not.toBe(first.output_image);
    engine.updateJob('default', 'imm', { image_reference: second.output_image! });
    engine.submitRun('default', { name: 'imm-3', job_name: 'imm' });
    expect(await outputOf('imm-1')).toEqual(['one']);
    expect(await outputOf('imm-2')).toEqual(['one']);
    expect(await outputOf('imm-3')).toEqual(['two']);
    // The same content again reuses the first snapshot.
    writeTree(dir, { 'run.sh': '#!/bin/sh\nsleep 1\necho one\n' });
    expect((await buildLocal('imm', dir)).output_image).toBe(first.output_image);
  });

  it('fails a build whose command fails, with the reason and the last lines of its log', async () => {
    const dir = path.join(work, 'failing');
    writeTree(dir, { 'run.sh': '#!/bin/sh\necho hi\n' });
    const br = await buildLocal('failing', dir, { source_build_command: 'echo "compiling..."; echo "error: no such thing" >&2; exit 3' });
    expect(br.status).toBe('failed');
    expect(br.status_details.reason).toBe('BuildFailed');
    expect(br.status_details.message).toContain('exit code 3');
    expect(br.status_details.message).toContain('error: no such thing');
    expect(br.output_image).toBeUndefined();
  });

  it('runs npm ci by default when there is a lockfile', async () => {
    const dir = path.join(work, 'npm');
    writeTree(dir, {
      'run.sh': '#!/bin/sh\nls node_modules >/dev/null 2>&1 && echo has-node-modules\n',
      'package.json': '{"name":"t","version":"1.0.0","lockfileVersion":3}',
      'package-lock.json': '{"name":"t","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"t","version":"1.0.0"}}}',
    });
    const br = await buildLocal('npm-app', dir);
    expect(br.status, br.status_details.message).toBe('succeeded');
    expect((await engine.readBuildRunLog('default', br.name)).join('\n')).toContain('running the build command: npm ci');
  });

  it('stops a build that exceeds its timeout', async () => {
    const dir = path.join(work, 'slow');
    writeTree(dir, { 'run.sh': '#!/bin/sh\n' });
    const t0 = Date.now();
    const br = await buildLocal('slow', dir, { source_build_command: 'sleep 60', timeout: 1 });
    expect(br.status).toBe('failed');
    expect(br.status_details.reason).toBe('BuildTimeout');
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('fails a missing context directory and a bad revision with their reasons', async () => {
    const repo = path.join(work, 'repo2');
    makeGitRepo(repo);
    engine.createBuild('default', { name: 'no-ctx', source_url: `file://${repo}`, source_context_dir: 'nope' });
    const a = await engine.waitForBuildRun('default', engine.submitBuildRun('default', { build_name: 'no-ctx' }).name);
    expect(a.status_details.reason).toBe('ContextDirNotFound');
    engine.createBuild('default', { name: 'bad-rev', source_url: `file://${repo}`, source_revision: 'v9' });
    const b = await engine.waitForBuildRun('default', engine.submitBuildRun('default', { build_name: 'bad-rev' }).name);
    expect(b.status_details.reason).toBe('SourceCloneFailed');
    engine.createBuild('default', { name: 'no-repo', source_url: `file://${work}/missing` });
    const c = await engine.waitForBuildRun('default', engine.submitBuildRun('default', { build_name: 'no-repo' }).name);
    expect(c.status_details.reason).toBe('SourceCloneFailed');
  });

  it('executes at most buildConcurrency (2) runs at once: the others wait pending, in order; a deleted one never runs', async () => {
    const dir = path.join(work, 'queue');
    const gate = path.join(work, 'queue-gate');
    writeTree(dir, { 'run.sh': '#!/bin/sh\n' });
    engine.createBuild('default', { name: 'queue', source_type: 'local', source_build_command: `while [ ! -e ${gate} ]; do sleep 0.05; done` });
    await engine.uploadBuildSource('default', 'queue', tarOf(dir), 64 << 20);
    const runs = [1, 2, 3, 4].map((n) => engine.submitBuildRun('default', { build_name: 'queue', name: `queue-${n}` }).name);
    const status = () => runs.map((r) => engine.getBuildRun('default', r).status);
    await waitFor('two runs executing', () => status().filter((s) => s === 'running').length === 2);
    expect(status()).toEqual(['running', 'running', 'pending', 'pending']);
    engine.deleteBuildRun('default', 'queue-4'); // leaves the line
    fs.writeFileSync(gate, '');
    const done = await Promise.all(runs.slice(0, 3).map((r) => engine.waitForBuildRun('default', r)));
    expect(done.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // The third started once one of the first two had finished.
    const firstDone = Math.min(...done.slice(0, 2).map((r) => Date.parse(r.status_details.completed_at!)));
    expect(Date.parse(done[2]!.status_details.started_at!)).toBeGreaterThanOrEqual(firstDone);
    expect(() => engine.getBuildRun('default', 'queue-4')).toThrow(/not found/);
  });

  it('refuses a run of a local build without an upload, and the wrong strategy', () => {
    engine.createBuild('default', { name: 'empty', source_type: 'local' });
    expect(() => engine.submitBuildRun('default', { build_name: 'empty' })).toThrow(/not uploaded/);
    expect(() => engine.createBuild('default', { name: 'df', source_type: 'local', strategy_type: 'dockerfile' })).toThrow(/source strategy/);
  });

  it('marks a build run interrupted by a restart as failed', async () => {
    const dir = path.join(work, 'restart');
    writeTree(dir, { 'run.sh': '#!/bin/sh\n' });
    engine.createBuild('default', { name: 'restart', source_type: 'local', source_build_command: 'sleep 30' });
    await engine.uploadBuildSource('default', 'restart', tarOf(dir), 64 << 20);
    const run = engine.submitBuildRun('default', { build_name: 'restart' });
    const id = engine.getBuildRun('default', run.name).id;
    await engine.close();
    // A crash leaves the row running with nobody running it.
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path.join(home, 'cejobs.db'));
    db.prepare("UPDATE build_runs SET status = 'running' WHERE id = ?").run(id);
    db.close();
    engine = await open();
    const after = engine.getBuildRun('default', run.name);
    expect(after.status).toBe('failed');
    expect(after.status_details.reason).toBe('Interrupted');
  });
});
