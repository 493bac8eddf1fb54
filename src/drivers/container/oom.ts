/**
 * OOM detection where the engine does not report it: Podman 4.3 on cgroup v1 leaves
 * `State.OOMKilled` false and emits no `oom` event (Docker does both), and the container's own
 * memory cgroup — whose `memory.oom_control` counts the kill — is removed before the `die`
 * event arrives.
 *
 * So on a local Podman with a writable cgroup v1 memory hierarchy, each container runs under a
 * per-attempt cgroup parent `/cejobs-containers/<container name>` that this driver owns. The
 * container's limit stays on the container; the parent only *accounts*: its
 * `memory.max_usage_in_bytes` (the peak of the container's charges) survives the container.
 * An attempt that ended with 137 (SIGKILL) without a stop from cejobs, whose peak reached the
 * limit (≥ 98 %), was killed by the kernel's OOM killer. The parent is removed at release.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CGROUP_PARENT_ROOT = '/cejobs-containers';
const CGROUP_FS = '/sys/fs/cgroup';

/** Whether per-attempt cgroup parents can be used here (cgroup v1 memory hierarchy, writable). */
export function cgroupParentsUsable(): boolean {
  const mem = path.join(CGROUP_FS, 'memory');
  if (!fs.existsSync(path.join(mem, 'memory.limit_in_bytes'))) return false;
  try {
    fs.mkdirSync(path.join(mem, CGROUP_PARENT_ROOT), { recursive: true });
    return true;
  } catch {
    return false;
  }
}

export function cgroupParentOf(containerName: string): string {
  return `${CGROUP_PARENT_ROOT}/${containerName}`;
}

/** Peak memory of the parent cgroup, or `undefined` when it cannot be read. */
export function peakMemoryOf(cgroupParent: string): number | undefined {
  try {
    const v = Number(fs.readFileSync(path.join(CGROUP_FS, 'memory', cgroupParent, 'memory.max_usage_in_bytes'), 'utf8').trim());
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True when the peak shows the limit was reached. */
export function peakReachedLimit(peak: number | undefined, limit: number): boolean {
  return peak !== undefined && limit > 0 && peak >= limit * 0.98;
}

/** Removes the parent in every controller hierarchy that has it (best effort). */
export function removeCgroupParent(cgroupParent: string): void {
  let controllers: string[];
  try {
    controllers = fs.readdirSync(CGROUP_FS);
  } catch {
    return;
  }
  for (const c of controllers) {
    const dir = path.join(CGROUP_FS, c, cgroupParent);
    try {
      // Podman's cgroupfs manager may leave an empty libpod-<id> child behind.
      for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
        if (child.isDirectory()) fs.rmdirSync(path.join(dir, child.name));
      }
      fs.rmdirSync(dir);
    } catch {
      // absent, busy or a symlinked duplicate (cpu,cpuacct): nothing to do
    }
  }
}
