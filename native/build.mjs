#!/usr/bin/env node
/**
 * Builds the launcher's native addon (native/spawn.c and the log pump native/logpump.c →
 * native/build/cejobs_spawn.node)
 * with the system C compiler against Node's own headers (Node-API: no linking against Node, no
 * download). Optional: when it cannot be built, the launcher falls back to Node's
 * child_process.spawn, which is slower, and `ce server status` says so. CEJOBS_NATIVE_REQUIRED=1
 * makes a failed build an error.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(dir, 'build', 'cejobs_spawn.node');
const sources = ['spawn.c', 'logpump.c'].map((f) => path.join(dir, f));
const inputs = [...sources, path.join(dir, 'logpump.h')];
if (fs.existsSync(out) && inputs.every((f) => fs.statSync(out).mtimeMs >= fs.statSync(f).mtimeMs)) process.exit(0);

const includeDirs = [
  process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
  path.join(path.dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter((d) => d && fs.existsSync(path.join(d, 'node_api.h')));

let why;
if (includeDirs.length === 0) {
  why = "Node's headers (node_api.h) were not found";
} else {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', `-I${includeDirs[0]}`, ...sources, '-pthread', '-o', tmp], { encoding: 'utf8' });
  if (r.status === 0) {
    fs.renameSync(tmp, out);
    process.exit(0);
  }
  fs.rmSync(tmp, { force: true });
  why = r.error ? `${cc}: ${r.error.message}` : (r.stderr || `exit ${r.status}`).trim();
}
const message = `cejobs: the native spawn addon was not built (${why}); the launcher will use Node's child_process.spawn, which is slower`;
if (process.env.CEJOBS_NATIVE_REQUIRED === '1') {
  console.error(message);
  process.exit(1);
}
console.warn(message);
