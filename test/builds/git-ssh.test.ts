/**
 * Cloning a Git repository over ssh with an `ssh_auth` secret (key + known hosts): an sshd on
 * a free port of 127.0.0.1 with a temporary host key and authorized_keys serves a local
 * repository; the build clones `ssh://<user>@127.0.0.1:<port>/<path>` and the job runs it.
 * A secret whose known hosts do not match fails with `SourceCloneFailed`. Skipped (with the
 * reason in the name) when sshd or ssh-keygen is missing or sshd cannot start.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWritable } from '../../src/builders/tree.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import type { Engine } from '../../src/engine/engine.js';
import { openLocalEngine } from '../../src/server/local.js';
import { makeGitRepo } from './fixtures.js';

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => fs.existsSync(p));
const hasKeygen = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== undefined && (e as { code?: string }).code !== 'ENOENT';
  }
})();
const skip = !SSHD ? 'sshd is not installed (apt-get install openssh-server)' : !hasKeygen ? 'ssh-keygen is not installed' : process.getuid?.() !== 0 ? 'sshd needs root here' : undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

if (skip) {
  describe('git over ssh', () => {
    it.skip(`skipped: ${skip}`, () => {});
  });
} else {
  describe('git over ssh with an ssh_auth secret', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-ssh-'));
    const home = path.join(dir, 'home');
    let sshd: ChildProcess | undefined;
    let engine: Engine;
    let port = 0;
    let startError: string | undefined;
    const user = os.userInfo().username;

    beforeAll(async () => {
      const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
      keygen(path.join(dir, 'host_key'));
      keygen(path.join(dir, 'client_key'));
      fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
      makeGitRepo(path.join(dir, 'repo'));
      port = await freePort();
      fs.writeFileSync(
        path.join(dir, 'sshd_config'),
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${dir}/host_key`,
          `AuthorizedKeysFile ${dir}/authorized_keys`,
          `PidFile ${dir}/sshd.pid`,
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PubkeyAuthentication yes',
          'PermitRootLogin prohibit-password',
          'StrictModes no',
          'UsePAM no',
        ].join('\n') + '\n',
      );
      fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
      let stderr = '';
      sshd = spawn(SSHD!, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      sshd.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      if (!(await waitForPort(port, 10_000))) startError = `sshd did not listen: ${stderr.trim().slice(0, 300)}`;
      engine = await openLocalEngine({ home, warn: () => {}, secretKey: Buffer.alloc(32, 3), process: { idleExitMs: 5000 } });
    });

    afterAll(async () => {
      sshd?.kill('SIGTERM');
      await engine?.close();
      await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
      makeWritable(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const knownHosts = () => `[127.0.0.1]:${port} ${fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`;

    it('clones ssh://user@127.0.0.1:port/repo at a tag with the key and known hosts of the secret, and runs it', async (t) => {
      if (startError) t.skip(startError);
      engine.createSecret('default', {
        name: 'gitkey',
        format: 'ssh_auth',
        data: { ssh_key: fs.readFileSync(path.join(dir, 'client_key'), 'utf8'), known_hosts: knownHosts() },
      });
      engine.createBuild('default', { name: 'viassh', source_url: `ssh://${user}@127.0.0.1:${port}${dir}/repo`, source_revision: 'v1', source_secret: 'gitkey' });
      const br = await engine.waitForBuildRun('default', engine.submitBuildRun('default', { build_name: 'viassh' }).name);
      expect(br.status, `${br.status_details.message}\n${(await engine.readBuildRunLog('default', br.name)).join('\n')}`).toBe('succeeded');
      engine.createJob('default', { name: 'viassh', build_run: br.name, run_commands: ['./run.sh'] } as never);
      engine.submitRun('default', { name: 'viassh-1', job_name: 'viassh' });
      const run = await engine.waitForRun('default', 'viassh-1');
      expect(run.status).toBe('completed');
      const logs = await engine.readLogs('default', 'viassh-1');
      expect(logs.flatMap((l) => l.records.map((r) => r.text))).toContain('from git v1');
      // The key never reaches the build log.
      const log = (await engine.readBuildRunLog('default', br.name)).join('\n');
      expect(log).not.toContain('PRIVATE KEY');
    });

    it('fails with SourceCloneFailed when the host key is not the known one', async (t) => {
      if (startError) t.skip(startError);
      const other = path.join(dir, 'other_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      engine.createSecret('default', {
        name: 'wronghost',
        format: 'ssh_auth',
        data: {
          ssh_key: fs.readFileSync(path.join(dir, 'client_key'), 'utf8'),
          known_hosts: `[127.0.0.1]:${port} ${fs.readFileSync(`${other}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`,
        },
      });
      engine.createBuild('default', { name: 'wronghost', source_url: `ssh://${user}@127.0.0.1:${port}${dir}/repo`, source_secret: 'wronghost' });
      const br = await engine.waitForBuildRun('default', engine.submitBuildRun('default', { build_name: 'wronghost' }).name);
      expect(br.status).toBe('failed');
      expect(br.status_details.reason).toBe('SourceCloneFailed');
      expect(br.status_details.message).toMatch(/host key|Host key/);
    });
  });
}
