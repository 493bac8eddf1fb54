/**
 * Memory and cpu limits through cgroups, v1 (one hierarchy per controller) or v2 (unified).
 *
 * Layout: `<root>/<controller>/<parent>/<attemptId>` on v1 (controllers `memory` and `cpu`),
 * `<unified>/<parent>/<attemptId>` on v2. `root` defaults to `/sys/fs/cgroup` and
 * `parent` to `cejobs`; both can be overridden (tests, or hosts that delegate a subtree).
 *
 * A workload joins its cgroups before it execs (natively between vfork and exec, see
 * `child.ts`, or through the fixed shell wrapper of `joinWrapper`), so nothing it runs is ever
 * outside them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResourceLimits } from '../drivers/driver.js';
import type { LimitMode } from './protocol.js';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';
export const DEFAULT_CGROUP_PARENT = 'cejobs';
/** cpu.cfs_period_us / cpu.max period. */
export const CPU_PERIOD_US = 100_000;

/**
 * v1 hierarchies an attempt joins. Not `pids`: no limit is set on it, and on v1 every hierarchy
 * joined is one more cgroup migration per start, in the kernel's slowest path of a spawn.
 */
const V1_CONTROLLERS = ['memory', 'cpu'] as const;

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
  /**
   * OOM kills the memory cgroup had counted before this attempt got it (pooled cgroups are
   * reused, and the kernel's counter only grows). Absent on cgroups of older launchers: 0.
   */
  oomBaseline?: number;
}

export interface LimitSetup {
  mode: LimitMode;
  /** Why cgroups are not used, when `mode` is `rss-watch`. */
  reason: string;
  /** Whether cpu quotas are written (the cpu controller is usable), and why not. */
  cpu: { enforced: boolean; why: string };
  /**
   * The cgroups of a new attempt, with its limits written; null in `rss-watch` mode. Taken
   * from the pool of empty cgroups released earlier when there is one (a mkdir of a cgroup
   * costs the kernel far more than rewriting two limit files).
   */
  create(limits: ResourceLimits, uid: number | null): AttemptCgroup | null;
  /**
   * Gives back the cgroups of an attempt that ended: kept in the pool when empty, removed
   * otherwise (stragglers killed) or when the pool is full.
   */
  release(cg: AttemptCgroup): Promise<void>;
  /** Removes every pooled cgroup (the launcher is exiting). */
  drain(): void;
  /**
   * Removes pooled cgroups a previous launcher left (it died before `drain`), except those in
   * `inUse` (held by attempts it adopted). Only cgroups named after a launcher pid that is no
   * longer alive: other launchers (other state homes) share the parent and pool their own.
   * Busy ones stay.
   */
  removeStale(inUse: Set<string>): void;
}

const POOLED_NAME = /^pool-(\d+)-\d+$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Empty cgroups kept for reuse, at most this many. */
export const CGROUP_POOL_SIZE = 256;

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
    release: async () => {},
    drain: () => {},
    removeStale: () => {},
  };
}

/** The limit files of one attempt's cgroups, as last written (what a pooled cgroup holds). */
interface Written {
  memoryBytes: number;
  cpuMillis: number;
  uid: number | null;
}

interface Pooled {
  cg: AttemptCgroup;
  written: Written;
}

/**
 * Pool bookkeeping shared by v1 and v2: `make` creates fresh cgroups, `write` brings limits and
 * owner of (fresh or pooled) cgroups from `before` to `after`.
 */
function pooledSetup(
  mode: 'cgroup-v1' | 'cgroup-v2',
  cpu: LimitSetup['cpu'],
  parents: string[],
  make: (name: string) => AttemptCgroup,
  write: (cg: AttemptCgroup, before: Written | null, after: Written) => void,
): LimitSetup {
  const pool: Pooled[] = [];
  const written = new WeakMap<AttemptCgroup, Written>();
  let seq = 0;
  const freshName = (): string => {
    for (;;) {
      const name = `pool-${process.pid}-${++seq}`;
      if (!parents.some((p) => fs.existsSync(path.join(p, name)))) return name;
    }
  };
  return {
    mode,
    reason: '',
    cpu,
    create(limits, uid) {
      const after: Written = { memoryBytes: limits.memoryBytes, cpuMillis: limits.cpuMillis, uid };
      let reused = pool.pop();
      // Someone removed it (or one controller's directory) behind our back: not reusable, and
      // what is left of it goes.
      while (reused && !reused.cg.dirs.every((d) => fs.existsSync(d))) {
        for (const dir of reused.cg.dirs) rmdirQuiet(dir);
        reused = pool.pop();
      }
      if (reused) {
        try {
          write(reused.cg, reused.written, after);
          const cg = { ...reused.cg, oomBaseline: oomCount(reused.cg) };
          written.set(cg, after);
          return cg;
        } catch {
          // a limit the kernel refuses on this cgroup (charges above it): use a fresh one
          void removeCgroup(reused.cg);
        }
      }
      const cg = make(freshName());
      write(cg, null, after);
      cg.oomBaseline = 0;
      written.set(cg, after);
      return cg;
    },
    async release(cg) {
      const state = written.get(cg);
      // (A directory removed behind our back reads as empty here; `create` checks before reuse.)
      const reusable = state && pool.length < CGROUP_POOL_SIZE && (emptied.has(cg) || cgroupMembers(cg).length === 0);
      if (reusable) {
        written.delete(cg);
        pool.push({ cg, written: state }); // its next attempt takes a new OOM baseline
        return;
      }
      await removeCgroup(cg);
    },
    drain() {
      for (const { cg } of pool.splice(0)) for (const dir of cg.dirs) rmdirQuiet(dir);
    },
    removeStale(inUse) {
      const mine = new Set(pool.flatMap((p) => p.cg.dirs));
      for (const parent of parents) {
        let names: string[] = [];
        try {
          names = fs.readdirSync(parent);
        } catch {
          continue;
        }
        for (const name of names) {
          const dir = path.join(parent, name);
          const owner = POOLED_NAME.exec(name)?.[1];
          if (owner === undefined || inUse.has(dir) || mine.has(dir)) continue;
          if (Number(owner) === process.pid || !alive(Number(owner))) rmdirQuiet(dir);
        }
      }
    },
  };
}

function cgroupV1(parents: Record<string, string>): LimitSetup {
  return pooledSetup(
    'cgroup-v1',
    parents.cpu
      ? { enforced: true, why: 'cgroup-v1' }
      : { enforced: false, why: 'not enforced: the cgroup v1 cpu controller is not usable' },
    Object.values(parents),
    (name) => {
      const dirs: string[] = [];
      let memoryDir: string | null = null;
      let cpuDir: string | null = null;
      for (const [controller, parentDir] of Object.entries(parents)) {
        const dir = path.join(parentDir, name);
        fs.mkdirSync(dir);
        dirs.push(dir);
        if (controller === 'memory') memoryDir = dir;
        else if (controller === 'cpu') cpuDir = dir;
      }
      return { version: 1, dirs, memoryDir, cpuDir };
    },
    (cg, before, after) => {
      if (cg.memoryDir && after.memoryBytes !== (before?.memoryBytes ?? 0)) {
        // memsw must stay ≥ the memory limit at every step: raise it first, lower it last.
        const limit = after.memoryBytes > 0 ? String(after.memoryBytes) : '-1';
        const memsw = path.join(cg.memoryDir, 'memory.memsw.limit_in_bytes');
        const hasMemsw = fs.existsSync(memsw);
        const raising = after.memoryBytes <= 0 || (before !== null && before.memoryBytes > 0 && after.memoryBytes > before.memoryBytes);
        const writeMemsw = () => {
          try {
            writeFile(memsw, limit);
          } catch {
            // swap accounting present but not settable: the memory limit still applies
          }
        };
        if (hasMemsw && raising) writeMemsw();
        writeFile(path.join(cg.memoryDir, 'memory.limit_in_bytes'), limit);
        if (hasMemsw && !raising) writeMemsw();
      }
      if (cg.cpuDir && after.cpuMillis !== (before?.cpuMillis ?? 0)) {
        if (before === null) writeFile(path.join(cg.cpuDir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        writeFile(path.join(cg.cpuDir, 'cpu.cfs_quota_us'), after.cpuMillis > 0 ? String(cpuQuota(after.cpuMillis)) : '-1');
      }
      if (after.uid !== (before?.uid ?? null)) {
        for (const dir of cg.dirs) fs.chownSync(path.join(dir, 'cgroup.procs'), after.uid ?? ownUid(), -1);
      }
    },
  );
}

function cgroupV2(parentDir: string, enabled: string[]): LimitSetup {
  const cpu = enabled.includes('cpu');
  return pooledSetup(
    'cgroup-v2',
    cpu
      ? { enforced: true, why: 'cgroup-v2' }
      : { enforced: false, why: `not enforced: the cgroup v2 cpu controller is not enabled under ${parentDir}` },
    [parentDir],
    (name) => {
      const dir = path.join(parentDir, name);
      fs.mkdirSync(dir);
      const swap = path.join(dir, 'memory.swap.max');
      try {
        if (fs.existsSync(swap)) writeFile(swap, '0');
      } catch {
        // no swap control; the memory limit still applies
      }
      return { version: 2, dirs: [dir], memoryDir: dir, cpuDir: cpu ? dir : null };
    },
    (cg, before, after) => {
      const dir = cg.dirs[0]!;
      if (after.memoryBytes !== (before?.memoryBytes ?? 0)) {
        writeFile(path.join(dir, 'memory.max'), after.memoryBytes > 0 ? String(after.memoryBytes) : 'max');
      }
      if (cg.cpuDir && after.cpuMillis !== (before?.cpuMillis ?? 0)) {
        writeFile(path.join(dir, 'cpu.max'), `${after.cpuMillis > 0 ? cpuQuota(after.cpuMillis) : 'max'} ${CPU_PERIOD_US}`);
      }
      if (after.uid !== (before?.uid ?? null)) fs.chownSync(path.join(dir, 'cgroup.procs'), after.uid ?? ownUid(), -1);
    },
  );
}

function rmdirQuiet(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // busy (members left) or gone
  }
}

function ownUid(): number {
  return process.getuid?.() ?? 0;
}

function cpuQuota(cpuMillis: number): number {
  return Math.max(1000, Math.round((cpuMillis * CPU_PERIOD_US) / 1000));
}

/**
 * argv prefix that moves the shell into the attempt's cgroups, then execs the workload:
 * `/bin/sh -c SCRIPT cejobs-join <procs files…> -- <program> <args…>`. The script is fixed;
 * paths and argv are passed as arguments, never interpolated into it.
 */
export const JOIN_SCRIPT =
  'while [ "$1" != "--" ]; do echo $$ > "$1" || { echo "cejobs: cannot join cgroup $1" >&2; exit 126; }; shift; done; shift; exec "$@"';

export function joinWrapper(procs: string[]): string[] {
  return ['/bin/sh', '-c', JOIN_SCRIPT, 'cejobs-join', ...procs, '--'];
}

/** The `cgroup.procs` files a workload writes its pid into to join the attempt's cgroups. */
export function procsFiles(cg: AttemptCgroup): string[] {
  return cg.dirs.map((d) => path.join(d, 'cgroup.procs'));
}

/**
 * Pids currently in the attempt's cgroups. Every process of an attempt is in all of them (the
 * main process joins each before it execs; children inherit them; leaving takes a privileged
 * write, which escapes the limits anyway), so one directory tells.
 */
export function cgroupMembers(cg: AttemptCgroup): number[] {
  const pids: number[] = [];
  try {
    for (const line of fs.readFileSync(path.join(cg.dirs[0]!, 'cgroup.procs'), 'utf8').split('\n')) {
      const pid = Number(line);
      if (pid > 0) pids.push(pid);
    }
  } catch {
    // removed already
  }
  if (pids.length === 0) emptied.add(cg);
  return pids;
}

/**
 * Cgroups seen without members. Nothing joins an empty attempt cgroup again (a process joins
 * by inheriting it from a member, or by a privileged write), so `release` need not look again.
 */
const emptied = new WeakSet<AttemptCgroup>();

/** Number of OOM kills the kernel did in the attempt's memory cgroup while the attempt had it. */
export function oomKills(cg: AttemptCgroup): number {
  return Math.max(0, oomCount(cg) - (cg.oomBaseline ?? 0));
}

/** The kernel's OOM kill counter of the memory cgroup (it only grows). */
function oomCount(cg: AttemptCgroup): number {
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
