import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { createProcessDriver, shutdownLauncher } from '../../src/drivers/process/driver.js';
import { runDriverConformance } from '../conformance/driver-conformance.js';

/** The launcher's log and journal of attempts: never to hold a secret's content. */
const launcherFiles = (dir: string) => () => [path.join(dir, 'launcher.log'), path.join(dir, 'journal')].filter((f) => fs.existsSync(f));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-process-conf-'));
const launcherDir = path.join(root, 'launcher');
const rssLauncherDir = path.join(root, 'launcher-rss');

// Default mode: cgroups where the host allows them.
runDriverConformance('process', () => createProcessDriver({ launcherDir, idleExitMs: 5_000 }), {
  hostProcesses: true,
  diagnosticFiles: launcherFiles(launcherDir),
});

// Without cgroups: stop and cleanup rely on process groups and sessions alone. This launcher
// also starts instances with Node's child_process.spawn (the fallback when the native addon is
// not built), so the suite covers both spawn paths.
runDriverConformance(
  'process-rss-watch',
  () => createProcessDriver({ launcherDir: rssLauncherDir, idleExitMs: 5_000, limitMode: 'rss-watch', spawnMode: 'node' }),
  { hostProcesses: true, diagnosticFiles: launcherFiles(rssLauncherDir) },
);

afterAll(async () => {
  await shutdownLauncher(launcherDir, { force: true });
  await shutdownLauncher(rssLauncherDir, { force: true });
  fs.rmSync(root, { recursive: true, force: true });
});
