/**
 * Measurements the launcher takes periodically when the kernel does not enforce a limit:
 * resident memory of each attempt's processes (one /proc scan for all attempts) and the size of
 * each attempt's scratch directory (a bounded walk).
 */
import fs from 'node:fs';
import path from 'node:path';

const PAGE_SIZE = 4096;

/**
 * Resident bytes per session/process-group id, from one scan of /proc. An attempt's processes
 * all start in a session (and group) whose id is the main pid; a process counts for an id when
 * its session or its group is that id.
 */
export function rssByGroup(ids: Set<number>): Map<number, number> {
  const out = new Map<number, number>();
  if (ids.size === 0) return out;
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0]=state(3) f[1]=ppid(4) f[2]=pgrp(5) f[3]=session(6) … f[21]=rss(24, pages)
    const pgrp = Number(f[2]);
    const session = Number(f[3]);
    const id = ids.has(session) ? session : ids.has(pgrp) ? pgrp : 0;
    if (!id) continue;
    const rss = Number(f[21]) * PAGE_SIZE;
    if (Number.isFinite(rss)) out.set(id, (out.get(id) ?? 0) + rss);
  }
  return out;
}

let groupScan: { at: number; byId: Map<number, number[]> } | null = null;

/**
 * Pids whose session or process group is `id`. One /proc scan serves every call within
 * `maxAgeMs` (many attempts often end at once).
 */
export function pidsOfGroup(id: number, maxAgeMs = 20): number[] {
  const now = Date.now();
  if (!groupScan || now - groupScan.at > maxAgeMs) {
    const byId = new Map<number, number[]>();
    let names: string[] = [];
    try {
      names = fs.readdirSync('/proc');
    } catch {
      // no /proc
    }
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (f[0] === 'Z') continue;
        const pid = Number(name);
        const pgrp = Number(f[2]);
        const session = Number(f[3]);
        for (const key of pgrp === session ? [pgrp] : [pgrp, session]) {
          const list = byId.get(key);
          if (list) list.push(pid);
          else byId.set(key, [pid]);
        }
      } catch {
        // exited meanwhile
      }
    }
    groupScan = { at: now, byId };
  }
  return groupScan.byId.get(id) ?? [];
}

/**
 * The environment variable that marks every process of an attempt (the launcher sets it to the
 * attempt id; children inherit it). Without cgroups it is how the launcher finds what left the
 * attempt's session (`setsid`, double forks) when it must stop it — as Jenkins' process tree
 * killer does with its cookie. A workload that clears its environment can still escape it.
 */
export const ATTEMPT_MARKER = 'CEJOBS_ATTEMPT_ID';

let markerScan: { at: number; byId: Map<string, number[]> } | null = null;

/** Pids whose environment holds `CEJOBS_ATTEMPT_ID=<attemptId>` (one /proc scan per `maxAgeMs`). */
export function pidsMarked(attemptId: string, maxAgeMs = 20): number[] {
  const now = Date.now();
  if (!markerScan || now - markerScan.at > maxAgeMs) {
    const byId = new Map<string, number[]>();
    let names: string[] = [];
    try {
      names = fs.readdirSync('/proc');
    } catch {
      // no /proc
    }
    const key = `${ATTEMPT_MARKER}=`;
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57 || Number(name) === process.pid) continue;
      let environ: string;
      try {
        environ = fs.readFileSync(`/proc/${name}/environ`, 'latin1');
      } catch {
        continue; // exited meanwhile, or not ours to read
      }
      let at = 0;
      if (!environ.startsWith(key)) {
        at = environ.indexOf(`\0${key}`) + 1;
        if (at === 0) continue;
      }
      const end = environ.indexOf('\0', at + key.length);
      const id = environ.slice(at + key.length, end < 0 ? undefined : end);
      const list = byId.get(id);
      if (list) list.push(Number(name));
      else byId.set(id, [Number(name)]);
    }
    markerScan = { at: now, byId };
  }
  return markerScan.byId.get(attemptId) ?? [];
}

/**
 * Disk usage of a directory tree (allocated blocks, like `du`), visiting at most `maxEntries`
 * entries so a tree of millions of files cannot stall the launcher. `complete` is false when the
 * walk stopped early (the number is then a lower bound); `entries` counts what it visited.
 */
export function dirUsage(dir: string, maxEntries = 20_000): { bytes: number; complete: boolean; entries: number } {
  let bytes = 0;
  let visited = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++visited > maxEntries) return { bytes, complete: false, entries: visited };
      const p = path.join(d, e.name);
      try {
        const st = fs.lstatSync(p);
        bytes += Math.max(st.blocks * 512, 0);
        if (st.isDirectory()) stack.push(p);
      } catch {
        // removed meanwhile
      }
    }
  }
  return { bytes, complete: true, entries: visited };
}
