import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../samples/helloworld/helloworld.mjs', import.meta.url));

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the sample with only the given variables (plus PATH) from an unrelated cwd. With
 * `onOutput`, the callback sees stdout as it grows and may signal the child.
 */
function run(vars: Record<string, string>, onOutput?: (stdout: string, child: ReturnType<typeof spawn>) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '', ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      onOutput?.(stdout, child);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const job = (index: number, extra: Record<string, string> = {}): Record<string, string> => ({
  JOB_INDEX: String(index),
  JOB_ARRAY_SIZE: '10',
  JOB_MODE: 'task',
  JOB_INDEX_RETRY_COUNT: '0',
  ...extra,
});

describe('helloworld sample', () => {
  it('task mode prints the hello line, banner and sorted env, then exits 0', async () => {
    const r = await run(job(3, { TARGET: 'Tester' }));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe("Hello from helloworld! I'm a task job! Index: 3 of 10");
    expect(lines[1]).toBe('');
    expect(lines[2]).toBe('Hello Tester from:');
    const envStart = lines.indexOf('--------------') + 1;
    expect(lines[envStart - 2]).toBe('Some Env Vars:');
    expect(envStart - 2 - 3).toBe(8 + 1); // 8 banner lines and a blank line
    const envLines = lines.slice(envStart).filter((l) => l !== '');
    expect(envLines).toEqual([...envLines].sort());
    expect(envLines).toContain('JOB_INDEX=3');
    expect(envLines).toContain("z=Set env var 'SHOW' to see all variables");
    expect(r.stdout).not.toContain('Crashing...');
  });

  it('uses MSG and hides KUBERNETES_* only when SHOW is set', async () => {
    const hidden = await run(job(0, { MSG: 'Greetings', SHOW: '1', KUBERNETES_PORT: 'tcp://x' }));
    expect(hidden.stdout).toContain('\nGreetings:\n');
    expect(hidden.stdout).not.toContain('KUBERNETES_PORT');
    expect(hidden.stdout).not.toContain("z=Set env var 'SHOW'");
    const shown = await run(job(0, { KUBERNETES_PORT: 'tcp://x' }));
    expect(shown.stdout).toContain('KUBERNETES_PORT=tcp://x');
  });

  it('CRASH and FAIL crash with exit 1', async () => {
    for (const knob of ['CRASH', 'FAIL']) {
      const r = await run(job(1, { [knob]: 'yes' }));
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("I'm a task job! Index: 1 of 10");
      expect(r.stdout.trimEnd().endsWith('Crashing...')).toBe(true);
    }
  });

  it('FAIL_INDICES fails only the listed indices', async () => {
    const codes = await Promise.all([2, 3, 7, 8].map(async (i) => (await run(job(i, { FAIL_INDICES: '3, 7' }))).code));
    expect(codes).toEqual([0, 1, 1, 0]);
  });

  it('FAIL_UNTIL_RETRY fails until the retry count reaches n', async () => {
    const codes = await Promise.all(
      [0, 1, 2, 3].map(async (retry) => (await run(job(0, { FAIL_UNTIL_RETRY: '2', JOB_INDEX_RETRY_COUNT: String(retry) }))).code),
    );
    expect(codes).toEqual([1, 1, 0, 0]);
  });

  it('SUCCESS_RATE=0 always fails and SUCCESS_RATE=1 always succeeds', async () => {
    const zero = await Promise.all([0, 1, 2].map((i) => run(job(i, { SUCCESS_RATE: '0' }))));
    expect(zero.map((r) => r.code)).toEqual([1, 1, 1]);
    expect(zero.every((r) => r.stdout.includes('Crashing...'))).toBe(true);
    const one = await Promise.all([0, 1, 2].map((i) => run(job(i, { SUCCESS_RATE: '1' }))));
    expect(one.map((r) => r.code)).toEqual([0, 0, 0]);
  });

  it('daemon mode repeats until SIGTERM, then exits 0', async () => {
    let signalled = false;
    const r = await run(job(4, { JOB_MODE: 'daemon', SLEEP: '0.05' }), (out, child) => {
      if (!signalled && out.split("I'm a daemon job! Index: 4 of 10").length - 1 >= 3) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    expect(signalled).toBe(true);
    expect(r.code).toBe(0);
    expect(r.signal).toBeNull();
    expect(r.stdout.split("I'm a daemon job! Index: 4 of 10").length - 1).toBeGreaterThanOrEqual(3);
  });

  it('daemon mode stops on SIGTERM in the middle of its default 60 s sleep', { timeout: 20_000 }, async () => {
    // Nothing is printed before the first sleep ends, so a preload reports when the SIGTERM
    // handler is in place.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-hello-'));
    const preload = path.join(dir, 'ready.cjs');
    fs.writeFileSync(
      preload,
      "const t = setInterval(() => { if (process.listenerCount('SIGTERM') > 0) { clearInterval(t); process.stderr.write('READY\\n'); } }, 5); t.unref();\n",
    );
    try {
      const child = spawn(process.execPath, ['--require', preload, script], {
        cwd: os.tmpdir(),
        env: { PATH: process.env.PATH ?? '', ...job(0, { JOB_MODE: 'daemon' }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (d.includes('READY')) child.kill('SIGTERM');
      });
      const closed = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal })),
      );
      expect(closed).toEqual({ code: 0, signal: null });
      expect(stdout).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without JOB_INDEX prints a usage note and exits 0', async () => {
    const r = await run({});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/meant to run as a cejobs job instance/);
    expect(r.stdout).not.toContain('Hello from helloworld');
  });
});
