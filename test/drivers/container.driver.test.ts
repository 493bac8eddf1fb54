/**
 * Container-driver behaviour beyond the conformance suite, on Podman and on Docker: private
 * registry pulls, pull failures, §1.9 command/args, env and hostname, OOM kills, storage
 * kills, logs after removal, and recovery after a driver restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AttemptExit, Driver, InstanceSpec } from '../../src/drivers/driver.js';
import { createContainerDriver } from '../../src/drivers/container/driver.js';
import { normalizeImage } from '../../src/drivers/container/create.js';
import { makeTestSpec, readLog, waitFor } from '../conformance/driver-conformance.js';

const env = inject('containers');
const EP_IMAGE = 'localhost/test-entrypoint:1';

describe('normalizeImage', () => {
  it('completes references like Code Engine', () => {
    expect(normalizeImage('busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizeImage('ibmcom/hello')).toBe('docker.io/ibmcom/hello:latest');
    expect(normalizeImage('icr.io/codeengine/helloworld')).toBe('icr.io/codeengine/helloworld:latest');
    expect(normalizeImage('127.0.0.1:5055/test/busybox:1')).toBe('127.0.0.1:5055/test/busybox:1');
    expect(normalizeImage('localhost/x')).toBe('localhost/x:latest');
    const digest = 'sha256:' + 'a'.repeat(64);
    expect(normalizeImage(`icr.io/ns/app@${digest}`)).toBe(`icr.io/ns/app@${digest}`);
    expect(normalizeImage(`app:1@${digest}`)).toBe(`docker.io/library/app:1@${digest}`);
  });
});

for (const engine of ['podman', 'docker'] as const) {
  const socketPath = env[engine].socketPath;
  if (!socketPath) {
    describe(`container driver: ${engine}`, () => {
      it.skip(`skipped: ${env[engine].skip ?? 'not available'}`, () => {});
    });
    continue;
  }
  describe(`container driver: ${engine}`, () => {
    const docker = new Docker({ socketPath });
    let dir: string;
    let driver: Driver;
    const exits: AttemptExit[] = [];
    let unsubscribe = () => {};
    const make = () => createContainerDriver({ socketPath, engine, owner: `${dir}-own`, network: 'none', pullTimeoutMs: 30_000 });
    const listen = () => {
      unsubscribe = driver.subscribe((e) => exits.push(e));
    };
    const exitOf = (id: string) => waitFor(`the exit of ${id}`, () => exits.find((e) => e.attemptId === id), 30_000);
    const out = (s: InstanceSpec) => readLog(s.logPath).filter((r) => r.stream === 'stdout').map((r) => r.text);
    const spec = (label: string, command: string[], extra: Partial<InstanceSpec> = {}) =>
      makeTestSpec(dir, label, command, { image: env.image, ...extra });
    const run = async (s: InstanceSpec) => {
      await driver.start(s);
      return exitOf(s.attemptId);
    };

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-ct-${engine}-`));
      driver = await make();
      listen();
      // An image with an ENTRYPOINT and a CMD, for the §1.9 table.
      const ctx = path.join(dir, 'ctx');
      fs.mkdirSync(ctx);
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${env.image}\nENTRYPOINT ["/bin/echo", "ep"]\nCMD ["default-cmd"]\n`);
      const stream = await docker.buildImage({ context: ctx, src: ['Dockerfile'] }, { t: EP_IMAGE });
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(stream, (e: unknown, res: { error?: string }[]) => {
          const bad = res?.find((r) => r.error);
          if (e || bad) reject(e ?? new Error(bad!.error));
          else resolve();
        }),
      );
    });

    afterAll(async () => {
      unsubscribe();
      await driver?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reports its capabilities', () => {
      expect(driver.name).toBe('container');
      expect(driver.capabilities.runsImages).toBe(true);
      expect(driver.capabilities.requiresCommand).toBe(false);
      expect(driver.capabilities.mounts.enforced).toBe(true);
      expect(driver.capabilities.limits.memory.how).toContain(engine);
      expect(driver.capabilities.limits.cpu).toEqual({ enforced: true, how: engine });
    });

    it('command and args follow §1.9 (ENTRYPOINT and CMD)', async () => {
      const cases: [string[], string[], string][] = [
        [[], [], 'ep default-cmd'],
        [['/bin/echo', 'cmd'], [], 'cmd'],
        [[], ['arg'], 'ep arg'],
        [['/bin/echo', 'cmd'], ['arg'], 'cmd arg'],
      ];
      for (const [command, args, expected] of cases) {
        const s = spec('cmdargs', command, { args, image: EP_IMAGE });
        const exit = await run(s);
        expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
        expect(out(s)).toEqual([expected]);
      }
    });

    it('no command runs the image CMD (here /bin/sh, which reads nothing and exits 0)', async () => {
      const exit = await run(spec('imagecmd', []));
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
    });

    it('env is spec.env (plus the image PATH), hostname is the instance name', async () => {
      const s = spec('envhost', ['/bin/sh', '-c', 'echo "X=$X"; echo "H=$(hostname)"; echo "P=${PATH:+set}"'], {
        env: { X: 'a b=c' },
        instanceName: 'myrun-3-1',
      });
      await run(s);
      expect(out(s)).toEqual(['X=a b=c', 'H=myrun-3-1', 'P=set']);
    });

    it('runs as run_as_user', async () => {
      const s = spec('user', ['/bin/sh', '-c', 'id -u'], { runAsUser: 65534 });
      await run(s);
      expect(out(s)).toEqual(['65534']);
    });

    it('pulls from a private registry with the registry secret', async (ctx) => {
      if ('skip' in env.registry) return ctx.skip(env.registry.skip);
      const reg = env.registry;
      // Make sure the engine has to pull.
      await docker.getImage(reg.image).remove().catch(() => {});
      const s = spec('pull', ['/bin/sh', '-c', 'echo pulled'], {
        image: reg.image,
        imagePullCredentials: { server: reg.host, username: reg.username, password: reg.password },
      });
      const exit = await run(s);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      expect(out(s)).toEqual(['pulled']);
    });

    it('bad credentials: ImagePullFailed with the registry message', async (ctx) => {
      if ('skip' in env.registry) return ctx.skip(env.registry.skip);
      const reg = env.registry;
      await docker.getImage(reg.image).remove().catch(() => {});
      const s = spec('badcreds', ['/bin/true'], {
        image: reg.image,
        imagePullCredentials: { server: reg.host, username: reg.username, password: 'wrong-password' },
      });
      const exit = await run(s);
      expect(exit.outcome).toMatchObject({ kind: 'start-failed', reason: 'ImagePullFailed' });
      if (exit.outcome.kind !== 'start-failed') return;
      expect(exit.outcome.message).toMatch(/unauthorized|authentication required/i);
      expect(exit.outcome.message).not.toContain('wrong-password');
      expect(exit.startedAt).toBeUndefined();
    });

    it('missing image: ImagePullFailed', async (ctx) => {
      if ('skip' in env.registry) return ctx.skip(env.registry.skip);
      const reg = env.registry;
      const s = spec('noimage', ['/bin/true'], {
        image: `${reg.host}/test/does-not-exist:1`,
        imagePullCredentials: { server: reg.host, username: reg.username, password: reg.password },
      });
      const exit = await run(s);
      expect(exit.outcome).toMatchObject({ kind: 'start-failed', reason: 'ImagePullFailed' });
      if (exit.outcome.kind === 'start-failed') expect(exit.outcome.message).toMatch(/manifest unknown|not found/i);
    });

    it('a memory hog over its limit is OOMKilled', async () => {
      const s = spec('oom', ['/bin/sh', '-c', 'echo start; x=$(head -c 200000000 /dev/zero | tr "\\0" x); echo survived'], {
        limits: { cpuMillis: 1000, memoryBytes: 50 * 1024 * 1024, ephemeralStorageBytes: 1024 * 1024 * 1024 },
      });
      const exit = await run(s);
      expect(exit.outcome.kind).toBe('oom-killed');
      expect(out(s)).toEqual(['start']);
    });

    it('writing over the ephemeral storage limit is storage-exceeded', async () => {
      const s = spec('storage', ['/bin/sh', '-c', 'head -c 30000000 /dev/zero > /tmp/big; echo written; sleep 30'], {
        limits: { cpuMillis: 1000, memoryBytes: 1024 * 1024 * 1024, ephemeralStorageBytes: 10 * 1000 * 1000 },
      });
      const exit = await run(s);
      expect(exit.outcome.kind).toBe('storage-exceeded');
    });

    it('logs are complete at the exit and stay after the container is removed', async () => {
      const s = spec('logs', ['/bin/sh', '-c', 'i=0; while [ $i -lt 500 ]; do echo line $i; echo err $i >&2; i=$((i+1)); done']);
      await run(s);
      const expected = Array.from({ length: 500 }, (_, i) => `line ${i}`);
      expect(out(s)).toEqual(expected);
      const before = fs.readFileSync(s.logPath, 'utf8');
      await driver.release({ attemptId: s.attemptId });
      await expect(docker.getContainer(`cejobs-${s.attemptId.replace(/\./g, '_')}`).inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect(fs.readFileSync(s.logPath, 'utf8')).toBe(before);
    });

    it('recovery: running re-adopted, exited-while-down reported, nothing started twice', async () => {
      const running = spec('keep', ['/bin/sh', '-c', 'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done']);
      const ending = spec('ends', ['/bin/sh', '-c', 'echo started; sleep 1; echo bye; exit 7']);
      const h1 = await driver.start(running);
      const h2 = await driver.start(ending);
      await waitFor('both started', () => out(running).includes('started') && out(ending).includes('started'), 20_000);
      unsubscribe();
      await driver.close();
      // While no driver runs, `ending` exits.
      await new Promise((r) => setTimeout(r, 2500));
      driver = await make();
      const later: AttemptExit[] = [];
      unsubscribe = driver.subscribe((e) => {
        exits.push(e);
        later.push(e);
      });
      expect(await driver.recover({ attemptId: running.attemptId, handle: h1 })).toEqual({ state: 'running' });
      const r = await driver.recover({ attemptId: ending.attemptId, handle: h2 });
      expect(r.state).toBe('exited');
      if (r.state === 'exited') expect(r.exit.outcome).toEqual({ kind: 'exited', exitCode: 7, signal: null });
      await waitFor('the exit held while down', () => later.find((e) => e.attemptId === ending.attemptId), 20_000);
      // Starting them again returns the existing attempts.
      expect(await driver.start(running)).toEqual(h1);
      expect(await driver.start(ending)).toEqual(h2);
      const list = await docker.listContainers({ all: true, filters: { label: [`cejobs.attempt=${running.attemptId}`] } });
      expect(list).toHaveLength(1);
      await driver.stop({ attemptId: running.attemptId }, { graceMs: 10_000 });
      const exit = await waitFor('the exit of the adopted one', () => later.find((e) => e.attemptId === running.attemptId), 20_000);
      expect(exit.outcome).toEqual({ kind: 'exited', exitCode: 0, signal: null });
      // Each output line exactly once, across both drivers.
      expect(out(running).filter((t) => t === 'started')).toHaveLength(1);
      expect(out(ending)).toEqual(['started', 'bye']);
    });
  });
}
