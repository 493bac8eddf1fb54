/**
 * `ce job create --build-source` on the container driver, Podman and Docker, against a real
 * server: a local directory is uploaded and built with its Dockerfile, a file:// Git repository
 * is cloned and built, each then run as a job; `--rebuild` after an edit changes later runs only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { ceInHome } from '../cli/local-ce.js';
import { makeGitRepo, sourceFiles, writeTree } from './fixtures.js';

const env = inject('containers');

for (const kind of ['podman', 'docker'] as const) {
  const socketPath = env[kind].socketPath;
  if (!socketPath) {
    describe(`ce job create --build-source on ${kind}`, () => {
      it.skip(`skipped: ${env[kind].skip ?? 'not available'}`, () => {});
    });
    continue;
  }
  describe(`ce job create --build-source on ${kind}`, () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-e2e-bld-${kind}-`));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-e2e-bld-src-${kind}-`));
    let server: RunningServer | undefined;
    const images: string[] = [];

    const ce = (...argv: string[]) => ceInHome(home, argv, { pollMs: 200 });

    async function runOutput(job: string, run: string): Promise<string> {
      const r = await ce('jobrun', 'submit', '--job', job, '--name', run, '--wait', '--wait-timeout', '120');
      expect(r.code, r.out).toBe(0);
      return (await ce('jobrun', 'logs', '--jobrun', run, '--raw')).out;
    }

    afterAll(async () => {
      await server?.close();
      const docker = new Docker({ socketPath });
      for (const i of images) await docker.getImage(i).remove({ force: true }).catch(() => undefined);
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(work, { recursive: true, force: true });
    });

    it('builds a local directory with its Dockerfile, runs it, and rebuilds it', async () => {
      server = await startServer({ home, driver: 'container', container: { socketPath: socketPath!, engine: kind }, log: () => {} });
      const dir = path.join(work, 'app');
      writeTree(dir, sourceFiles('from local dir'));
      const r = await ce('job', 'create', '--name', 'app', '--build-source', dir, '--cpu', '0.25', '--memory', '0.5G');
      expect(r.code, r.out).toBe(0);
      const job = JSON.parse((await ce('job', 'get', '--name', 'app', '-o', 'json')).out);
      images.push(job.image_reference);
      expect(job.image_reference).toMatch(/^localhost\/cejobs-build\/.+-app:sha256-[0-9a-f]{32}$/);
      expect(await runOutput('app', 'app-1')).toContain('from local dir');
      writeTree(dir, sourceFiles('edited'));
      const up = await ce('job', 'update', '--name', 'app', '--build-source', dir);
      expect(up.code, up.out).toBe(0);
      const after = JSON.parse((await ce('job', 'get', '--name', 'app', '-o', 'json')).out);
      images.push(after.image_reference);
      expect(after.image_reference).not.toBe(job.image_reference);
      expect(await runOutput('app', 'app-2')).toContain('edited');
    }, 180_000);

    it('builds a file:// Git repository at a tag and fails a bad Dockerfile with its log tail', async () => {
      const repo = path.join(work, 'repo');
      makeGitRepo(repo);
      const r = await ce('job', 'create', '--name', 'fromgit', '--build-source', `file://${repo}`, '--build-commit', 'v1', '--cpu', '0.25', '--memory', '0.5G');
      expect(r.code, r.out).toBe(0);
      images.push(JSON.parse((await ce('job', 'get', '--name', 'fromgit', '-o', 'json')).out).image_reference);
      expect(await runOutput('fromgit', 'fromgit-1')).toContain('from git v1');
      const bad = path.join(work, 'bad');
      writeTree(bad, { Dockerfile: 'FROM localhost/test-busybox:latest\nRUN echo "step output before failing" && false\n' });
      const f = await ce('job', 'create', '--name', 'bad', '--build-source', bad);
      expect(f.code).toBe(1);
      expect(f.out).toContain('BuildFailed');
      expect(f.out).toContain('step output before failing');
      expect((await ce('job', 'get', '--name', 'bad')).code).toBe(1);
    }, 180_000);
  });
}
