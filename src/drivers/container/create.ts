/**
 * What a container of one attempt looks like: its name, labels, image reference, command,
 * environment, limits, mounts, user, hostname and network (`createOptionsOf`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { InstanceSpec } from '../driver.js';
import type { EngineKind } from './engine.js';

/** Label keys; `cejobs.attempt` is the identity, `cejobs.owner` scopes a driver's scans. */
export const LABEL = {
  attempt: 'cejobs.attempt',
  project: 'cejobs.project',
  run: 'cejobs.run',
  index: 'cejobs.index',
  retry: 'cejobs.retry',
  instance: 'cejobs.instance',
  owner: 'cejobs.owner',
  workDir: 'cejobs.workdir',
  logPath: 'cejobs.logpath',
  memory: 'cejobs.memory',
  storage: 'cejobs.storage',
} as const;

/** `cejobs-<attemptId>` with dots replaced by `_` (a valid, unique container name). */
export function containerNameOf(attemptId: string): string {
  return `cejobs-${attemptId.replace(/\./g, '_')}`;
}

/**
 * Completes an image reference like Code Engine does: the registry defaults to `docker.io`
 * (and `library/` for a single-component name), the tag to `latest` unless a tag or a digest
 * is given. `busybox` → `docker.io/library/busybox:latest`; `icr.io/ns/app@sha256:…` stays.
 */
export function normalizeImage(ref: string): string {
  let name = ref.trim();
  let digest = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = slash >= 0 ? `docker.io/${name}` : `docker.io/library/${name}`;
  const lastSlash = name.lastIndexOf('/');
  const hasTag = name.slice(lastSlash + 1).includes(':');
  if (!hasTag && !digest) name += ':latest';
  return name + digest;
}

/** The registry host of a normalised reference (`docker.io`, `127.0.0.1:5055`, …). */
export function registryOf(normalizedRef: string): string {
  return normalizedRef.slice(0, normalizedRef.indexOf('/'));
}

export interface CreateContext {
  engine: EngineKind;
  owner: string;
  network: string;
  /** Podman on cgroup v1: the per-attempt cgroup parent used to detect OOM kills. */
  cgroupParent?: string;
}

/** Writes the mounts of `spec` under `workDir/mounts/<n>` and returns the bind mounts. */
export function materializeMounts(spec: InstanceSpec): Docker.MountSettings[] {
  const out: Docker.MountSettings[] = [];
  if (spec.mounts.length === 0) return out;
  const root = path.join(spec.workDir, 'mounts');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  spec.mounts.forEach((m, n) => {
    const dir = path.join(root, String(n));
    fs.mkdirSync(dir, { mode: 0o755 });
    const fileMode = m.source === 'secret' ? 0o400 : 0o444;
    for (const [key, value] of Object.entries(m.files)) {
      const file = path.join(dir, key);
      fs.writeFileSync(file, value, { mode: fileMode });
      fs.chmodSync(file, fileMode);
      if (spec.runAsUser > 0) chownQuiet(file, spec.runAsUser);
    }
    fs.chmodSync(dir, m.source === 'secret' ? 0o500 : 0o555);
    if (spec.runAsUser > 0) chownQuiet(dir, spec.runAsUser);
    out.push({ Type: 'bind', Source: dir, Target: m.mountPath, ReadOnly: true });
  });
  return out;
}

function chownQuiet(file: string, uid: number): void {
  try {
    fs.chownSync(file, uid, uid);
  } catch {
    // not root: the workload reads what the mode allows
  }
}

/** Removes what `materializeMounts` wrote (secret contents are kept only while needed). */
export function removeMounts(workDir: string): void {
  try {
    fs.rmSync(path.join(workDir, 'mounts'), { recursive: true, force: true });
  } catch {
    // best effort
  }
}

/** The create body of the container of `spec` (image already normalised and present). */
export function createOptionsOf(spec: InstanceSpec, image: string, mounts: Docker.MountSettings[], ctx: CreateContext): Docker.ContainerCreateOptions {
  const labels: Record<string, string> = {
    [LABEL.attempt]: spec.attemptId,
    [LABEL.project]: spec.projectId,
    [LABEL.run]: spec.runId,
    [LABEL.index]: String(spec.index),
    [LABEL.retry]: String(spec.retry),
    [LABEL.instance]: spec.instanceName,
    [LABEL.owner]: ctx.owner,
    [LABEL.workDir]: spec.workDir,
    [LABEL.logPath]: spec.logPath,
    [LABEL.memory]: String(spec.limits.memoryBytes),
    [LABEL.storage]: String(spec.limits.ephemeralStorageBytes),
  };
  const hostConfig: Docker.HostConfig = {
    NetworkMode: ctx.network,
    // Removal is explicit (at release): AutoRemove + wait reports exit code 0 on Podman.
    AutoRemove: false,
    Mounts: mounts,
  };
  if (spec.limits.memoryBytes > 0) {
    hostConfig.Memory = spec.limits.memoryBytes;
    hostConfig.MemorySwap = spec.limits.memoryBytes; // no swap beyond the limit
  }
  if (spec.limits.cpuMillis > 0) hostConfig.NanoCpus = spec.limits.cpuMillis * 1_000_000;
  if (ctx.cgroupParent) hostConfig.CgroupParent = ctx.cgroupParent;
  const body: Docker.ContainerCreateOptions = {
    name: containerNameOf(spec.attemptId),
    Image: image,
    Hostname: spec.instanceName.slice(0, 63),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    HostConfig: hostConfig,
  };
  // §1.9: run_commands replaces ENTRYPOINT and CMD; run_arguments alone replaces CMD.
  if (spec.command.length > 0) {
    body.Entrypoint = spec.command;
    body.Cmd = spec.args;
  } else if (spec.args.length > 0) {
    body.Cmd = spec.args;
  }
  // run_as_user 0 (the default) keeps the image's USER; any other uid runs as that uid.
  if (spec.runAsUser > 0) body.User = String(spec.runAsUser);
  return body;
}
