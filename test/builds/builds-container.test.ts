/**
 * Builds with the `dockerfile` strategy on Podman and on Docker, through the real container
 * driver: a local directory (with `.dockerignore`) and a Git repository (file://) built by the
 * engine's build API and run as jobs; rebuild immutability; a failing RUN; a missing Dockerfile.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openLocalEngine } from '../../src/server/local.js';
import type { Engine } from '../../src/engine/engine.js';
import { makeGitRepo, sourceFiles, tarOf, until, writeTree } from './fixtures.js';

const env = inject('containers');

/** Host processes running `sleep 11` (the slow build's RUN step). */
function sleepers(): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8') === 'sleep\u000011\u0000') out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

for (const kind of ['podman', 'docker'] as const) {
  const socketPath = env[kind].socketPath;
  if (!socketPath) {
    describe(`dockerfile builds: ${kind}`, () => {
      it.skip(`skipped: ${env[kind].skip ?? 'not available'}`, () => {});
    });
    continue;
  }
  describe(`dockerfile builds: ${kind}`, () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-build-${kind}-`));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-build-src-${kind}-`));
    const docker = new Docker({ socketPath });
    let engine: Engine;
    const built: string[] = [];

    beforeAll(async () => {
      engine = await openLocalEngine({
        home,
        warn: () => {},
        driver: 'container',
        container: { socketPath, engine: kind, owner: `cejobs-build-test-${path.basename(home)}`, network: 'none' },
        settings: { buildOutputGraceMs: 0 }, // unreferenced images go at once (collectBuildOutputs)
      });
    });

    afterAll(async () => {
      await engine?.close();
      for (const image of built) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(work, { recursive: true, force: true });
    });

    const build = async (name: string, spec: Record<string, unknown>, dir?: string) => {
      try {
        engine.getBuild('default', name);
      } catch {
        engine.createBuild('default', { name, ...spec });
      }
      if (dir) await engine.uploadBuildSource('default', name, tarOf(dir), 64 << 20);
      const br = await engine.waitForBuildRun('default', engine.submitBuildRun('default', { build_name: name }).name);
      if (br.output_image) built.push(br.output_image);
      return br;
    };

    const runJob = async (job: string, image: string, run: string): Promise<string[]> => {
      try {
        engine.updateJob('default', job, { image_reference: image });
      } catch {
        engine.createJob('default', { name: job, image_reference: image, scale_memory_limit: '0.5G', scale_cpu_limit: '0.25' });
      }
      engine.submitRun('default', { name: run, job_name: job });
      return outputOf(run);
    };

    const outputOf = async (run: string): Promise<string[]> => {
      const r = await engine.waitForRun('default', run);
      const logs = await engine.readLogs('default', run);
      const lines = logs.flatMap((l) => l.records.filter((x) => x.stream === 'stdout').map((x) => x.text));
      expect(r.status, lines.join('\n')).toBe('completed');
      return lines;
    };

    it('removes built images nothing refers to any more, and only those of this state home', async () => {
      const dir = path.join(work, 'gc');
      writeTree(dir, sourceFiles('gc v1'));
      const first = await build('gc-img', { source_type: 'local' }, dir);
      writeTree(dir, sourceFiles('gc v2'));
      const second = await build('gc-img', { source_type: 'local' }, dir);
      expect(second.output_image).not.toBe(first.output_image);
      engine.createJob('default', { name: 'gc-img', image_reference: second.output_image });
      // Another server's image on the same engine: never ours to remove.
      const foreign = 'localhost/cejobs-build/ffffffff-other:sha256-0';
      await docker.getImage(first.output_image!).tag({ repo: 'localhost/cejobs-build/ffffffff-other', tag: 'sha256-0' });
      built.push(foreign);
      expect(await engine.collectBuildOutputs()).toEqual([]); // both named by their build runs
      engine.deleteBuildRun('default', first.name);
      const removed = await engine.collectBuildOutputs();
      expect(removed).toEqual([first.output_image]);
      await expect(docker.getImage(first.output_image!).inspect()).rejects.toThrow();
      await docker.getImage(second.output_image!).inspect();
      await docker.getImage(foreign).inspect();

      // A deleted project's images are still this state home's: collected once it is gone.
      engine.createProject('gone');
      engine.createBuild('gone', { name: 'gone-img', source_type: 'local' });
      await engine.uploadBuildSource('gone', 'gone-img', tarOf(dir), 64 << 20);
      const gone = await engine.waitForBuildRun('gone', engine.submitBuildRun('gone', { build_name: 'gone-img' }).name);
      expect(gone.status, gone.status_details.message).toBe('succeeded');
      built.push(gone.output_image!);
      engine.deleteProject('gone');
      await engine.settle();
      expect(engine.listProjects().map((p) => p.name)).not.toContain('gone');
      expect(await engine.collectBuildOutputs()).toEqual([gone.output_image]);
      await expect(docker.getImage(gone.output_image!).inspect()).rejects.toThrow();
      await docker.getImage(foreign).inspect();
    });

    it('builds a local directory (honouring .dockerignore) into an image tagged by its digest and runs it', async () => {
      const dir = path.join(work, 'local');
      writeTree(dir, sourceFiles('from local dir'));
      writeTree(dir, { 'check.sh': '#!/bin/sh\n[ -e /app/secret.txt ] && echo LEAK\n[ -e /app/ignored ] && echo LEAK2\necho checked\n' });
      const br = await build('local-app', { source_type: 'local' }, dir);
      expect(br.status, br.status_details.message).toBe('succeeded');
      expect(br.output_image).toMatch(/^localhost\/cejobs-build\/[0-9a-f]{8}-local-app:sha256-[0-9a-f]{32}$/);
      const id = ((await docker.getImage(br.output_image!).inspect()) as { Id: string }).Id;
      expect(`sha256:${id.replace(/^sha256:/, '')}`).toBe(br.status_details.output_digest);
      expect(await runJob('local-app', br.output_image!, 'local-app-1')).toEqual(['from local dir', 'built in image']);
      engine.createJob('default', { name: 'local-check', image_reference: br.output_image!, run_commands: ['/bin/sh', '/app/check.sh'] });
      engine.submitRun('default', { name: 'local-check-1', job_name: 'local-check' });
      expect(await outputOf('local-check-1')).toEqual(['checked']);
    });

    it('builds a Git repository at a tag and in a context directory', async () => {
      const repo = path.join(work, 'repo');
      makeGitRepo(repo);
      const tag = await build('git-tag', { source_url: `file://${repo}`, source_revision: 'v1' });
      expect(tag.status, tag.status_details.message).toBe('succeeded');
      expect(await runJob('git-tag', tag.output_image!, 'git-tag-1')).toEqual(['from git v1', 'built in image']);
      const ctx = await build('git-ctx', { source_url: `file://${repo}`, source_context_dir: 'app' });
      expect(ctx.status, ctx.status_details.message).toBe('succeeded');
      expect(await runJob('git-ctx', ctx.output_image!, 'git-ctx-1')).toEqual(['from git app dir', 'built in image']);
    });

    it('never changes a run submitted before a rebuild', async () => {
      const dir = path.join(work, 'imm');
      writeTree(dir, sourceFiles('one'));
      const first = await build('imm', { source_type: 'local' }, dir);
      expect(first.status, first.status_details.message).toBe('succeeded');
      engine.createJob('default', { name: 'imm', image_reference: first.output_image!, scale_memory_limit: '0.5G', scale_cpu_limit: '0.25' });
      engine.submitRun('default', { name: 'imm-1', job_name: 'imm' });
      writeTree(dir, sourceFiles('two'));
      const second = await build('imm', { source_type: 'local' }, dir);
      expect(second.status, second.status_details.message).toBe('succeeded');
      expect(second.output_image).not.toBe(first.output_image);
      engine.updateJob('default', 'imm', { image_reference: second.output_image! });
      engine.submitRun('default', { name: 'imm-2', job_name: 'imm' });
      expect(await outputOf('imm-1')).toEqual(['one', 'built in image']);
      expect(await outputOf('imm-2')).toEqual(['two', 'built in image']);
      // The first image is still there under its own tag.
      await docker.getImage(first.output_image!).inspect();
    });

    it('fails a build whose RUN fails, with the reason and the log tail; and a missing Dockerfile', async () => {
      const dir = path.join(work, 'bad');
      writeTree(dir, { Dockerfile: `FROM ${'localhost/test-busybox:latest'}\nRUN echo "about to fail" && exit 7\n` });
      const br = await build('bad', { source_type: 'local' }, dir);
      expect(br.status).toBe('failed');
      expect(br.status_details.reason).toBe('BuildFailed');
      expect(br.status_details.message).toContain('about to fail');
      const nodf = await build('nodf', { source_type: 'local', strategy_spec_file: 'build/Dockerfile.prod' }, dir);
      expect(nodf.status_details.reason).toBe('DockerfileNotFound');
    });

    it('stops a build that exceeds its timeout', async () => {
      const dir = path.join(work, 'slow');
      writeTree(dir, { Dockerfile: `FROM localhost/test-busybox:latest\nRUN sleep 11\n` });
      const t0 = Date.now();
      const br = await build('slow', { source_type: 'local', timeout: 2 }, dir);
      expect(br.status).toBe('failed');
      expect(br.status_details.reason).toBe('BuildTimeout');
      expect(Date.now() - t0).toBeLessThan(20_000);
      if (kind === 'docker') {
        // Docker cancels the build when its request is aborted: the RUN step goes away now.
        await until('the build step to stop', () => sleepers().length === 0, 4_000);
      } else {
        // Podman 4.3 finishes the step of an abandoned build (docs/builds.md, limits); wait for
        // it so the engine stops cleanly after the tests.
        await until('the abandoned build step to end', () => sleepers().length === 0, 20_000);
      }
    });
  });
}
