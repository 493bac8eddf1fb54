/**
 * The container driver end to end through `ce`, on Podman and on Docker (both started by
 * test/setup/containers.ts when installed; skipped with the reason otherwise):
 * - an image from a private registry with a registry secret, a 5-index array run with --wait:
 *   five containers with the right env, logs and statuses;
 * - the daemon walkthrough of the seed page with a container image;
 * - a server killed with SIGKILL mid-run and started again re-adopts its container.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ceInHome } from './local-ce.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';

const env = inject('containers');
const registry = 'skip' in env.registry ? undefined : env.registry;
const homes: string[] = [];
const main = path.resolve(__dirname, '../../src/cli/main.ts');

const ce = (home: string, ...argv: string[]) => ceInHome(home, argv);

afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

for (const engine of ['podman', 'docker'] as const) {
  const socketPath = env[engine].socketPath;
  const why = !socketPath ? env[engine].skip : !registry ? ('skip' in env.registry ? env.registry.skip : '') : undefined;
  if (why !== undefined) {
    describe(`ce with the container driver on ${engine}`, () => {
      it.skip(`skipped: ${why}`, () => {});
    });
    continue;
  }

  describe(`ce with the container driver on ${engine}`, () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-e2e-${engine}-`));
    homes.push(home);
    let server: RunningServer;

    it('runs a 5-index array job from a private registry image with a registry secret', async () => {
      server = await startServer({ home, driver: 'container', container: { socketPath: socketPath! }, log: () => {} });
      expect((await ce(home, 'server', 'status', '-o', 'json')).out).toContain('"driver": "container"');
      const sec = await ce(home, 'secret', 'create', '--name', 'reg', '--format', 'registry', '--server', registry!.host, '--username', registry!.username, '--password', registry!.password);
      expect(sec.code).toBe(0);
      const job = await ce(
        home, 'job', 'create', '--name', 'hello', '--image', registry!.image, '--registry-secret', 'reg',
        '--cmd', '/bin/sh', '--arg', '-c', '--arg', 'echo "index $JOB_INDEX of $JOB_ARRAY_SIZE on $HOSTNAME ($CE_JOB)"',
        '--cpu', '0.125', '--memory', '0.25G',
      );
      expect(job.out).toContain('OK');
      const run = await ce(home, 'jobrun', 'submit', '--job', 'hello', '--name', 'hello-1', '--array-indices', '0-4', '--wait', '--wait-timeout', '120');
      expect(run.out).toContain("Job run 'hello-1' completed");
      expect(run.code).toBe(0);
      const logs = await ce(home, 'jobrun', 'logs', '--jobrun', 'hello-1');
      for (let i = 0; i < 5; i++) {
        expect(logs.out).toContain(`hello-1-${i}-0/hello:`);
        expect(logs.out).toContain(`index ${i} of 5 on hello-1-${i}-0 (hello)`);
      }
      const get = await ce(home, 'jobrun', 'get', '--name', 'hello-1', '-o', 'json');
      const doc = JSON.parse(get.out) as { status: string; status_details: { succeeded: number; succeeded_indices: string } };
      expect(doc.status).toBe('completed');
      expect(doc.status_details).toMatchObject({ succeeded: 5, succeeded_indices: '0-4' });
    }, 180_000);

    it('follows the daemon walkthrough of the seed page with a container image', async () => {
      const job = await ce(
        home, 'job', 'create', '--name', 'myjob-daemon', '--image', registry!.image, '--registry-secret', 'reg', '--mode', 'daemon',
        '--cmd', '/bin/sh', '--arg', '-c', '--arg', 'while true; do echo "Hello from a daemon, index $JOB_INDEX"; sleep 1; done',
        '--cpu', '0.125', '--memory', '0.25G',
      );
      expect(job.code).toBe(0);
      expect((await ce(home, 'job', 'get', '--name', 'myjob-daemon')).out).toMatch(/Mode:\s+daemon/);
      expect((await ce(home, 'jobrun', 'submit', '--name', 'myjobrun-daemon', '--job', 'myjob-daemon')).code).toBe(0);
      let get = '';
      for (let i = 0; i < 300 && !/myjobrun-daemon-0-0\s+1\/1\s+Running/.test(get); i++) {
        await new Promise((r) => setTimeout(r, 100));
        get = (await ce(home, 'jobrun', 'get', '--name', 'myjobrun-daemon')).out;
      }
      expect(get).toMatch(/myjobrun-daemon-0-0\s+1\/1\s+Running\s+0/);
      let logs = '';
      for (let i = 0; i < 100 && !logs.includes('Hello from a daemon, index 0'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        logs = (await ce(home, 'jobrun', 'logs', '--name', 'myjobrun-daemon')).out;
      }
      expect(logs).toContain('myjobrun-daemon-0-0/myjob-daemon:');
      expect(logs).toContain('Hello from a daemon, index 0');
      expect((await ce(home, 'jobrun', 'delete', '--name', 'myjobrun-daemon', '-f')).code).toBe(0);
      expect((await ce(home, 'job', 'delete', '--name', 'myjob-daemon', '-f')).code).toBe(0);
      await server.close();
    }, 180_000);

    it('re-adopts a running container after the server is killed with SIGKILL and started again', async () => {
      const killHome = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-kill-${engine}-`));
      homes.push(killHome);
      const childEnv = { ...process.env, CEJOBS_HOME: killHome, CEJOBS_DRIVER: 'container', CEJOBS_CONTAINER_SOCKET: socketPath!, NO_COLOR: '1' };
      const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { env: childEnv, encoding: 'utf8', timeout: 120_000 });
      try {
        expect(cli('server', 'start').status).toBe(0);
        expect(
          cli('jobrun', 'submit', '--name', 'steady', '--image', env.image, '--mode', 'daemon', '--cmd', '/bin/sh', '--arg', '-c',
            '--arg', 'while true; do sleep 1; done', '--cpu', '0.125', '--memory', '0.25G').status,
        ).toBe(0);
        const instances = () => JSON.parse(cli('jobrun', 'get', '--name', 'steady', '-o', 'json').stdout) as { status: string };
        const state = () => JSON.parse(spawnSync(process.execPath, ['--import', 'tsx', main, 'jobrun', 'get', '--name', 'steady', '-o', 'jsonpath={.status_details.running}'], { env: childEnv, encoding: 'utf8' }).stdout || '0');
        for (let i = 0; i < 300 && state() !== 1; i++) await new Promise((r) => setTimeout(r, 200));
        expect(instances().status).toBe('running');
        const record = JSON.parse(fs.readFileSync(path.join(killHome, 'server.json'), 'utf8')) as { pid: number };
        process.kill(record.pid, 'SIGKILL');
        for (let i = 0; i < 100; i++) {
          try {
            process.kill(record.pid, 0);
            await new Promise((r) => setTimeout(r, 50));
          } catch {
            break;
          }
        }
        const restarted = cli('server', 'start');
        if (restarted.status !== 0) {
          const rec = fs.existsSync(path.join(killHome, 'server.json')) ? fs.readFileSync(path.join(killHome, 'server.json'), 'utf8') : 'none';
          let probe = '';
          try {
            const r = JSON.parse(rec) as { url: string; pid: number };
            let alive = true;
            try { process.kill(r.pid, 0); } catch { alive = false; }
            const t0 = Date.now();
            const res = await fetch(`${r.url}/v2/server`, { headers: { authorization: `Bearer ${fs.readFileSync(path.join(killHome, 'token'), 'utf8').trim()}` }, signal: AbortSignal.timeout(5000) }).then((x) => `${x.status}`, (e: Error) => `error ${e.message}`);
            probe = `alive=${alive} probe=${res} in ${Date.now() - t0}ms; ps: ${spawnSync('ps', ['-o', 'pid,stat,etime,cmd', '-p', String(r.pid)], { encoding: 'utf8' }).stdout}`;
          } catch (e) {
            probe = String(e);
          }
          throw new Error(`restart failed: ${restarted.stdout}${restarted.stderr}\nserver.json: ${rec}\n${probe}`);
        }
        const get = cli('jobrun', 'get', '--name', 'steady');
        expect(get.stdout).toMatch(/steady-0-0\s+1\/1\s+Running\s+0/);
        const events = cli('jobrun', 'events', '--jobrun', 'steady').stdout;
        expect(events).not.toContain('InstanceLost');
        const inst = JSON.parse(cli('jobrun', 'get', '--name', 'steady', '-o', 'jsonpath-as-json={.status_details.indices_details}').stdout);
        expect(JSON.stringify(inst)).toContain('"restarts":0');
        expect(cli('jobrun', 'delete', '--name', 'steady', '-f').status).toBe(0);
      } finally {
        cli('server', 'stop');
      }
    }, 240_000);
  });
}
