/**
 * The CLI as a user runs it (a separate process, no server running): the first command starts a
 * background server by itself; `ce server status|token|stop` manage it; stopping it leaves no
 * server process behind.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-autostart-'));
const main = path.resolve(__dirname, '../../src/cli/main.ts');

function ce(...args: string[]): { code: number; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CEJOBS_HOME: home, NO_COLOR: '1' };
  delete env.CEJOBS_API;
  delete env.CEJOBS_TOKEN;
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { env, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(() => {
  ce('server', 'stop');
  fs.rmSync(home, { recursive: true, force: true });
});

describe('ce with no server running', () => {
  it('starts a local server in the background on the first command and uses it', () => {
    expect(ce('server', 'status').code).toBe(1);
    const list = ce('job', 'list');
    expect(list.stderr + list.stdout).toContain('No jobs were found.');
    expect(list.code).toBe(0);
    const record = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8'));
    expect(alive(record.pid)).toBe(true);

    const status = ce('server', 'status', '-o', 'json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'running', url: record.url, pid: record.pid, driver: 'process', state_home: home });

    const token = ce('server', 'token').stdout.trim();
    expect(token).toBe(fs.readFileSync(path.join(home, 'token'), 'utf8').trim());

    // a second command reuses the same server
    expect(ce('job', 'list').code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')).pid).toBe(record.pid);

    const stop = ce('server', 'stop');
    expect(stop.code).toBe(0);
    expect(stop.stdout + stop.stderr).toContain(`Stopped the cejobs server (pid ${record.pid})`);
    expect(alive(record.pid)).toBe(false);
    expect(fs.existsSync(path.join(home, 'server.json'))).toBe(false);
  });

  it('answers a usage error with exit code 2, the flag and a hint, without starting a server', () => {
    const r = ce('jobrun', 'submit', '--job', 'x', '--array-size', '2', '--array-indices', '0-1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--array-(size|indices)/);
    expect(r.stderr).toContain("'ce jobrun submit --help'");
    expect(fs.existsSync(path.join(home, 'server.json'))).toBe(false);
  });
});
