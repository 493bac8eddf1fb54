/**
 * Source fixtures for build tests: a local directory and a Git repository (served as
 * `file://`) with a Dockerfile and a script, two commits and a tag.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { packSource } from '../../src/client/source-archive.js';

export const TEST_IMAGE = 'localhost/test-busybox:latest';

/** Writes files (path → content; executable when the path ends in `.sh`). */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
  }
}

/** A source tree: `run.sh` prints `message`; a Dockerfile copies it onto the test image. */
export function sourceFiles(message: string): Record<string, string> {
  return {
    'run.sh': `#!/bin/sh\necho "${message}"\n[ -f built.txt ] && cat built.txt\nexit 0\n`,
    Dockerfile: `FROM ${TEST_IMAGE}\nCOPY . /app\nWORKDIR /app\nRUN echo "built in image" > /app/built.txt\nCMD ["/bin/sh", "/app/run.sh"]\n`,
    '.dockerignore': 'secret.txt\nignored/\n',
    'secret.txt': 'must not reach the image\n',
    'ignored/x.txt': 'no\n',
  };
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  }).trim();
}

/**
 * A Git repository in `dir`: commit 1 says "from git v1" (tagged `v1`), commit 2 on `main`
 * says "from git v2"; the app also sits under `app/` for context-dir tests. Returns the commits.
 */
export function makeGitRepo(dir: string): { v1: string; v2: string } {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeTree(dir, sourceFiles('from git v1'));
  writeTree(path.join(dir, 'app'), sourceFiles('from git app dir'));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'v1');
  git(dir, 'tag', 'v1');
  const v1 = git(dir, 'rev-parse', 'HEAD');
  writeTree(dir, sourceFiles('from git v2'));
  git(dir, 'commit', '-q', '-am', 'v2');
  return { v1, v2: git(dir, 'rev-parse', 'HEAD') };
}

/** The tar of a directory as a client uploads it. */
export function tarOf(dir: string): Readable {
  return packSource(dir);
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { Readable };
