/**
 * Git sources: `git clone` of a `file://`, `https://` or `ssh://` URL with the `git` CLI, then
 * a detached checkout of the revision (a branch, a tag or a commit; default: the remote's HEAD).
 * For ssh, the `ssh_auth` secret's key and known hosts go to private temporary files and
 * `GIT_SSH_COMMAND` (host keys are checked strictly when the secret has `known_hosts`; without
 * it the first key seen is accepted). Failures reject with `BuildError('SourceCloneFailed')`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildError, type BuildLog } from './builder.js';
import { runCommand } from './command.js';

export interface GitSource {
  url: string;
  revision?: string;
  /** Data of an `ssh_auth` secret. */
  ssh?: { ssh_key: string; known_hosts?: string };
}

/** Clones into `dest` (which must not exist); returns the commit checked out. */
export async function cloneGit(source: GitSource, dest: string, log: BuildLog, signal: AbortSignal): Promise<string> {
  const keyDir = source.ssh ? fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-ssh-')) : undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false' };
  try {
    if (source.ssh && keyDir) {
      const key = path.join(keyDir, 'key');
      const known = path.join(keyDir, 'known_hosts');
      fs.writeFileSync(key, source.ssh.ssh_key.endsWith('\n') ? source.ssh.ssh_key : `${source.ssh.ssh_key}\n`, { mode: 0o600 });
      fs.writeFileSync(known, source.ssh.known_hosts ?? '', { mode: 0o600 });
      const strict = source.ssh.known_hosts ? 'yes' : 'accept-new';
      env.GIT_SSH_COMMAND = `ssh -i ${key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${known} -o StrictHostKeyChecking=${strict} -o BatchMode=yes`;
    }
    const git = async (args: string[], cwd: string, what: string) => {
      const r = await runCommand(['git', ...args], { cwd, env, log, signal });
      if (r.aborted) throw new BuildError('BuildTimeout', `${what} was stopped`);
      if (r.exitCode !== 0) throw new BuildError('SourceCloneFailed', `${what} failed (git exit code ${r.exitCode ?? r.signal}); see the build log`);
    };
    log.note(`git clone ${source.url}`);
    await git(['clone', '--quiet', '--', source.url, dest], path.dirname(dest), `cloning ${source.url}`);
    if (source.revision !== undefined) {
      const commit = (await resolveRevision(source.revision, dest, env, signal)) ?? null;
      if (commit === null) {
        throw new BuildError('SourceCloneFailed', `the revision ${JSON.stringify(source.revision)} is not a branch, tag or commit of ${source.url}`);
      }
      await git(['checkout', '--quiet', '--detach', commit], dest, `checking out ${source.revision}`);
    }
    const head = await capture(['git', 'rev-parse', 'HEAD'], dest, env, signal);
    log.note(`checked out ${head}`);
    return head ?? '';
  } catch (e) {
    if (e instanceof BuildError) throw e;
    throw new BuildError('SourceCloneFailed', `cannot run git: ${(e as Error).message}`);
  } finally {
    if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
  }
}

async function resolveRevision(rev: string, dir: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<string | undefined> {
  for (const candidate of [`refs/tags/${rev}`, `refs/remotes/origin/${rev}`, rev]) {
    const sha = await capture(['git', 'rev-parse', '--verify', '--quiet', `${candidate}^{commit}`], dir, env, signal);
    if (sha) return sha;
  }
  return undefined;
}

async function capture(argv: string[], cwd: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<string | undefined> {
  let out = '';
  const sink = { write: (s: 'stdout' | 'stderr', c: Buffer | string) => { if (s === 'stdout') out += c.toString(); }, note: () => undefined };
  const r = await runCommand(argv, { cwd, env, log: sink, signal });
  return r.exitCode === 0 ? out.trim() : undefined;
}
