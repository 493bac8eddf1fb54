/**
 * Disk full: the state home's `logs` directory is a 2 MiB tmpfs (needs root and mount; skipped
 * with the reason otherwise). An instance writing a lot keeps running while the disk is full,
 * the server keeps answering, and once space returns (a filler file is deleted) the log gets
 * the writer's system note about the dropped bytes, which `ce jobrun logs` shows.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { decodeLines } from '../../src/logs/format.js';
import { LogWriter } from '../../src/logs/writer.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { sleep, until } from './helpers.js';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-diskfull-'));
const logs = path.join(home, 'logs');
fs.mkdirSync(logs);

function tryMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', logs], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
  return undefined;
}
const skip = tryMount();
let server: RunningServer | undefined;

afterAll(async () => {
  await server?.close().catch(() => {});
  await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  if (!skip) spawnSync('umount', ['-l', logs]);
  fs.rmSync(home, { recursive: true, force: true });
});

describe('a full disk under the logs', () => {
  if (skip) {
    it.skip(`skipped: ${skip}`, () => {});
    return;
  }

  it('the log writer keeps every record whole when the disk fills mid-record, and notes what it dropped', () => {
    const file = path.join(logs, 'writer.log');
    const filler = path.join(logs, 'filler-w');
    const fd = fs.openSync(filler, 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
    } catch {
      // full, to the block
    }
    fs.closeSync(fd);
    fs.truncateSync(filler, fs.statSync(filler).size - 6000); // room for a few records, then a torn one
    const w = new LogWriter(file);
    for (let i = 0; i < 200; i++) w.write('stdout', Buffer.from(`line ${i} ${'y'.repeat(100)}\n`));
    fs.rmSync(filler);
    w.write('stdout', Buffer.from('after\n'));
    w.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    const records = decodeLines(lines);
    for (const r of records) expect(r.text, JSON.stringify(r)).toMatch(/^line \d+ y{100}$|^after$|^\[cejobs\] \d+ bytes of output were dropped: ENOSPC$/);
    const notes = records.filter((r) => r.stream === 'system');
    expect(notes).toHaveLength(1);
    expect(records[records.length - 1]!.text).toBe('after');
    // every record is either written whole or counted as dropped
    const kept = records.filter((r) => r.text.startsWith('line ')).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(200);
    fs.rmSync(file);
  });

  it('keeps instances running and the server answering; the log says what was dropped once space returns', async () => {
    server = await startServer({ home, driver: 'process', log: () => {}, process: { idleExitMs: 2000 } });
    const s = server;
    const api = async (method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(`${s.url}/v2/projects/default${p}`, {
        method,
        headers: { authorization: `Bearer ${s.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    };
    const line = 'x'.repeat(200);
    expect(
      (
        await api('POST', '/job_runs', {
          name: 'chatty',
          run_mode: 'daemon',
          run_commands: ['/bin/sh', '-c', `i=0; while true; do echo "line $i ${line}"; i=$((i+1)); [ $((i % 20)) -eq 0 ] && sleep 0.05; done`],
          scale_cpu_limit: '0.125',
          scale_memory_limit: '0.25G',
        })
      ).status,
    ).toBe(202);
    await until('the instance to run', async () => (await api('GET', '/job_runs/chatty/instances')).json.instances[0]?.state === 'running', 20_000);

    // fill what is left of the disk
    const filler = path.join(logs, 'filler');
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    try {
      for (;;) fs.writeSync(fd, chunk.subarray(0, 512));
    } catch {
      // every last block
    }
    fs.closeSync(fd);
    await sleep(1500); // writing goes on, into a full disk

    const inst = (await api('GET', '/job_runs/chatty/instances')).json.instances[0];
    expect(inst).toMatchObject({ state: 'running', restarts: 0 });
    const info = await fetch(`${s.url}/v2/server`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(info.status).toBe(200);
    expect((await api('GET', '/job_runs/chatty')).status).toBe(200);

    fs.rmSync(filler); // space returns
    await until(
      'the note about dropped bytes',
      async () => {
        const r = await api('GET', '/job_runs/chatty/logs'); // the whole log: at most the 2 MiB of the disk
        return r.json.logs[0].records.some((x: { stream: string; text: string }) => x.stream === 'system' && /bytes of output were dropped: ENOSPC/.test(x.text));
      },
      20_000,
    );
    expect((await api('GET', '/job_runs/chatty/instances')).json.instances[0]).toMatchObject({ state: 'running', restarts: 0 });

    let out = '';
    const code = await runCli(['jobrun', 'logs', '--jobrun', 'chatty'], {
      stdout: { write: (x: string) => (out += x) },
      stderr: { write: (x: string) => (out += x) },
      env: { CEJOBS_HOME: home, CEJOBS_NO_AUTOSTART: '1', PATH: process.env.PATH },
      isTTY: false,
    });
    expect(code).toBe(0);
    expect(out).toMatch(/\[cejobs\] \d+ bytes of output were dropped: ENOSPC/);

    expect((await api('DELETE', '/job_runs/chatty')).status).toBe(202);
    await until('the run to be gone', async () => (await api('GET', '/job_runs/chatty')).status === 404, 20_000);
  }, 60_000);
});
