/**
 * Memory and cpu limits through cgroups, v1 (one hierarchy per controller) or v2 (unified).
 *
 * Layout: `<root>/<controller>/<parent>/<attemptId>` on v1 (controllers `memory`, `cpu`,
 * `pids`), `<unified>/<parent>/<attemptId>` on v2. `root` defaults to `/sys/fs/cgroup` and
 * `parent` to `cejobs`; both can be overridden (tests, or hosts that delegate a subtree).
 *
 * A workload joins its cgroups before it execs, through the fixed wrapper of `joinWrapper`,
 * so nothing it runs is ever outside them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResourceLimits } from '../drivers/driver.js';
import type { LimitMode } from './protocol.js';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';
export const DEFAULT_CGROUP_PARENT = 'cejobs';
/** cpu.cfs_period_us / cpu.max period. */
export const CPU_PERIOD_US = 100_000;

const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

export interface CgroupOptions {
  /** `auto` picks cgroup v1 (where its memory hierarchy exists), else v2, else RSS watch; `rss-watch` never touches cgroups. */
  requested: 'auto' | 'rss-watch';
  root?: string;
  parent?: string;
  log?: (line: string) => void;
}

/** The cgroups of one attempt. */
export interface AttemptCgroup {
  version: 1 | 2;
  /** Every directory created (one per v1 controller, one on v2). */
  dirs: string[];
  /** Directory holding the memory files (`memory.oom_control` / `memory.events`). */
  memoryDir: string | null;
  /** Directory holding the cpu quota file. */
  cpuDir: string | null;
}

export interface LimitSetup {
  mode: LimitMode;
  /** Why cgroups are not used, when `mode` is `rss-watch`. */
  reason: string;
  /** Whether cpu quotas are written (the cpu controller is usable), and why not. */
  cpu: { enforced: boolean; why: string };
  /** Creates the cgroups of an attempt and writes its limits; null in `rss-watch` mode. */
  create(attemptId: string, limits: ResourceLimits, uid: number | null): AttemptCgroup | null;
}

function tryMkdir(dir: string): string | null {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

function writeFile(file: string, value: string): void {
  fs.writeFileSync(file, value);
}

function probeChild(parentDir: string): string | null {
  const probe = path.join(parentDir, `.probe-${process.pid}`);
  const err = tryMkdir(probe);
  if (err) return err;
  try {
    fs.rmdirSync(probe);
  } catch {
    // leave it; harmless
  }
  return null;
}

/** The unified (v2) mount under `root`, when it exists. */
function unifiedMount(root: string): string | null {
  if (fs.existsSync(path.join(root, 'cgroup.controllers'))) return root;
  if (fs.existsSync(path.join(root, 'unified', 'cgroup.controllers'))) return path.join(root, 'unified');
  return null;
}

function readControllers(dir: string): string[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** Detects what the host allows and returns the setup to use. */
export function detectLimits(options: CgroupOptions): LimitSetup {
  const root = options.root ?? DEFAULT_CGROUP_ROOT;
  const parent = options.parent ?? DEFAULT_CGROUP_PARENT;
  const log = options.log ?? (() => {});
  if (options.requested === 'rss-watch') {
    return rssWatch('rss-watch was requested (cgroups are not used)');
  }
  const reasons: string[] = [];

  // cgroup v1: the memory controller has its own hierarchy.
  const v1Memory = path.join(root, 'memory');
  if (fs.existsSync(path.join(v1Memory, 'memory.limit_in_bytes'))) {
    const dirs: Record<string, string> = {};
    let failure: string | null = null;
    for (const c of V1_CONTROLLERS) {
      const base = path.join(root, c);
      if (!fs.existsSync(path.join(base, 'cgroup.procs'))) {
        if (c === 'memory') failure = `${base} is not a cgroup hierarchy`;
        continue;
      }
      const dir = path.join(base, parent);
      const err = tryMkdir(dir) ?? probeChild(dir);
      if (err) {
        if (c === 'memory') failure = `cannot create cgroups under ${dir} (${err})`;
        else log(`cgroup v1 controller ${c} not usable under ${dir}: ${err}`);
        continue;
      }
      dirs[c] = dir;
    }
    if (!failure && dirs.memory) return cgroupV1(dirs);
    reasons.push(`cgroup v1: ${failure}`);
  } else {
    const unified = unifiedMount(root);
    if (unified) {
      const available = readControllers(unified);
      if (!available.includes('memory')) {
        reasons.push(`cgroup v2 at ${unified} has no memory controller`);
      } else {
        const dir = path.join(unified, parent);
        const err = tryMkdir(dir);
        if (err) {
          reasons.push(`cgroup v2: cannot create ${dir} (${err})`);
        } else {
          const wanted = ['memory', 'cpu', 'pids'].filter((c) => available.includes(c));
          for (const d of [unified, dir]) {
            for (const c of wanted) {
              try {
                writeFile(path.join(d, 'cgroup.subtree_control'), `+${c}`);
              } catch (e) {
                log(`cannot enable ${c} in ${d}: ${(e as Error).message}`);
              }
            }
          }
          const enabled = readControllers(dir);
          const probeErr = probeChild(dir);
          if (!enabled.includes('memory')) reasons.push(`cgroup v2: memory controller not delegated to ${dir}`);
          else if (probeErr) reasons.push(`cgroup v2: cannot create cgroups under ${dir} (${probeErr})`);
          else return cgroupV2(dir, enabled);
        }
      }
    } else {
      reasons.push(`no cgroup hierarchy under ${root}`);
    }
  }
  const reason = reasons.join('; ');
  log(`cgroups not usable, falling back to rss-watch: ${reason}`);
  return rssWatch(reason);
}

function rssWatch(reason: string): LimitSetup {
  return {
    mode: 'rss-watch',
    reason,
    cpu: { enforced: false, why: `not enforced: no usable cgroup (${reason})` },
    create: () => null,
  };
}

function cgroupV1(parents: Record<string, string>): LimitSetup {
  return {
    mode: 'cgroup-v1',
    reason: '',
    cpu: parents.cpu
      ? { enforced: true, why: 'cgroup-v1' }
      : { enforced: false, why: 'not enforced: the cgroup v1 cpu controller is not usable' },
    create(attemptId, limits, uid) {
      const dirs: string[] = [];
      let memoryDir: string | null = null;
      let cpuDir: string | null = null;
      for (const [controller, parentDir] of Object.entries(parents)) {
        const dir = path.join(parentDir, attemptId);
        fs.mkdirSync(dir, { recursive: true });
        dirs.push(dir);
        if (controller === 'memory') {
          memoryDir = dir;
          if (limits.memoryBytes > 0) {
            writeFile(path.join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
            const memsw = path.join(dir, 'memory.memsw.limit_in_bytes');
            if (fs.existsSync(memsw)) {
              try {
                writeFile(memsw, String(limits.memoryBytes));
              } catch {
                // swap accounting present but not settable: the memory limit still applies
              }
            }
          }
        } else if (controller === 'cpu') {
          cpuDir = dir;
          if (limits.cpuMillis > 0) {
            writeFile(path.join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
            const quota = Math.max(1000, Math.round((limits.cpuMillis * CPU_PERIOD_US) / 1000));
            writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
          }
        }
        if (uid !== null) fs.chownSync(path.join(dir, 'cgroup.procs'), uid, -1);
      }
      return { version: 1, dirs, memoryDir, cpuDir };
    },
  };
}

function cgroupV2(parentDir: string, enabled: string[]): LimitSetup {
  return {
    mode: 'cgroup-v2',
    reason: '',
    cpu: enabled.includes('cpu')
      ? { enforced: true, why: 'cgroup-v2' }
      : { enforced: false, why: `not enforced: the cgroup v2 cpu controller is not enabled under ${parentDir}` },
    create(attemptId, limits, uid) {
      const dir = path.join(parentDir, attemptId);
      fs.mkdirSync(dir, { recursive: true });
      if (limits.memoryBytes > 0) {
        writeFile(path.join(dir, 'memory.max'), String(limits.memoryBytes));
        const swap = path.join(dir, 'memory.swap.max');
        if (fs.existsSync(swap)) {
          try {
            writeFile(swap, '0');
          } catch {
            // no swap control; the memory limit still applies
          }
        }
      }
      if (limits.cpuMillis > 0 && enabled.includes('cpu')) {
        const quota = Math.max(1000, Math.round((limits.cpuMillis * CPU_PERIOD_US) / 1000));
        writeFile(path.join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
      }
      if (uid !== null) fs.chownSync(path.join(dir, 'cgroup.procs'), uid, -1);
      return { version: 2, dirs: [dir], memoryDir: dir, cpuDir: enabled.includes('cpu') ? dir : null };
    },
  };
}

/**
 * argv prefix that moves the shell into the attempt's cgroups, then execs the workload:
 * `/bin/sh -c SCRIPT cejobs-join <procs files…> -- <program> <args…>`. The script is fixed;
 * paths and argv are passed as arguments, never interpolated into it.
 */
export const JOIN_SCRIPT =
  'while [ "$1" != "--" ]; do echo $$ > "$1" || { echo "cejobs: cannot join cgroup $1" >&2; exit 126; }; shift; done; shift; exec "$@"';

export function joinWrapper(cg: AttemptCgroup): string[] {
  return ['/bin/sh', '-c', JOIN_SCRIPT, 'cejobs-join', ...procsFiles(cg), '--'];
}

/** The `cgroup.procs` files a workload writes its pid into to join the attempt's cgroups. */
export function procsFiles(cg: AttemptCgroup): string[] {
  return cg.dirs.map((d) => path.join(d, 'cgroup.procs'));
}

/** Pids currently in any of the attempt's cgroups. */
export function cgroupMembers(cg: AttemptCgroup): number[] {
  const pids = new Set<number>();
  for (const dir of cg.dirs) {
    try {
      for (const line of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        const pid = Number(line);
        if (pid > 0) pids.add(pid);
      }
    } catch {
      // removed already
    }
  }
  return [...pids];
}

/** Number of OOM kills the kernel did in the attempt's memory cgroup. */
export function oomKills(cg: AttemptCgroup): number {
  if (!cg.memoryDir) return 0;
  const file = cg.version === 1 ? 'memory.oom_control' : 'memory.events';
  try {
    const text = fs.readFileSync(path.join(cg.memoryDir, file), 'utf8');
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sends a signal to every member of the attempt's cgroups (v2 SIGKILL: `cgroup.kill`). */
export function signalCgroup(cg: AttemptCgroup, signal: NodeJS.Signals): void {
  if (cg.version === 2 && signal === 'SIGKILL') {
    try {
      writeFile(path.join(cg.dirs[0]!, 'cgroup.kill'), '1');
      return;
    } catch {
      // older kernel: kill members one by one
    }
  }
  for (const pid of cgroupMembers(cg)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/** Removes the attempt's cgroups, killing stragglers; retries while members are exiting. */
export async function removeCgroup(cg: AttemptCgroup): Promise<void> {
  for (let i = 0; i < 50; i++) {
    let busy = false;
    for (const dir of cg.dirs) {
      try {
        fs.rmdirSync(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') busy = true;
      }
    }
    if (!busy) return;
    signalCgroup(cg, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}
