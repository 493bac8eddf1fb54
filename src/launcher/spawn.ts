/**
 * Turning an `InstanceSpec` into a program, argv, environment and working directory.
 *
 * argv: `spec.command` followed by `spec.args`. `command[0]` is the program. When `command` is
 * empty but `args` is not, `args[0]` is the program (there is no image entrypoint on the host
 * to take the arguments). A program without `/` is looked up in the instance's own `PATH`; one
 * with `/` is taken relative to the working directory. Nothing goes through a shell.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InstanceSpec } from '../drivers/driver.js';

export type Resolved =
  | { ok: true; program: string; argv: string[] }
  | { ok: false; reason: 'ExecutableNotFound' | 'StartFailed'; message: string };

function isExecutableFile(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the program of a spec against `env.PATH`, relative paths against `cwd`. */
export function resolveCommand(spec: Pick<InstanceSpec, 'command' | 'args'>, env: Record<string, string>, cwd: string): Resolved {
  const argv = [...spec.command, ...spec.args];
  const name = argv[0];
  if (name === undefined || name === '') {
    return { ok: false, reason: 'StartFailed', message: 'no command to run: run_commands and run_arguments are both empty' };
  }
  if (name.includes('/')) {
    const file = path.resolve(cwd, name);
    if (isExecutableFile(file)) return { ok: true, program: file, argv };
    const why = fs.existsSync(file) ? 'is not an executable file' : 'does not exist';
    return { ok: false, reason: 'ExecutableNotFound', message: `"${name}" ${why}` };
  }
  const searchPath = env.PATH ?? '';
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    const file = path.resolve(cwd, dir, name);
    if (isExecutableFile(file)) return { ok: true, program: file, argv };
  }
  return { ok: false, reason: 'ExecutableNotFound', message: `"${name}" was not found in PATH (${searchPath})` };
}

/**
 * The environment of an instance: exactly `spec.env`, plus `PATH` (the launcher's),
 * `HOME`, `LANG` and `TMPDIR` (the scratch directory) where `spec.env` lacks them.
 */
export function buildEnv(spec: InstanceSpec, scratch: string, home: string): Record<string, string> {
  const env: Record<string, string> = { ...spec.env };
  const defaults: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    LANG: process.env.LANG ?? 'C.UTF-8',
    TMPDIR: scratch,
  };
  for (const [k, v] of Object.entries(defaults)) if (!(k in env)) env[k] = v;
  return env;
}

/** Primary group of a uid from /etc/passwd, or the uid itself. */
export function gidOf(uid: number): number {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (Number(f[2]) === uid && f[3] !== undefined) return Number(f[3]);
    }
  } catch {
    // no passwd file
  }
  return uid;
}
