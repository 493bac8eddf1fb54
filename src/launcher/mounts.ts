/**
 * Config maps and secrets mounted as files (`InstanceSpec.mounts`) for host processes.
 *
 * Host processes have no container filesystem, so each attempt that has mounts gets a private
 * mount namespace:
 *
 * 1. The launcher writes every mount's files into `<launcher dir>/mounts/<attemptId>/<n>/`
 *    (`materializeMounts`): the attempt directory is 0700 root, each mount directory 0700 and
 *    its files 0444 (config map) or 0400 (secret), owned by the instance's user when it
 *    switches user. Missing target directories are created on the host (`mkdir -p`).
 * 2. The workload is spawned through the fixed script `RUN_SCRIPT` inside
 *    `unshare --mount --propagation private` (`mountWrapper`): before it execs the workload it
 *    bind-mounts each directory read-only onto its `mountPath`, joins the attempt's cgroups
 *    (as `JOIN_SCRIPT` does), and drops to the instance's user with `setpriv` when needed.
 *    Everything is exec'd, so the main pid stays the workload's; the namespace ends with the
 *    attempt's last process and nothing is ever mounted outside it.
 * 3. The files are removed when the attempt ends (and again, harmlessly, on `release`).
 *
 * Secret contents never reach a log line or an error message: messages name the mount path,
 * the config map / secret name and at most a key.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { InstanceMount, LimitSupport } from '../drivers/driver.js';
import { procsFiles, type AttemptCgroup } from './cgroups.js';

/** What the launcher found at start. */
export interface MountSetup {
  support: LimitSupport;
  /** Absolute paths of the tools, when `support.enforced`. */
  unshare: string | null;
  mount: string | null;
  /** `setpriv` (util-linux), needed to switch user after mounting; null when absent. */
  setpriv: string | null;
}

export interface MountOptions {
  /** `off` never mounts (capability reported not available). @default 'auto' */
  requested?: 'auto' | 'off';
  /** A directory for the probe's scratch files (the launcher directory). */
  probeDir: string;
  log?: (line: string) => void;
}

/**
 * The fixed script run by `/bin/sh -c` inside the new mount namespace:
 *
 *     cejobs-run <mount binary> <src> <dst> … -- <cgroup.procs file> … -- <program> <args…>
 *
 * It bind-mounts each `<src>` read-only onto `<dst>`, writes its own pid into each
 * `cgroup.procs`, then execs the rest (same pid). Paths and argv are arguments, never
 * interpolated. A failure prints `cejobs: …` to stderr and exits 126.
 */
export const RUN_SCRIPT = [
  'm=$1; shift',
  'while [ "$1" != "--" ]; do "$m" -n --bind -o ro "$1" "$2" || { echo "cejobs: cannot mount $2" >&2; exit 126; }; shift 2; done; shift',
  'while [ "$1" != "--" ]; do echo $$ > "$1" || { echo "cejobs: cannot join cgroup $1" >&2; exit 126; }; shift; done; shift',
  'exec "$@"',
].join('\n');

const SEARCH_PATH = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/local/sbin'];

function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), ...SEARCH_PATH];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

function notAvailable(reason: string, setpriv: string | null = null): MountSetup {
  return { support: { enforced: false, how: `not available: ${reason}` }, unshare: null, mount: null, setpriv };
}

/**
 * Detects once, at launcher start, whether mounts can be honoured: root, `unshare` and `mount`
 * present, and a probe that creates a private mount namespace with a read-only bind mount
 * (visible inside, not writable, absent outside) succeeds.
 */
export function detectMounts(options: MountOptions): MountSetup {
  const log = options.log ?? (() => {});
  if (options.requested === 'off') return notAvailable('mounts are turned off (--mount-mode off)');
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return notAvailable(`mount namespaces need a launcher running as root; it runs as uid ${uid}`);
  const unshare = findTool('unshare');
  const mount = findTool('mount');
  const setpriv = findTool('setpriv');
  if (!unshare) return notAvailable('unshare (util-linux) was not found');
  if (!mount) return notAvailable('mount (util-linux) was not found');
  if (!fs.existsSync('/bin/sh')) return notAvailable('/bin/sh was not found');

  const dir = path.join(options.probeDir, `.mount-probe-${process.pid}`);
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    const src = path.join(dir, 'src');
    const dst = path.join(dir, 'dst');
    fs.mkdirSync(src, { recursive: true, mode: 0o700 });
    fs.mkdirSync(dst, { recursive: true });
    fs.writeFileSync(path.join(src, 'probe'), 'ok');
    const check = 'test "$(cat "$1/probe")" = ok && ! (: > "$1/written") 2>/dev/null';
    const r = spawnSync(
      unshare,
      ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', RUN_SCRIPT, 'cejobs-run', mount, src, dst, '--', '--',
        '/bin/sh', '-c', check, 'cejobs-probe', dst],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (r.error) return notAvailable(`the probe could not run ${unshare}: ${r.error.message}`);
    if (r.status !== 0) {
      const why = (r.stderr ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.status ?? r.signal}`;
      return notAvailable(`a private mount namespace with a read-only bind mount did not work (${why})`);
    }
    if (fs.existsSync(path.join(dst, 'probe')) || fs.existsSync(path.join(src, 'written'))) {
      return notAvailable('the probe bind mount leaked out of its mount namespace');
    }
  } catch (e) {
    return notAvailable(`the probe failed: ${(e as Error).message}`);
  } finally {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // leave it
    }
  }
  if (!setpriv) log('setpriv (util-linux) not found: attempts with mounts cannot switch to run_as_user');
  return { support: { enforced: true, how: 'mount-namespace' }, unshare, mount, setpriv };
}

/** The materialised mounts of one attempt. */
export interface MountPlan {
  /** `<launcher dir>/mounts/<attemptId>`: removed when the attempt ends. */
  dir: string;
  /** Bind mounts in order (parents before nested paths). */
  binds: Array<{ source: string; target: string }>;
}

export class MountError extends Error {}

/** Directory holding the materialised mounts of an attempt: the launcher's, outside the instance's scratch. */
export function mountsDirOf(launcherDir: string, attemptId: string): string {
  return path.join(launcherDir, 'mounts', attemptId);
}

/** A key is one path segment: no `/`, no NUL, not `.` or `..`, not empty. */
function checkKey(key: string, what: string): void {
  if (key === '' || key === '.' || key === '..' || key.includes('/') || key.includes('\0') || Buffer.byteLength(key) > 255) {
    throw new MountError(`${what}: key ${JSON.stringify(key.slice(0, 64))} is not a valid file name`);
  }
}

function whatOf(m: InstanceMount): string {
  return `${m.source === 'secret' ? 'secret' : 'config map'} "${m.name}" at ${m.mountPath}`;
}

/**
 * Writes the files of `mounts` under `mountsDirOf(launcherDir, attemptId)` and prepares the
 * targets: a missing `mountPath` is created on the host (root-owned, 0755); a path nested in
 * another mount of the same attempt gets its directory inside that mount instead. `uid`/`gid`
 * own the mount directories and files when the instance switches user (else root).
 * Throws `MountError` with a message free of file contents.
 */
export function materializeMounts(
  mounts: InstanceMount[],
  launcherDir: string,
  attemptId: string,
  owner: { uid: number; gid: number } | null,
): MountPlan {
  const dir = mountsDirOf(launcherDir, attemptId);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.chmodSync(dir, 0o700);

  // Normalise and order by depth, so a parent is mounted before what is nested in it.
  const items = mounts.map((m, i) => {
    if (typeof m?.mountPath !== 'string' || !path.posix.isAbsolute(m.mountPath)) {
      throw new MountError(`mount ${i}: mountPath must be an absolute path, got ${JSON.stringify(m?.mountPath)}`);
    }
    const target = path.posix.normalize(m.mountPath).replace(/\/+$/, '');
    if (target === '') throw new MountError(`${whatOf(m)}: cannot mount over /`);
    if (m.files === null || typeof m.files !== 'object') throw new MountError(`${whatOf(m)}: no files`);
    return { m, i, target, depth: target.split('/').length };
  });
  items.sort((a, b) => a.depth - b.depth || a.i - b.i);
  const placed: Array<{ target: string; source: string; m: InstanceMount }> = [];
  const binds: MountPlan['binds'] = [];
  const chown = (p: string) => {
    if (owner) fs.chownSync(p, owner.uid, owner.gid);
  };

  for (const { m, i, target } of items) {
    const what = whatOf(m);
    if (placed.some((p) => p.target === target)) throw new MountError(`${what}: another mount of the instance uses that path`);
    const source = path.join(dir, String(i));
    fs.mkdirSync(source, { mode: 0o700 });
    fs.chmodSync(source, 0o700);
    chown(source);
    const mode = m.source === 'secret' ? 0o400 : 0o444;
    for (const [key, value] of Object.entries(m.files)) {
      checkKey(key, what);
      const file = path.join(source, key);
      try {
        fs.writeFileSync(file, typeof value === 'string' ? value : String(value), { mode: 0o600, flag: 'wx' });
        fs.chmodSync(file, mode);
        chown(file);
      } catch (e) {
        throw new MountError(`${what}: cannot write key ${JSON.stringify(key)}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }

    // The target: inside the deepest enclosing mount of this attempt, or on the host.
    const parent = placed
      .filter((p) => target.startsWith(`${p.target}/`))
      .sort((a, b) => b.target.length - a.target.length)[0];
    try {
      if (parent) {
        const rel = target.slice(parent.target.length + 1);
        let at = parent.source;
        for (const seg of rel.split('/')) {
          at = path.join(at, seg);
          if (fs.existsSync(at)) {
            if (!fs.statSync(at).isDirectory()) {
              throw new MountError(`${what}: it is nested in ${whatOf(parent.m)}, which has a key named ${JSON.stringify(seg)}`);
            }
            continue;
          }
          fs.mkdirSync(at, { mode: 0o755 });
          chown(at);
        }
      } else {
        fs.mkdirSync(target, { recursive: true, mode: 0o755 });
        if (!fs.statSync(target).isDirectory()) throw new MountError(`${what}: ${target} exists and is not a directory`);
      }
    } catch (e) {
      if (e instanceof MountError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new MountError(
        code === 'EEXIST' || code === 'ENOTDIR'
          ? `${what}: ${target} (or a parent) exists and is not a directory`
          : `${what}: cannot create the directory ${target} (${code ?? (e as Error).message})`,
      );
    }
    placed.push({ target, source, m });
    binds.push({ source, target });
  }
  return { dir, binds };
}

/** Removes the materialised files of an attempt (its secrets with them), and `mounts/` when empty. */
export function removeMounts(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.rmdirSync(path.dirname(dir));
  } catch {
    // other attempts' mounts, or gone
  }
}

/**
 * The argv that runs `program` with its mounts (and cgroups), as described at the top:
 *
 *     unshare --mount --propagation private -- /bin/sh -c RUN_SCRIPT cejobs-run <mount>
 *       <src> <dst> … -- <cgroup.procs> … -- [setpriv --reuid=U --regid=G --clear-groups --]
 *       <program> <args…>
 */
export function mountWrapper(
  setup: MountSetup,
  plan: MountPlan,
  cg: AttemptCgroup | null,
  user: { uid: number; gid: number } | null,
): string[] {
  if (!setup.unshare || !setup.mount) throw new MountError('mounts are not available on this launcher');
  const procs = cg ? procsFiles(cg) : [];
  const drop = user
    ? [setup.setpriv ?? 'setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--']
    : [];
  return [
    setup.unshare, '--mount', '--propagation', 'private', '--',
    '/bin/sh', '-c', RUN_SCRIPT, 'cejobs-run', setup.mount,
    ...plan.binds.flatMap((b) => [b.source, b.target]), '--',
    ...procs, '--',
    ...drop,
  ];
}
