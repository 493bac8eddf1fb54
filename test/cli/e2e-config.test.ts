/**
 * End to end: config maps and secrets with `ce` (in-process) against a real server
 * (src/server/serve.ts, process driver): create a config map and a secret, a job taking env
 * from both (full reference, key reference) plus a literal, submit with --wait, and check the
 * instance's log. Also the secret's redaction and --decode, the existence check, and config
 * maps and secrets mounted as read-only files into a real process instance.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startServer } from '../../src/server/serve.js';

let home: string;
let server: Awaited<ReturnType<typeof startServer>>;
const PW = 's3cret-E2E-value';

async function ce(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CEJOBS_HOME: home, CEJOBS_NO_AUTOSTART: '1', PATH: process.env.PATH },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-e2e-config-'));
  server = await startServer({ home, driver: 'process', log: () => undefined });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('config maps and secrets end to end', () => {
  it('creates a config map and a secret', async () => {
    const cm = await ce('configmap', 'create', '--name', 'app-config', '--from-literal', 'COLOR=blue', '--from-literal', 'SIZE=large');
    expect(cm.stderr).toBe('');
    expect(cm.stdout).toBe("Creating configmap 'app-config'...\nOK\n");
    const sec = await ce('secret', 'create', '--name', 'db', '--from-literal', `PASSWORD=${PW}`, '--from-literal', 'USER=admin');
    expect(sec.stderr).toBe('');
    expect(sec.stdout).toBe("Creating secret 'db'...\nOK\n");
  });

  it('shows the config map, and the secret redacted unless --decode', async () => {
    expect((await ce('configmap', 'get', '-n', 'app-config')).stdout).toContain('Data:\n---\nCOLOR: blue\nSIZE: large\n');
    const redacted = await ce('secret', 'get', '-n', 'db');
    expect(redacted.stdout).toContain('PASSWORD: REDACTED');
    expect(redacted.stdout).not.toContain(PW);
    expect((await ce('secret', 'get', '-n', 'db', '-o', 'json')).stdout).not.toContain(PW);
    expect((await ce('secret', 'get', '-n', 'db', '--decode')).stdout).toContain(`PASSWORD: ${PW}`);
    expect((await ce('secret', 'list')).stdout).toMatch(/db\s+generic\s+2\s/);
  });

  it('refuses a job referencing a missing key unless --force', async () => {
    const r = await ce('job', 'create', '--name', 'bad', '--cmd', '/bin/true', '--env-from-secret', 'db:NOPE');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Key 'NOPE' (--env-from-secret) was not found in secret 'db'.");
  });

  it('a job run gets the values: --env-from-configmap, --env-from-secret NAME:KEY and a literal', async () => {
    const job = await ce(
      'job', 'create', '--name', 'envjob', '--cmd', '/bin/sh', '--arg', '-c',
      '--arg', 'echo "color=$COLOR size=$SIZE pw=$DB_PASSWORD lit=$LIT user=${USER_NAME:-none}"',
      '--env-from-configmap', 'app-config', '--env-from-secret', 'db:DB_PASSWORD=PASSWORD', '--env', 'LIT=plain',
    );
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    const get = await ce('job', 'get', '-n', 'envjob');
    expect(get.stdout).toMatch(/Config map full reference\s+app-config/);
    expect(get.stdout).toMatch(/Secret key reference\s+DB_PASSWORD\s+db\.PASSWORD/);
    expect(get.stdout).not.toContain(PW);
    const run = await ce('jobrun', 'submit', '--job', 'envjob', '--name', 'envrun', '--wait', '--wait-timeout', '60');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const logs = await ce('jobrun', 'logs', '-n', 'envrun', '--raw');
    expect(logs.stdout).toContain(`color=blue size=large pw=${PW} lit=plain user=none`);
  }, 90_000);

  it('mounts a config map and a secret as read-only files into a process instance', async () => {
    const dir = `/tmp/cejobs-e2e-mount-${process.pid}`;
    const job = await ce(
      'job', 'create', '--name', 'mountjob', '--cmd', '/bin/sh', '--arg', '-c',
      '--arg', `echo "cfg=$(cat ${dir}/cfg/COLOR) pw=$(cat ${dir}/sec/PASSWORD)"; touch ${dir}/cfg/new 2>/dev/null && echo writable || echo read-only`,
      '--mount-configmap', `${dir}/cfg=app-config`, '--mount-secret', `${dir}/sec=db`,
    );
    expect(job.stderr).toBe('');
    const get = await ce('job', 'get', '-n', 'mountjob');
    expect(get.stdout).toContain('Mounts:');
    expect(get.stdout).toMatch(new RegExp(`${dir}/cfg\\s+Config map\\s+app-config`));
    expect(get.stdout).toMatch(new RegExp(`${dir}/sec\\s+Secret\\s+db`));
    const run = await ce('jobrun', 'submit', '--job', 'mountjob', '--name', 'mountrun', '--wait', '--wait-timeout', '60');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const logs = await ce('jobrun', 'logs', '-n', 'mountrun', '--raw');
    expect(logs.stdout).toContain(`cfg=blue pw=${PW}`);
    expect(logs.stdout).toContain('read-only');
    // outside the instance the mount point holds nothing
    expect(fs.readdirSync(`${dir}/cfg`)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('updates and deletes', async () => {
    expect((await ce('configmap', 'update', '-n', 'app-config', '--rm', 'SIZE', '-l', 'SHAPE=round')).code).toBe(0);
    expect((await ce('configmap', 'get', '-n', 'app-config', '-o', 'jsonpath={.data}')).stdout.trim()).toBe('{"COLOR":"blue","SHAPE":"round"}');
    expect((await ce('secret', 'update', '-n', 'db', '-l', 'USER=root')).code).toBe(0);
    expect((await ce('secret', 'get', '-n', 'db', '-d', '-o', 'jsonpath={.data.USER} {.data.PASSWORD}')).stdout).toBe(`root ${PW}\n`);
    expect((await ce('configmap', 'delete', '-n', 'app-config', '-f')).code).toBe(0);
    expect((await ce('secret', 'delete', '-n', 'db', '-f')).code).toBe(0);
    expect((await ce('secret', 'list')).stdout).toContain('No secrets were found.');
  });
});
