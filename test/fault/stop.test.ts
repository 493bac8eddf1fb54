/**
 * Stop completeness, process driver: deleting a run stops everything its instances started —
 * children, a workload that ignores SIGTERM, one that closed its stdout, a grandchild that left
 * the session with setsid — within the grace period and a margin, leaving no process behind
 * (found by the run's environment in /proc). In both of the launcher's modes: cgroups where the
 * host lets it create them (`auto`), and without cgroups (`rss-watch`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { processesWithEnv, until } from './helpers.js';

const GRACE_MS = 1500;
const MARGIN_MS = 3000;
const homes: string[] = [];

const SCRIPT = [
  'case "$JOB_INDEX" in',
  '0) sleep 300 & sleep 300 & wait ;;', // forks children
  '1) trap "" TERM; sleep 300 & sleep 300 & wait ;;', // ignores SIGTERM (and its children too)
  '2) exec >&- 2>&-; sleep 300 ;;', // closes stdout and stderr early
  '3) setsid sleep 300 & sleep 300 ;;', // a grandchild in its own session
  '4) (setsid sh -c "trap \\"\\" TERM; sleep 300" &); sleep 300 ;;', // a detached, TERM-proof grandchild
  'esac',
].join('\n');

afterAll(async () => {
  for (const home of homes) {
    await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
    fs.rmSync(home, { recursive: true, force: true });
  }
});

for (const limitMode of ['auto', 'rss-watch'] as const) {
  describe(`deleting a run stops everything it started (launcher mode ${limitMode})`, () => {
    it('leaves no process behind, within the grace period and a margin', async () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), `cejobs-stop-${limitMode}-`));
      homes.push(home);
      const server: RunningServer = await startServer({
        home,
        driver: 'process',
        log: () => {},
        settings: { stopGraceMs: GRACE_MS },
        process: { limitMode, idleExitMs: 2000 },
      });
      try {
        const api = async (method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> => {
          const res = await fetch(`${server.url}/v2/projects/default${p}`, {
            method,
            headers: { authorization: `Bearer ${server.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body ? JSON.stringify(body) : undefined,
          });
          const text = await res.text();
          return { status: res.status, json: text ? JSON.parse(text) : undefined };
        };
        const projectId = (await api('GET', '')).json.id as string;
        expect(
          (
            await api('POST', '/job_runs', {
              name: 'stubborn',
              run_commands: ['/bin/sh', '-c', SCRIPT],
              scale_array_spec: '0-4',
              scale_cpu_limit: '0.125',
              scale_memory_limit: '0.25G',
            })
          ).status,
        ).toBe(202);
        const vars = { CE_JOBRUN: 'stubborn', CE_PROJECT_ID: projectId };
        // every index has its extra processes up (the sh, the sleeps, the grandchildren)
        await until(
          'the processes of every index',
          () => {
            const procs = processesWithEnv(vars);
            const per = (i: number): number => procs.filter((p) => p.env.JOB_INDEX === String(i)).length;
            return per(0) >= 3 && per(1) >= 3 && per(2) >= 2 && per(3) >= 3 && per(4) >= 3;
          },
          20_000,
        );
        const before = processesWithEnv(vars);
        const escaped = before.filter((p) => {
          const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
          const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return f[3] === String(p.pid); // a session leader of its own: setsid
        });
        expect(escaped.length, 'the setsid grandchildren').toBeGreaterThanOrEqual(2);

        const t0 = Date.now();
        expect((await api('DELETE', '/job_runs/stubborn')).status).toBe(202);
        await until(
          'no process of the run left',
          () => processesWithEnv(vars).length === 0,
          GRACE_MS + MARGIN_MS + 10_000,
          50,
        ).catch(() => {
          throw new Error(
            `processes left ${Date.now() - t0} ms after the delete: ${processesWithEnv(vars)
              .map((p) => `${p.pid} (index ${p.env.JOB_INDEX}): ${fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`)
              .join('; ')}`,
          );
        });
        const took = Date.now() - t0;
        expect(took, `took ${took} ms`).toBeLessThanOrEqual(GRACE_MS + MARGIN_MS);
        await until('the run to be gone', async () => (await api('GET', '/job_runs/stubborn')).status === 404, 10_000);
      } finally {
        await server.close();
      }
    }, 60_000);
  });
}
